"""The Layer-depth lab's form: its settings, defaults and ranges, and their one check (the tab, its API and its
links all go through ``LabSettings.validate``)."""
from __future__ import annotations

from dataclasses import dataclass

from nst_core.checks import whole_number
from nst_core.estimate import fitting_side, over_budget
from nst_core.memory import memory_budget


@dataclass(frozen=True)
class LabSettings:
    """The lab's form (size, steps, content layers, seed) with its defaults and ranges; ``validate`` is its one check
    (the method's fixed settings, the prior's weight and each content panel's share of steps, are the tab's)."""

    size: int = 128  # long edge in pixels
    steps: int = 50  # per style panel; content panel of block b: steps * CONTENT_STEPS[b]
    sublayer: int = 1  # content layers relu1_k … relu5_k
    seed: int = 0  # the starting noise

    RANGES = {"size": ("Size (px)", 32, 192), "steps": ("Steps per panel", 1, 300),
              "sublayer": ("Content layers (1 or 2)", 1, 2), "seed": ("Seed", 0, 2**31 - 1)}

    def validate(self) -> "LabSettings":
        """The same settings as whole numbers; ``InputError`` naming the first one out of its range, or saying that
        the deepest panel (a backward pass through relu5_x at ``size`` px) would pass the memory budget."""
        checked = LabSettings(**{name: whole_number(label, getattr(self, name), lo, hi)
                                 for name, (label, lo, hi) in self.RANGES.items()})
        budget = memory_budget()
        side = fitting_side(budget, "relu5_1", True)
        error = over_budget(f"the lab at {checked.size} px", checked.size ** 2, "relu5_1", True, budget,
                            f"choose a size up to {side} px" if side else "raise NST_MAX_MEMORY")
        if error is not None:
            raise error
        return checked
