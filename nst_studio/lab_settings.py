"""The Layer-depth lab's form: its settings, defaults and ranges, and their one check (the tab, its API and its
links all go through ``LabSettings.validate``)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from nst_core.estimate import fitting_side, over_budget
from nst_core.memory import memory_budget
from nst_core.schema import check, setting


@dataclass(frozen=True)
class LabSettings:
    """The lab's form (size, steps, content layers, seed) with its defaults and ranges; ``validate`` is its one check
    (the method's fixed settings, the prior's weight and each content panel's share of steps, are the tab's)."""

    size: int = setting("long edge of every panel in pixels", range=(32, 192), label="Size (px)", default=128)
    steps: int = setting("optimizer steps per style panel (content panels relu2–relu3 take 2× and 4× as many)",
                         range=(1, 300), label="Steps per panel", default=50)
    sublayer: int = setting("the content layers: relu1_k … relu5_k", range=(1, 2),
                            label="Content layers (1 or 2)", default=1)
    seed: int = setting("random seed of the starting noise", range=(0, 2**31 - 1), label="Seed", widget="number",
                        default=0)

    def validate(self) -> "LabSettings":
        """The same settings as whole numbers; ``InputError`` naming the first one out of its range, or saying that
        the deepest panel (a backward pass through relu5_x at ``size`` px) would pass the memory budget."""
        checked = dataclasses.replace(self, **check(self))
        budget = memory_budget()
        side = fitting_side(budget, "relu5_1", True)
        error = over_budget(f"the lab at {checked.size} px", checked.size ** 2, "relu5_1", True, budget,
                            f"choose a size up to {side} px" if side else "raise NST_MAX_MEMORY")
        if error is not None:
            raise error
        return checked
