"""The convolution shape engine: output shape, weight shape, parameters and multiply-adds of Conv1d/2d/3d,
ConvTranspose1d/2d/3d and pooling, one formula for any number of spatial dimensions, checked by the real torch layer.

Shapes are channels first without the batch, ``(C, n_1, ..., n_d)`` for d = 1, 2 or 3 spatial dimensions (PyTorch);
the course writes them channels last, ``n_1 × ... × n_d × C``. Per spatial dimension, with kernel k, stride s,
padding p on each side, dilation d and output padding a:

    convolution, pooling:   n_out = floor((n + 2p − d·(k − 1) − 1) / s) + 1
    transposed convolution: n_out = (n − 1)·s − 2p + d·(k − 1) + a + 1

With s = 1, p = 0, d = 1 the first is the course's rule  N ⊛ F → N − F + 1. Shapes are arithmetic on Python ints,
so any size up to ``LARGEST`` is answered; where the kernel does not fit, the output is empty (0 cells) and
``Conv.empty_because()`` says why. Only the torch check has a budget (``REAL_CHECK_*``, ``META_CHECK_VALUES``).
"""
from __future__ import annotations

import inspect
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from nst_core.checks import InputError, one_of, shown, whole_number

DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
KINDS = ("conv", "transposed conv", "max pool", "avg pool")
LARGEST = 10**9  # every size, channel count, kernel, stride, padding, dilation and group count is at most this
REAL_CHECK_VALUES, REAL_CHECK_MACS = 10_000_000, 200_000_000  # beyond either, the torch check runs on "meta"
META_CHECK_VALUES = 10**15  # beyond this many values in one tensor, even "meta" is skipped: the formula answers

# The seeds' worked examples: name -> arguments of make_conv.
PRESETS = {
    "1D: EKG, 14 ⊛ 5 → 10": dict(input_shape=(1, 14), out_channels=1, kernel_size=5),
    "1D: 14 ⊛ 5 with 16 filters → 10 × 16": dict(input_shape=(1, 14), out_channels=16, kernel_size=5),
    "2D: (N, N) ⊛ (F, F) → (N − F + 1, N − F + 1), 6 × 6 ⊛ 3 × 3 → 4 × 4":
        dict(input_shape=(1, 6, 6), out_channels=1, kernel_size=3),
    "3D: 14 × 14 × 14 ⊛ 5 × 5 × 5 → 10 × 10 × 10": dict(input_shape=(1, 14, 14, 14), out_channels=1, kernel_size=5),
    "3D: 14 × 14 × 14 × 3 with 16 filters 5 × 5 × 5 × 3 → 10 × 10 × 10 × 16":
        dict(input_shape=(3, 14, 14, 14), out_channels=16, kernel_size=5, filter_channels=3),
}


