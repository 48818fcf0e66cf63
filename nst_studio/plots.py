"""The cost plot of a stylization: alpha*J_content, beta*J_style and J = alpha*J_content + beta*J_style (+ TV) per step."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from matplotlib.figure import Figure


@dataclass
class CostHistory:
    """The weighted costs after each optimizer step."""

    steps: list[int] = field(default_factory=list)
    content: list[float] = field(default_factory=list)  # alpha * J_content
    style: list[float] = field(default_factory=list)  # beta * J_style
    total: list[float] = field(default_factory=list)  # J
    stage_starts: list[int] = field(default_factory=list)  # first step of each coarse-to-fine stage after the first
    _stage: int = 0

    def add(self, step: int, stage: int, J_content: float, J_style: float, J: float, alpha: float, beta: float):
        if stage != self._stage:
            self.stage_starts.append(step)
            self._stage = stage
        self.steps.append(step)
        self.content.append(alpha * J_content)
        self.style.append(beta * J_style)
        self.total.append(J)


def cost_figure(history: CostHistory) -> Figure:
    """Log-scale plot of the three curves against the step (a plain Figure: no pyplot, no global state)."""
    fig = Figure(figsize=(6, 3.2), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    for values, label, style in ((history.content, r"$\alpha J_{content}$", "-"),
                                 (history.style, r"$\beta J_{style}$", "-"), (history.total, r"$J$", "--")):
        # a log axis can't show zeros; a diverged step (inf, nan) would blank the whole plot
        points = [(s, v) for s, v in zip(history.steps, values) if math.isfinite(v) and v > 0]
        if points:
            ax.plot(*zip(*points), style, label=label)
    for step in history.stage_starts:  # costs jump where the image is upsampled to the next size
        ax.axvline(step, color="grey", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("cost (log scale)")
    ax.set_title("Costs per step", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    if ax.lines:
        ax.legend(loc="best", fontsize=8)
    return fig
