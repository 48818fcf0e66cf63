"""What a schedule costs to reach a target J, counted in evaluations rather than seconds, so the count does not
depend on the machine's load.

One evaluation of J and dJ/dG at n pixels counts n / 512^2 "512-px evaluation equivalents" (its time is close to
proportional to its pixels: ``pixel_weights`` checks that with a timed evaluation at each size); a forward pass
without gradients (a stage's targets, the cost where a stage ends) counts ``FORWARD_SHARE`` of one.

``python benchmarks/bench_stylize.py --reach SIZE`` runs the schedule candidates through ``run_counted``; a
candidate that departs from nst_core's code (another start image per size, Adam at the coarse sizes, a content
weight scaled per size) is a subclass made by ``variant``.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

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


def variant(start: str = "bilinear", coarse_optimizer: str = "lbfgs", content_weight: str = "fixed",
            final_size: int = 512) -> type[CountingTransfer]:
    """A CountingTransfer that departs from nst_core's code in what the candidates try:

    * ``start="detail"``: a finer size starts from C_fine + up(G_coarse - C_coarse) instead of nst_core's
      up(G_coarse) (``StyleTransfer._stage_start``);
    * ``coarse_optimizer="adam"``: Adam at the sizes below ``final_size``, L-BFGS at the final one;
    * ``content_weight="per size"``: alpha (final_size / this size)^2 below the final size, so that alpha J_content
      against beta J_style weighs as at the final size (J_content grows with the pixels, J_style does not).
    """
    class Variant(CountingTransfer):
        if start == "detail":
            @staticmethod
            def _stage_start(coarse_G, coarse_content01, content01):
                def up(v):
                    return F.interpolate(v, size=content01.shape[-2:], mode="bilinear", align_corners=False)
                return content01 + up(coarse_G - coarse_content01)

        if coarse_optimizer == "adam":
            def _optimizer(self, G, history):
                if max(G.shape[-2:]) < final_size:
                    return torch.optim.Adam([G], lr=self.options.learning_rate)
                return super()._optimizer(G, history)

        if content_weight == "per size":
            def costs(self, G, *args, **kw):
                alpha = self.options.alpha
                self.options.alpha = alpha * final_size ** 2 / max(G.shape[-2:]) ** 2
                try:
                    return super().costs(G, *args, **kw)
                finally:
                    self.options.alpha = alpha
    return Variant


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
