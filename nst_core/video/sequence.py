"""Stylize a clip frame by frame, steady from one frame to the next (Ruder, Dosovitskiy & Brox 2016).

Frame 1 runs the options' full schedule (coarse to fine), as a still would. Every later frame t
  1. starts from the previous result carried along the content's flow, w = warp(O_{t-1}) (``flow``), where the flow
     is trusted (mask c), and from the options' own start (``init``, e.g. the content in the style's colours) where
     it is not (what was hidden or outside frame t-1);
  2. minimises J + gamma D J_temporal (``temporal``) at the final size only, for ``frame_steps`` steps.

Per frame, as for a still: the style blend, preserve_color, match_style_colors (the style gets each frame's
colours), a regions mask (fixed in the frame: it does not move with the content), palette_only (every frame on its
own: nothing is optimised, so nothing flickers).
"""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..checks import InputError, real_number, whole_number
from ..estimate import Plan
from ..options import StyleOptions
from ..stylize import Progress
from .flow import previous_frame_flow, warp
from .temporal import TemporalStyleTransfer, TemporalTarget

TEMPORAL_WEIGHT = 1e10  # gamma (benchmarks/bench_video.py --weights; docs/performance.md, "Video")
FRAME_STEP_SHARE = 0.5  # later frames: this share of the final stage's steps, at least 1 (bench_video.py --steps)
MAX_TEMPORAL_WEIGHT = 1e12


def frame_steps_for(options: StyleOptions, frame_steps: int = 0) -> int:
    """Steps of each frame after the first: ``frame_steps``, or 0 for ``FRAME_STEP_SHARE`` of the final stage's."""
    if frame_steps:
        return whole_number("frame steps", frame_steps, 1, 100_000)
    return max(1, round(options.schedule()[-1][1] * FRAME_STEP_SHARE))


def later_options(options: StyleOptions, frame_steps: int = 0) -> StyleOptions:
    """The options of frames 2, 3, …: one scale (the final size), ``frame_steps_for`` steps."""
    return dataclasses.replace(options, scales=1, steps=frame_steps_for(options, frame_steps))


def duration(seconds: float) -> str:
    """'under 1 s', 'about 40 s', 'about 3 min 20 s'."""
    if seconds < 1:
        return "under 1 s"
    minutes, rest = divmod(round(seconds), 60)
    return f"about {minutes} min {rest} s" if minutes else f"about {rest} s"


@dataclass
class ClipPlan:
    """Time and memory of a clip before it starts: frame 1 as a still, then each later frame."""

    first: Plan
    later: Plan
    frames: int

    @property
    def seconds(self) -> float:
        return self.first.seconds + (self.frames - 1) * self.later.seconds

    def text(self) -> str:
        h, w = self.first.shape
        return (f"{self.frames} frames at {w}×{h} px: {duration(self.seconds)} (frame 1 "
                f"{duration(self.first.seconds)}, then {duration(self.later.seconds)} each), "
                f"{max(self.first.peak_bytes, self.later.peak_bytes) / 1e9:.1f} GB")


@dataclass
class ClipProgress:
    """One optimizer step of one frame; ``result`` is set when a frame is finished, ``done`` at the end."""

    frame: int  # 0-based frame being stylized
    frames: int
    progress: Progress | None  # that frame's step (None on the final report)
    elapsed: float  # seconds since the clip started
    remaining: float  # estimated seconds left
    results: list[np.ndarray]  # the finished frames so far (shared list: do not modify)
    result: np.ndarray | None = None  # the frame just finished
    done: bool = False
    stopped: bool = False


