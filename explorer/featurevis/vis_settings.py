"""Feature visualisation settings: every default in one place, read by ``python -m explorer visualize`` and the tab.

The image that maximises one unit is found by gradient ascent (Olah, Mordvintsev & Schubert, *Feature
Visualization*, Distill 2017). ``validate()`` is the one check of these values, whichever way they arrive.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import PngImagePlugin

from nst_core.checks import InputError
from nst_core.device import PRECISIONS
from nst_core.schema import check, setting

from .objectives import OBJECTIVES

PARAMS = ("fourier", "pixel")
MIN_SIZE, MAX_SIZE = 32, 512
PNG_KEY = "explorer:featurevis"  # PNG text chunk of a synthesised image: layer, units, settings, weights (JSON)
MAX_STEPS, MAX_TOTAL_STEPS, MAX_SCALES, MAX_COARSE_FACTOR, MAX_SEED = 5000, 20000, 4, 8, 2**63 - 1


@dataclass(frozen=True)
class VisSettings:
    """How one unit's image is synthesised: maximise the objective over an image of ``size`` pixels."""

    size: int = setting("image side in pixels", range=(MIN_SIZE, MAX_SIZE), default=128)
    steps: int = setting("Adam steps at the full size", range=(1, MAX_STEPS), default=16)
    scales: int = setting("coarse-to-fine: number of sizes, each half the next (1 = full size only)",
                          range=(1, MAX_SCALES), default=2)
    coarse_factor: int = setting("each coarser size gets this many times the steps of the next (4: a half-size step "
                                 "costs about a quarter, so every size takes about the same time)",
                                 range=(1, MAX_COARSE_FACTOR), default=4)
    learning_rate: float = setting("Adam's step size on the image parameters", range=(1e-5, 10), default=0.1)
    seed: int = setting("random seed of the start image and the transforms (same seed, same pixels)",
                        range=(0, MAX_SEED), widget="number", default=0)
    objective: str = setting("channel: mean of max(0, conv) over space; neuron: its centre position",
                             choices=OBJECTIVES, default="channel")
    param: str = setting("fourier: decorrelated spectrum (1/f scaled); pixel: the pixels themselves",
                         choices=PARAMS, label="parameterisation", default="fourier")
    decorrelate: bool = setting("colour decorrelation matching VGG's input statistics", default=True)
    transforms: bool = setting("transformation robustness: pad, jitter, scale, rotate at every step", default=True)
    precision: str = setting("convolutions in bf16 (auto: where the CPU has bf16 instructions) or fp32",
                             choices=PRECISIONS, default="auto")
    batch: int = setting("units optimised at once, one per batch item", range=(1, 256), default=16)

    def validate(self) -> "VisSettings":
        """These settings checked (``schema.check``) and converted to their fields' types, else ``InputError``
        naming the first bad one."""
        checked = dataclasses.replace(self, **check(self))
        checked.check_schedule()
        return checked

    def check_schedule(self) -> None:
        """The coarsest size and the steps of all sizes together within their bounds."""
        if self.size >> (self.scales - 1) < MIN_SIZE // 2:
            raise InputError(f"size {self.size} with {self.scales} scales starts below {MIN_SIZE // 2} px; "
                             "use fewer scales or a larger size.")
        if self.total_steps > MAX_TOTAL_STEPS:
            raise InputError(f"{self.steps} steps, {self.scales} scales and coarse factor {self.coarse_factor} make "
                             f"{self.total_steps} steps in all (at most {MAX_TOTAL_STEPS}); use fewer steps or "
                             "scales, or a smaller coarse factor.")

    def replace(self, **changes) -> "VisSettings":
        return dataclasses.replace(self, **changes).validate()

    def sizes(self) -> list[tuple[int, int]]:
        """The coarse-to-fine schedule, coarsest first: (size >> k, steps · coarse_factor^k), k = scales-1 … 0.

        The coarse sizes settle the layout cheaply, the few full-size steps add the fine detail."""
        return [(self.size >> k, self.steps * self.coarse_factor ** k) for k in reversed(range(self.scales))]

    @property
    def total_steps(self) -> int:
        """Adam steps of one run, all sizes together (what progress counts)."""
        return sum(n for _, n in self.sizes())


def png_info(layer: str, units: Sequence[int], settings: VisSettings, weights_identity: str) -> PngImagePlugin.PngInfo:
    """The PNG text chunk of a synthesised image: what it maximises and every setting, so it can be made again."""
    made = {"layer": layer, "units": list(units), "settings": dataclasses.asdict(settings), "weights": weights_identity}
    info = PngImagePlugin.PngInfo()
    info.add_text(PNG_KEY, json.dumps(made, sort_keys=True))
    return info
