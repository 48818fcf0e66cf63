"""Receptive fields of VGG19's layers, computed from each layer's kernel k, stride s and padding p.

Walking the layers from the input (R_0 = 1, J_0 = 1, P_0 = 0), one layer (k, s, p) gives

    R_l = R_{l-1} + (k - 1) * J_{l-1}      (receptive-field size, pixels)
    J_l = J_{l-1} * s                      (jump: input pixels between neighbouring units)
    P_l = P_{l-1} + p * J_{l-1}            (effective padding)

so the unit at row y, column x of layer l covers input rows [y*J - P, y*J - P + R - 1] (columns alike).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from .vgg import LAYER_NAMES, check_layer


@dataclass(frozen=True)
class LayerSpec:
    """One layer's footprint along an axis: kernel size, stride, zero padding."""

    kernel: int
    stride: int
    padding: int


# VGG19's three kinds of layer (Simonyan & Zisserman, 2014): 3x3 convolutions with padding 1, ReLUs, 2x2 max pools.
CONV_SPEC = LayerSpec(kernel=3, stride=1, padding=1)
RELU_SPEC = LayerSpec(kernel=1, stride=1, padding=0)
POOL_SPEC = LayerSpec(kernel=2, stride=2, padding=0)


def layer_spec(name: str) -> LayerSpec:
    """The spec of VGG19 layer ``name`` from its kind (``conv``/``relu``/``pool``)."""
    check_layer(name)
    return CONV_SPEC if name.startswith("conv") else RELU_SPEC if name.startswith("relu") else POOL_SPEC


@dataclass(frozen=True)
class ReceptiveField:
    """R (``size``), J (``jump``) and P (``padding``) of one layer, in input pixels."""

    size: int
    jump: int
    padding: int

    def start(self, i: int) -> int:
        """First input row (or column) seen by unit row (or column) ``i``: i*J - P."""
        return i * self.jump - self.padding

    def box(self, y: int, x: int) -> tuple[int, int, int, int]:
        """Input box of unit (y, x) as half-open ``(top, left, bottom, right)``; may reach past the image border."""
        top, left = self.start(y), self.start(x)
        return top, left, top + self.size, left + self.size

    def then(self, spec: LayerSpec) -> ReceptiveField:
        """The receptive field after one more layer ``spec`` (the recurrence in the module docstring)."""
        return ReceptiveField(self.size + (spec.kernel - 1) * self.jump, self.jump * spec.stride,
                              self.padding + spec.padding * self.jump)


INPUT_FIELD = ReceptiveField(size=1, jump=1, padding=0)


@functools.cache
def receptive_field(name: str) -> ReceptiveField:
    """R, J, P of VGG19 layer ``name`` (any of LAYER_NAMES), folding the recurrence over the layers up to it."""
    check_layer(name)
    field = INPUT_FIELD
    for layer in LAYER_NAMES[: LAYER_NAMES.index(name) + 1]:
        field = field.then(layer_spec(layer))
    return field
