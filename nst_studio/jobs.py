"""Long CPU jobs for the app: each runs in its own worker thread, one per browser session and tab.

The Gradio handler only relays what the worker produces. Stop sets the job's stop
event: the worker finishes its current optimizer step and delivers its final item
(the best image so far, with its cost plot), which the running handler relays as
its last output and the Stop handler returns too; nothing is cancelled half-way, so
no output is left blank. A job that runs past its time budget is stopped the same way.
"""
from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from nst_core.estimate import job_budget_seconds

# Every CPU-heavy event shares this concurrency group: one job at a time on a 2-core Space.
CPU_HEAVY = {"concurrency_id": "cpu-heavy", "concurrency_limit": 1}
# Seconds a job may run before it is stopped and shows its best result (override with NST_JOB_BUDGET_S).
JOB_BUDGET_S = job_budget_seconds()
_END = object()


class Job:
    """Runs ``work(job)`` (an iterator of display items that watches ``job.stop_event``) in a daemon thread.

    ``stream()`` yields the items as they arrive; ``stop()`` ends the job and returns
    its last item. The job stops itself once ``budget_s`` seconds have passed.
    """

    def __init__(self, work: Callable[[Job], Iterator[Any]], budget_s: float):
        self.stop_event = threading.Event()
        self.finished = threading.Event()
        self.over_budget = False
        self.last: Any = None
        self.error: BaseException | None = None
        self._items: queue.Queue = queue.Queue()
        self._work, self._budget_s = work, budget_s
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        start = time.monotonic()
        try:
            for item in self._work(self):
                self.last = item
                self._items.put(item)
                if time.monotonic() - start > self._budget_s and not self.stop_event.is_set():
                    self.over_budget = True
                    self.stop_event.set()
        except Exception as e:  # handed to the consumer, whose handler turns it into a sentence (errors.py)
            self.error = e
        finally:
            self.finished.set()
            self._items.put(_END)

    def stream(self) -> Iterator[Any]:
        """The job's items in order; re-raises the job's error at the end. Closing it stops the job."""
        try:
            while (item := self._items.get()) is not _END:
                yield item
        finally:
            self.stop_event.set()  # the consumer went away (finished, cancelled or disconnected)
        if self.error is not None:
            raise self.error

    def stop(self, timeout: float = 60.0) -> Any:
        """Ask the job to end, wait for it (at most ``timeout`` s) and return its last item."""
        self.stop_event.set()
        self.finished.wait(timeout)
        return self.last


class JobBoard:
    """The latest job of each (session, tab) key, so a Stop button can find the job of its own session.

    A run first ``wait``s (an unqueued event, the moment the button is pressed) and then ``run``s when the queue
    gives it its turn; Stop in between means "don't start it", and ``stop`` says so.
    """

    QUEUED = object()  # what ``stop`` returns for a run that was still waiting for its turn

    def __init__(self):
        self._jobs: dict[str, Job] = {}
        self._waiting: set[str] = set()
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()

    def wait(self, key: str) -> None:
        """A run was asked for under ``key``; until it starts, a Stop cancels it."""
        with self._lock:
            self._waiting.add(key)
            self._cancelled.discard(key)

    @contextlib.contextmanager
    def preparing(self, key: str):
        """Around a run's checks, before ``run``: where they refuse it, the run is no longer waiting, so a later
        Stop finds nothing to cancel."""
        try:
            yield
        except BaseException:
            with self._lock:
                self._waiting.discard(key)
            raise

    def run(self, key: str, work: Callable[[Job], Iterator[Any]]) -> Iterator[Any]:
        """Start ``work`` under ``key`` (stopping any job still running there) and relay its items.

        The job's own failure is re-raised here, for the handler's ``explained`` to turn into a sentence.
        """
        with self._lock:
            self._waiting.discard(key)
            if key in self._cancelled:  # Stop was pressed while it waited: never start it
                self._cancelled.discard(key)
                return
            job = Job(work, JOB_BUDGET_S)
            old, self._jobs[key] = self._jobs.get(key), job
        if old is not None:
            old.stop_event.set()
        yield from job.stream()

    def stop(self, key: str) -> Any | None:
        """Stop the job under ``key`` and return its final item; ``QUEUED`` if the run had not started yet;
        None if there is no job or it failed."""
        with self._lock:
            if key in self._waiting:
                self._waiting.discard(key)
                self._cancelled.add(key)
                return self.QUEUED
            job = self._jobs.get(key)
        if job is None:
            return None
        item = job.stop()
        return item if job.finished.is_set() and job.error is None else None


def session_key(request: Any, tab: str) -> str:
    """The job key of a browser (or gradio_client) session in one tab."""
    return f"{getattr(request, 'session_hash', None) or 'anonymous'}:{tab}"