class ClipStylizer:
    """Holds the two ``TemporalStyleTransfer``s (frame 1's options; later frames') sharing one VGG19."""

    def __init__(self, options: StyleOptions, temporal_weight: float = TEMPORAL_WEIGHT, frame_steps: int = 0):
        self.options = options.validate()
        self.temporal_weight = real_number("temporal weight", temporal_weight, 0, MAX_TEMPORAL_WEIGHT)
        self.first = TemporalStyleTransfer(options)
        self.later = TemporalStyleTransfer(later_options(options, frame_steps))

    def plan(self, frame_shape: tuple[int, int], frames: int) -> ClipPlan:
        """``ClipPlan`` on this machine; ``InputError`` where a frame would need tiling (a clip stays small)."""
        clip = ClipPlan(self.first.plan(frame_shape), self.later.plan(frame_shape), frames)
        if clip.first.tile or clip.later.tile:
            raise InputError(f"at {self.options.size} px a frame does not fit the memory budget whole; choose a "
                             "smaller size for a clip.")
        return clip

    def start_of_frame(self, content: np.ndarray, styles: Sequence[np.ndarray], previous_content: np.ndarray,
                       previous_result: np.ndarray) -> tuple[np.ndarray, TemporalTarget]:
        """Frame t's start, c w + (1 - c) init(content), and its temporal target (w, c, gamma)."""
        t = self.later
        backward, mask = previous_frame_flow(previous_content, content)
        warped = warp(previous_result, backward, cv2.INTER_CUBIC)  # bicubic: no blur piling up frame after frame
        c = mask[..., None]
        start = (c * warped.astype(np.float32) + (1 - c) * t.own_start(content, styles).astype(np.float32)).round()
        return start.astype(np.uint8), TemporalTarget.from_arrays(warped, mask, self.temporal_weight, t.device)

    def iter_stylize(self, frames: Sequence[np.ndarray], styles: Sequence[np.ndarray], *,
                     regions: np.ndarray | None = None, stop: threading.Event | None = None,
                     finished: Sequence[np.ndarray] = (), estimate: ClipPlan | None = None) -> Iterator[ClipProgress]:
        """Stylize ``frames`` (RGB uint8, one size); yield a ``ClipProgress`` per step. ``finished``: results of the
        first frames from an earlier run, continued from. The last report has ``done=True``; after a Stop the
        results hold the finished frames only (the interrupted one is in ``result``)."""
        n, start = len(frames), time.perf_counter()
        results = list(finished)
        estimate = estimate or self.plan(frames[0].shape[:2], n)
        later_times: list[float] = []  # seconds of each later frame so far: the time left from them
        # every frame takes frame 1's style balance, so that beta does not flicker with the frames' content; frame
        # 1 takes the targets measured for it
        balance, known = self.first.balance_and_targets(frames[0], styles, self.options.blend_weights(len(styles)))
        for transfer in (self.first, self.later):  # a later frame's own start (start_of_frame) takes it too
            transfer.fixed_balance = transfer.balance = balance
        self.first.known_targets = known if not results else {}
        for t in range(len(results), n):
            frame_start = time.perf_counter()
            if t == 0:
                transfer, resume = self.first, None
            else:
                init, self.later.target = self.start_of_frame(frames[t], styles, frames[t - 1], results[-1])
                transfer, resume = self.later, (init, 0, 0)
            for p in transfer.iter_stylize(frames[t], styles, regions=regions, stop=stop, resume=resume):
                elapsed = time.perf_counter() - start
                per_later = np.mean(later_times) if later_times else estimate.later.seconds
                this_left = (p.remaining if p.step else (estimate.first if t == 0 else estimate.later).seconds)
                left = (0 if p.done else this_left) + (n - t - 1) * per_later
                if not p.done:
                    yield ClipProgress(t, n, p, elapsed, left, results)
                    continue
                if p.stopped:
                    yield ClipProgress(t, n, None, elapsed, 0.0, results, p.image, done=True, stopped=True)
                    return
                results.append(p.image)
                if t > 0:
                    later_times.append(time.perf_counter() - frame_start)
                yield ClipProgress(t, n, p, elapsed, left, results, p.image, done=t == n - 1)