def conv_size(n: int, k: int, s: int = 1, p: int | Fraction = 0, d: int = 1) -> int:
    """n_out = floor((n + 2p − d·(k − 1) − 1) / s) + 1, or 0 when the kernel does not fit (p may be a half: 'same'
    with an odd total padding). Exact integer arithmetic, whatever the sizes."""
    return max(0, int((n + 2 * p - d * (k - 1) - 1) // s) + 1)


def conv_transpose_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1, a: int = 0) -> int:
    """n_out = (n − 1)·s − 2p + d·(k − 1) + a + 1, or 0 when the padding crops everything away."""
    return max(0, (n - 1) * s - 2 * p + d * (k - 1) + a + 1)


def to_channels_last(shape: Sequence[int]) -> tuple[int, ...]:
    """PyTorch's (C, n_1, ..., n_d) -> the course's (n_1, ..., n_d, C)."""
    return (*shape[1:], shape[0])


def course_text(shape: Sequence[int]) -> str:
    """(16, 10, 10, 10) -> '10×10×10×16', the course's channels-last notation."""
    return "×".join(map(str, to_channels_last(shape)))


def number_text(p: int | Fraction) -> str:
    """A padding as written: 2 -> '2', 5/2 -> '2.5'."""
    return str(p) if Fraction(p).denominator == 1 else f"{float(p):g}"


def parse_size(value) -> int | tuple[int, ...] | str | None:
    """Read a size as typed: 5 or '5' -> 5; '5×5', '5x5', '5, 5' or '(5, 5)' -> (5, 5); 'same', 'valid' stay words;
    blank -> None. Anything else comes back as the text typed, for ``make_conv``'s checks to name with its field and
    range (e.g. '2.5', 'inf', '1e30')."""
    if isinstance(value, float) and math.isnan(value):  # a blank cell of a table
        return None
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value).strip().lower()
    if text in ("", "none"):
        return None
    if text in ("same", "valid"):
        return text
    parts = [part for part in re.split(r"[\s,x×*()\[\]]+", text) if part]
    if not parts or not all(re.fullmatch(r"[-+]?\d{1,30}", part) for part in parts):
        return str(value).strip()
    numbers = tuple(int(part) for part in parts)
    return numbers[0] if len(numbers) == 1 and not re.search(r"[,x×*(\[]", text) else numbers


def _whole(value, name: str, minimum: int) -> int:
    """value as an int from ``minimum`` to LARGEST, or an ``InputError`` naming ``name``, its range and the value."""
    if value is None:
        raise InputError(f"{name} is missing: give a whole number from {minimum} to {LARGEST:,}.")
    return whole_number(name, value, minimum, LARGEST)


def _per_dim(value, nd: int, name: str, minimum: int) -> tuple[int, ...]:
    """An int or one number per spatial dimension -> a tuple of nd ints from ``minimum`` to LARGEST."""
    values = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (value,) * nd
    if len(values) != nd:
        raise InputError(f"{name} has {len(values)} numbers but the input has {nd} spatial dimension"
                         f"{'s' if nd > 1 else ''}: give one number, or {nd}.")
    return tuple(_whole(v, name, minimum) for v in values)


def check_input_shape(input_shape) -> tuple[int, ...]:
    """(C, n_1, ..., n_d) with d = 1, 2 or 3, all from 1 to LARGEST, as a tuple of ints; else ``InputError``."""
    shape = tuple(input_shape) if isinstance(input_shape, Sequence) and not isinstance(input_shape, str) \
        else (input_shape,)
    if not 2 <= len(shape) <= 4:
        raise InputError("the input has channels, then 1, 2 or 3 sizes, e.g. 3 channels of 14×14×14; "
                         f"got {len(shape) - 1} sizes.")
    return _whole(shape[0], "the number of input channels", 1), *_per_dim(shape[1:], len(shape) - 1,
                                                                             "the input size", 1)


def input_shape_from(channels, sizes) -> tuple[int, ...]:
    """(C, n_1, ..., n_d) from a channel count and the sizes as typed, e.g. (3, '14×14×14') -> (3, 14, 14, 14)."""
    spatial = parse_size(sizes)
    return check_input_shape((channels, *(spatial if isinstance(spatial, tuple) else (spatial,))))


