"""Objectives (Lucent's ``objectives.py`` idea): values with arithmetic, built from a layer lookup T(name).

An objective maps T, here the dict that ``VGG19.forward(batch, layers)`` returns, to one loss per batch item
``(N,)``; the optimiser minimises their sum, so batch item i can maximise its own unit u_i.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from nst_core.checks import InputError
from nst_core.vgg import check_layer

Lookup = Callable[[str], torch.Tensor]


class Objective:
    """``loss = objective(T)``, shape (N,). ``+``, ``-``, scalar ``*`` and ``/`` combine objectives."""

    def __init__(self, fn: Callable[[Lookup], torch.Tensor], layers: tuple[str, ...], description: str):
        self.fn, self.layers, self.description = fn, layers, description

    def __call__(self, T: Lookup) -> torch.Tensor:
        return self.fn(T)

    def __add__(self, other: "Objective | float") -> "Objective":
        if isinstance(other, Objective):
            return Objective(lambda T: self(T) + other(T), tuple(dict.fromkeys(self.layers + other.layers)),
                             f"{self.description} + {other.description}")
        return Objective(lambda T: self(T) + other, self.layers, f"{self.description} + {other:g}")

    __radd__ = __add__

    def __neg__(self) -> "Objective":
        return -1 * self

    def __sub__(self, other: "Objective | float") -> "Objective":
        return self + (-other)

    def __mul__(self, scalar: float) -> "Objective":
        return Objective(lambda T: scalar * self(T), self.layers, f"{scalar:g} · ({self.description})")

    __rmul__ = __mul__

    def __truediv__(self, scalar: float) -> "Objective":
        return self * (1.0 / scalar)

    def __repr__(self) -> str:
        return f"Objective({self.description})"


class RedirectedReLU(torch.autograd.Function):
    """max(0, x) per batch item, whose gradient still flows for an item whose values are all <= 0.

    Plain ReLU gives such an item (a unit silent on the start image) zero gradient for ever; Lucid's render
    redirects it for the same reason. Items with any positive value get ReLU's own gradient."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        positive = x > 0
        alive = positive.flatten(1).any(1).view(-1, *[1] * (x.dim() - 1))
        return torch.where(alive, grad * positive, grad)


def unit_maps(a: torch.Tensor, units: Sequence[int] | int) -> torch.Tensor:
    """a: (N, C, H, W) -> each item's own unit, a[i, u_i]: (N, H, W)."""
    n, c = a.shape[:2]
    units = [units] * n if isinstance(units, int) else list(units)
    if len(units) != n:
        raise ValueError(f"{len(units)} units for a batch of {n} images")
    bad = [u for u in units if not 0 <= u < c]
    if bad:
        raise InputError(f"unit {bad[0]} does not exist: this layer has units 0 … {c - 1}.")
    return a[torch.arange(n), torch.tensor(units)]


def channel(layer: str, units: Sequence[int] | int) -> Objective:
    """Maximise (1/HW) Σ_y,x max(0, a_u(y, x)) of unit u_i at ``layer`` for batch item i."""
    check_layer(layer)
    return Objective(lambda T: -RedirectedReLU.apply(unit_maps(T(layer), units).float()).mean((1, 2)),
                     (layer,), f"channel {layer}:{units}")


def neuron(layer: str, units: Sequence[int] | int) -> Objective:
    """Maximise max(0, a_u(H//2, W//2)): unit u_i at the centre position only."""
    check_layer(layer)

    def loss(T: Lookup) -> torch.Tensor:
        maps = unit_maps(T(layer), units).float()
        h, w = maps.shape[1:]
        return -RedirectedReLU.apply(maps[:, h // 2, w // 2, None])[:, 0]
    return Objective(loss, (layer,), f"neuron {layer}:{units}")


OBJECTIVES = {"channel": channel, "neuron": neuron}


def as_objective(spec: str | Objective, units: Sequence[int] | int | None = None,
                 kind: str = "channel") -> Objective:
    """An ``Objective`` as it is, ``"conv5_4:17"`` (the channel objective of unit 17), or a layer name with
    ``units``."""
    if isinstance(spec, Objective):
        return spec
    layer, _, unit = spec.partition(":")
    if unit:
        try:
            units = int(unit)
        except ValueError:
            raise InputError(f"{spec!r}: write LAYER:UNIT, e.g. conv5_4:17.") from None
    if units is None:
        raise InputError(f"{spec!r}: say which unit, e.g. {layer}:0.")
    return OBJECTIVES[kind](layer, units)
