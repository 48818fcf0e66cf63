"""What a schedule costs to reach a target J, counted in evaluations rather than seconds, so the count does not
depend on the machine's load.

One evaluation of J and dJ/dG at n pixels counts n / 512^2 "512-px evaluation equivalents" (its time is close to
proportional to its pixels: ``pixel_weights`` checks that with a timed evaluation at each size); a forward pass
without gradients (a stage's targets, the cost where a stage ends) counts ``FORWARD_SHARE`` of one.

    python benchmarks/reach_cost.py --size 256 --out reach.json      # today's Quick schedule at 256 px

``python benchmarks/bench_stylize.py --reach`` runs the schedule candidates through ``reach``.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nst_core.estimate import FORWARD_SHARE  # noqa: E402
from nst_core.options import StyleOptions  # noqa: E402
from nst_core.stylize import StyleTransfer  # noqa: E402

REFERENCE_PIXELS = 512 * 512


@dataclass
class Ledger:
    """VGG19 passes so far: counted, in 512-px evaluation equivalents, and timed; and the trace at the final size."""

    equivalents: float = 0.0
    evaluations: int = 0  # passes with gradients: J and dJ/dG
    forwards: int = 0  # passes without: a stage's targets, J where a stage ends
    eval_seconds: float = 0.0  # from the start of each evaluation's forward to the end of its backward
    forward_seconds: float = 0.0
    trace: list = field(default_factory=list)  # (equivalents, J) after each step at the final size


class CountingTransfer(StyleTransfer):
    """A StyleTransfer whose every VGG19 pass is counted and timed: with gradients as an evaluation (until its
    backward reaches the image), without as a forward."""

    ledger: Ledger

    def features(self, rgb01, layers):
        weight = rgb01.shape[-2] * rgb01.shape[-1] / REFERENCE_PIXELS
        start = time.perf_counter()
        if not (torch.is_grad_enabled() and rgb01.requires_grad):
            self.ledger.forwards += 1
            self.ledger.equivalents += FORWARD_SHARE * weight
            out = super().features(rgb01, layers)
            self.ledger.forward_seconds += time.perf_counter() - start
            return out
        self.ledger.evaluations += 1
        self.ledger.equivalents += weight

        def backward_done(grad):  # dJ/d(image) is computed: this evaluation is over
            self.ledger.eval_seconds += time.perf_counter() - start
            handle.remove()

        handle = rgb01.register_hook(backward_done)
        return super().features(rgb01, layers)


def run_counted(transfer: CountingTransfer, content, style, target: float | None = None) -> tuple[Ledger, float]:
    """Stylize, tracing (equivalents, J) at each step of the final size; returns the ledger and the final J.
    With ``target``, the run stops once J at the final size is at most ``target``."""
    stop = threading.Event()
    transfer.ledger = Ledger()
    transfer.evaluation_cost()  # the run's plan calibrates once per machine: not part of the schedule's cost
    transfer.ledger = ledger = Ledger()
    final = None
    for p in transfer.iter_stylize(content, [style], stop=stop):
        if p.done:
            final = p.J
        elif max(p.size) == transfer.options.size:
            ledger.trace.append((ledger.equivalents, p.J))
            if target is not None and p.J <= target:
                stop.set()
    return ledger, final


def with_stages(options: StyleOptions, stages: list[tuple[int, int]]) -> StyleOptions:
    """``options`` whose schedule is ``stages`` [(long edge, steps), ...]: a schedule, such as an earlier default,
    that the options' own fields may not express."""
    options.schedule = lambda: list(stages)
    return options


def equivalents_to(ledger: Ledger, target: float) -> float | None:
    """The equivalents spent when J first reached ``target`` at the final size (None if it never did)."""
    return next((eq for eq, J in ledger.trace if J <= target), None)


def pixel_weights(transfer: StyleTransfer, sizes=(256, 512), repeats: int = 3) -> dict:
    """CPU seconds of one evaluation (forward and backward) at each of ``sizes``, and their ratio against the
    ratio of pixels: how far "time proportional to pixels" holds here."""
    gen = torch.Generator().manual_seed(0)
    seconds = {}
    for n in sizes:
        image = torch.rand(1, 3, n, n, generator=gen)
        a_C, grams = transfer.targets(image, [image])
        G = image.clone().requires_grad_(True)
        transfer.costs(G, a_C, grams, [1.0])["J"].backward()  # warm-up
        runs = []
        for _ in range(repeats):
            start = time.process_time()
            transfer.costs(G, a_C, grams, [1.0])["J"].backward()
            runs.append(time.process_time() - start)
        seconds[n] = min(runs)
    small, large = sizes
    return {"cpu_seconds": seconds, "time_ratio": seconds[small] / seconds[large],
            "pixel_ratio": (small / large) ** 2}


def main(argv=None) -> None:
    from same_objective import sample_pair

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--options", default='{"steps": 12, "scales": 4}', help="StyleOptions fields as JSON")
    p.add_argument("--out", help="JSON report")
    args = p.parse_args(argv)
    content, style = sample_pair(args.size)
    options = StyleOptions(**{"size": args.size, "precision": "fp32", "device": "cpu", **json.loads(args.options)})
    ledger, final = run_counted(CountingTransfer(options), content, style)
    report = {"options": options.to_dict(), "final_J": final, "equivalents": ledger.equivalents,
              "evaluations": ledger.evaluations, "forwards": ledger.forwards}
    print(json.dumps(report))
    if args.out:
        Path(args.out).write_text(json.dumps({**report, "trace": ledger.trace}, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