@dataclass(frozen=True)
class Conv:
    """One checked layer, each per-dimension argument spelled out with one entry per spatial dimension."""

    input_shape: tuple[int, ...]    # (C, n_1, ..., n_d)
    out_channels: int               # F, the number of filters (a pool keeps the C channels)
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...] | str  # p on each side, or 'same'
    dilation: tuple[int, ...]
    groups: int = 1
    output_padding: tuple[int, ...] = ()
    kind: str = "conv"              # one of KINDS

    @property
    def transposed(self) -> bool:
        return self.kind == "transposed conv"

    @property
    def is_pool(self) -> bool:
        return self.kind.endswith("pool")

    @property
    def pads(self) -> tuple[int | Fraction, ...]:
        """p per dimension; 'same' pads d·(k − 1)/2 on each side (PyTorch puts an odd leftover on the right)."""
        if self.padding == "same":
            return tuple(Fraction(d * (k - 1), 2) for k, d in zip(self.kernel_size, self.dilation))
        return self.padding

    @property
    def output_shape(self) -> tuple[int, ...]:
        """(F, n_out per dimension) by the formulas in the module docstring; a 0 where the kernel does not fit."""
        args = zip(self.input_shape[1:], self.kernel_size, self.stride, self.pads, self.dilation)
        if self.transposed:
            return (self.out_channels, *(conv_transpose_size(*a, op) for a, op in zip(args, self.output_padding)))
        return (self.out_channels, *(conv_size(*a) for a in args))

    @property
    def is_empty(self) -> bool:
        return 0 in self.output_shape

    def empty_because(self) -> str | None:
        """Why the output has no cells (one sentence), or None when it has some."""
        for i, name in enumerate(DIM_NAMES[len(self.kernel_size)]):
            n, k, p, d = self.input_shape[1 + i], self.kernel_size[i], self.pads[i], self.dilation[i]
            if self.output_shape[1 + i] > 0:
                continue
            if self.transposed:
                return (f"The padding ({number_text(p)} on each side) crops away the whole output of the transposed "
                        f"convolution along the {name}: (n − 1)·s − 2p + d·(k − 1) + a + 1 is less than 1, so the "
                        "output is empty.")
            dilated = f", dilated to {d * (k - 1) + 1:,}" if d > 1 else ""
            return (f"The kernel ({k:,}{dilated}) is larger than the padded input ({n:,} + 2·{number_text(p)} = "
                    f"{number_text(n + 2 * p)}) along the {name}: it cannot be placed even once, so the output is "
                    "empty (0 cells).")
        return None

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """Conv: (F, C/groups, *k), F filters with C/groups channels each; transposed: (C, F/groups, *k); pool: ()."""
        if self.is_pool:
            return ()
        C, F, g = self.input_shape[0], self.out_channels, self.groups
        return (C, F // g, *self.kernel_size) if self.transposed else (F, C // g, *self.kernel_size)

    @property
    def parameters(self) -> int:
        """prod(weight shape) + F biases; a pool has none."""
        return 0 if self.is_pool else math.prod(self.weight_shape) + self.out_channels

    @property
    def macs(self) -> int:
        """Multiply-adds, padded zeros included. Conv: prod(output) · (C/groups) · prod(k), one filter per output value;
        transposed: prod(input) · (F/groups) · prod(k), each input value scattered by a filter; pool or empty: 0."""
        if self.is_pool or self.is_empty:
            return 0
        shape = self.input_shape if self.transposed else self.output_shape
        return math.prod(shape) * math.prod(self.weight_shape[1:])

    def torch_layer(self, device: str = "cpu") -> nn.Module:
        """The torch.nn layer with these settings (Conv{d}d, ConvTranspose{d}d, MaxPool{d}d or AvgPool{d}d)."""
        nd = len(self.kernel_size)
        if self.is_pool:
            pool = getattr(nn, f"{'Max' if self.kind == 'max pool' else 'Avg'}Pool{nd}d")
            return pool(self.kernel_size, stride=self.stride, padding=self.padding)
        C, F = self.input_shape[0], self.out_channels
        common = dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups,
                      device=device)
        if self.transposed:
            return getattr(nn, f"ConvTranspose{nd}d")(C, F, self.kernel_size, output_padding=self.output_padding,
                                                      **common)
        return getattr(nn, f"Conv{nd}d")(C, F, self.kernel_size, **common)

    def torch_check_device(self) -> str | None:
        """'cpu' (real zeros) when the tensors and the work are small, 'meta' (torch's shapes-only tensors, no memory)
        up to META_CHECK_VALUES per tensor, else None: no torch check (nor for an empty output, which torch refuses)."""
        sizes = [math.prod(self.input_shape), math.prod(self.output_shape), math.prod(self.weight_shape or (0,))]
        if self.is_empty or max(sizes) > META_CHECK_VALUES:
            return None
        return "cpu" if sum(sizes) <= REAL_CHECK_VALUES and self.macs <= REAL_CHECK_MACS else "meta"

    def torch_output_shape(self) -> tuple[int, ...] | None:
        """Run the real torch layer on zeros of shape (1, *input_shape); its output shape without the batch (None when
        ``torch_check_device`` skips the check)."""
        device = self.torch_check_device()
        if device is None:
            return None
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 'same' with an even kernel warns about an internal padded copy
            out = self.torch_layer(device)(torch.zeros((1, *self.input_shape), device=device))
        return tuple(out.shape[1:])


def make_conv(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, transposed=False,
              output_padding=0, filter_channels=None) -> Conv:
    """Check a convolution and spell it out per dimension. Every number goes through ``nst_core.checks`` (whole, from
    its minimum to LARGEST); an invalid layer raises ``InputError`` with a teaching sentence. A kernel that does not
    fit is not an error: the output is empty and ``empty_because()`` says why.

    ``filter_channels`` (optional) is the course's last filter size, e.g. 3 in 5×5×5×3: it must equal C/groups.
    """
    shape = check_input_shape(input_shape)
    C, nd = shape[0], len(shape) - 1
    F = _whole(out_channels, "the number of filters", 1)
    g = _whole(groups, "the number of groups", 1)
    if not isinstance(transposed, bool):
        raise InputError(f"transposed must be true or false; got {shown(transposed)}.")
    if C % g or F % g:
        raise InputError(f"the number of groups ({g:,}) must divide the number of input channels ({C:,}) and the "
                         f"number of filters ({F:,}): each group reads C/groups channels and makes F/groups filters.")
    if filter_channels is not None:
        filter_channels = _whole(filter_channels, "the number of channels in the filter", 1)
        if filter_channels != C // g:
            per_group = f" divided by the groups ({C:,} / {g:,} = {C // g:,})" if g > 1 else f" ({C:,})"
            raise InputError(f"the number of channels in the filter ({filter_channels:,}) must match the number of "
                             f"channels in the input{per_group}.")
    kernel = _per_dim(kernel_size, nd, "the kernel size", 1)
    strides = _per_dim(stride, nd, "the stride", 1)
    dilations = _per_dim(dilation, nd, "the dilation", 1)
    pad = (0,) * nd if padding == "valid" else padding
    if isinstance(pad, str) and pad.isalpha():
        if pad != "same":
            raise InputError(f"the padding is a whole number from 0 to {LARGEST:,} (or one per dimension), 'valid' or "
                             f"'same'; got {shown(pad)}.")
        if transposed:
            raise InputError("'same' padding is defined for ordinary convolutions only: give a transposed "
                             "convolution a number.")
        if max(strides) > 1:
            raise InputError(f"'same' padding keeps the input's size only with stride 1: with stride {max(strides):,} "
                             "the output is smaller than the input whatever the padding.")
    else:
        pad = _per_dim(pad, nd, "the padding", 0)
    extra = _per_dim(output_padding, nd, "the output padding", 0)
    if not transposed and any(extra):
        raise InputError("output padding only exists for transposed convolutions (it adds cells to their output).")
    for name, a, s, d in zip(DIM_NAMES[nd], extra, strides, dilations):
        if a >= max(s, d):
            raise InputError(f"the output padding ({a:,}) must be smaller than the stride ({s:,}) or the dilation "
                             f"({d:,}) along the {name}, as in PyTorch: larger values would add cells no input reaches.")
    kind = "transposed conv" if transposed else "conv"
    return Conv(shape, F, kernel, strides, pad, dilations, g, extra, kind)


def make_pool(input_shape, kernel_size, stride=None, padding=0, kind="max pool") -> Conv:
    """A max or average pooling layer (stride defaults to the kernel): the conv formula with C filters, no weights.
    PyTorch asks for p <= k/2, and its 3D average pooling for an unpadded input n >= k."""
    one_of("a pooling layer", kind, ("max pool", "avg pool"))
    C = check_input_shape(input_shape)[0]
    conv = make_conv(input_shape, C, kernel_size, kernel_size if stride is None else stride, padding, groups=C)
    if conv.padding == "same":
        raise InputError("a pooling layer takes a number as padding, not 'same'.")
    for name, n, k, p in zip(DIM_NAMES[len(conv.kernel_size)], conv.input_shape[1:], conv.kernel_size, conv.padding):
        if 2 * p > k:
            raise InputError(f"the padding of a pooling layer ({p:,}) can be at most half its kernel ({k:,}) along "
                             f"the {name}: otherwise a window could hold nothing but padding.")
        if kind == "avg pool" and len(conv.kernel_size) == 3 and n < k and not conv.is_empty:
            raise InputError(f"the input ({n:,}) is smaller than the kernel ({k:,}) along the {name}: PyTorch's 3D "
                             "average pooling needs the unpadded input at least as large as its kernel.")
    return Conv(conv.input_shape, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                kind=kind)


def conv_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                      transposed=False, output_padding=0) -> tuple[int, ...]:
    """(C, *spatial) -> (out_channels, *spatial_out) by the formulas in the module docstring (0 where the kernel does
    not fit); ``InputError`` if the layer is invalid."""
    return make_conv(input_shape, out_channels, kernel_size, stride, padding, dilation, groups, transposed,
                     output_padding).output_shape


@dataclass(frozen=True)
class ConvSpec:
    """One layer as the form, the HTTP API or the MCP tool sends it: sizes as text ('14×14×14') or numbers, per
    dimension values as '5' or '5×5×5'. The defaults are the form's (the seeds' 3D example). ``validate()`` is the one
    check every entry point calls."""

    sizes: Any = "14×14×14"      # n_1 × ... × n_d
    channels: Any = 3            # C
    filters: Any = 16            # F
    kernel: Any = "5"            # k, one number or one per dimension
    stride: Any = "1"
    padding: Any = "0"           # a number, one per dimension, 'valid' or 'same'
    dilation: Any = "1"
    groups: Any = 1
    transposed: Any = False
    output_padding: Any = "0"    # transposed only
    filter_channels: Any = "3"   # blank: as needed (C/groups)

    def validate(self) -> Conv:
        """The checked layer; ``InputError`` naming the first bad field, its allowed range and the value received."""
        size = parse_size
        return make_conv(input_shape_from(self.channels, self.sizes), self.filters, size(self.kernel),
                         size(self.stride), size(self.padding), size(self.dilation), self.groups, self.transposed,
                         size(self.output_padding), size(self.filter_channels))

    @classmethod
    def from_preset(cls, name: str) -> ConvSpec:
        """The form's values for a preset of the seeds' examples (a key of PRESETS)."""
        a = preset_arguments(one_of("the course's example", name, PRESETS))
        channels, *sizes = a["input_shape"]
        return cls("×".join(map(str, sizes)), channels, a["out_channels"], str(a["kernel_size"]), str(a["stride"]),
                   str(a["padding"]), str(a["dilation"]), a["groups"], a["transposed"], str(a["output_padding"]),
                   str(a["filter_channels"] or ""))

    def values(self) -> list:
        """The fields in order, as the form lists them."""
        return [getattr(self, f.name) for f in fields(self)]


def preset_arguments(name: str) -> dict:
    """Every argument of make_conv for the preset ``name``, the defaults filled in."""
    defaults = {k: p.default for k, p in inspect.signature(make_conv).parameters.items() if p.default is not p.empty}
    return {**defaults, **PRESETS[name]}

