"""The convolution shape engine: output shape, weight shape, parameters and multiply-adds of Conv1d/2d/3d,
ConvTranspose1d/2d/3d and pooling, one formula for any number of spatial dimensions, checked by the real torch layer.

Shapes are channels first without the batch, ``(C, n_1, ..., n_d)`` for d = 1, 2 or 3 spatial dimensions (PyTorch);
the course writes them channels last, ``n_1 × ... × n_d × C``. Per spatial dimension, with kernel k, stride s,
padding p on each side, dilation d and output padding a:

    convolution, pooling:   n_out = floor((n + 2p − d·(k − 1) − 1) / s) + 1
    transposed convolution: n_out = (n − 1)·s − 2p + d·(k − 1) + a + 1

With s = 1, p = 0, d = 1 the first is the course's rule  N ⊛ F → N − F + 1.
"""
from __future__ import annotations

import inspect
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
KINDS = ("conv", "transposed conv", "max pool", "avg pool")
STACK_KINDS = ("conv", "max pool", "avg pool")
STACK_COLUMNS = ("layer", "filters", "kernel", "stride", "padding", "dilation")
STACK_EXAMPLE = [["conv", 16, 3, 1, 1, 1], ["conv", 16, 3, 1, 1, 1], ["max pool", "", 2, "", "", ""],
                 ["conv", 32, 3, 1, 1, 1], ["max pool", "", 2, "", "", ""]]  # a small VGG-like stack, input 3×32×32
STACK_HEADERS = ("layer", "output (PyTorch, C first)", "output (course, C last)", "weight", "parameters", "MACs",
                 "receptive field", "jump (total stride)", "torch")
REAL_CHECK_VALUES, REAL_CHECK_MACS = 10_000_000, 200_000_000  # beyond either, the torch check runs on "meta"

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


def conv_size(n: int, k: int, s: int = 1, p: float = 0, d: int = 1) -> int:
    """n_out = floor((n + 2p − d·(k − 1) − 1) / s) + 1  (p may be a half: 'same' with an odd total padding)."""
    return math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1


def conv_transpose_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1, a: int = 0) -> int:
    """n_out = (n − 1)·s − 2p + d·(k − 1) + a + 1."""
    return (n - 1) * s - 2 * p + d * (k - 1) + a + 1


def to_channels_last(shape: Sequence[int]) -> tuple[int, ...]:
    """PyTorch's (C, n_1, ..., n_d) -> the course's (n_1, ..., n_d, C)."""
    return (*shape[1:], shape[0])


def course_text(shape: Sequence[int]) -> str:
    """(16, 10, 10, 10) -> '10×10×10×16', the course's channels-last notation."""
    return "×".join(map(str, to_channels_last(shape)))


def parse_size(value) -> int | tuple[int, ...] | str | None:
    """Read a size as typed: 5 or '5' -> 5; '5×5', '5x5', '5, 5' or '(5, 5)' -> (5, 5); 'same', 'valid' stay words;
    blank -> None."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value).strip().lower()
    if text in ("", "none", "nan"):
        return None
    if text in ("same", "valid"):
        return text
    parts = [part for part in re.split(r"[\s,x×*()\[\]]+", text) if part]
    if not parts or not all(re.fullmatch(r"-?\d+", part) for part in parts):
        raise ValueError(f"“{value}” is not a size: write a number like 5, or one per dimension like 5×5×5")
    numbers = tuple(int(part) for part in parts)
    return numbers[0] if len(numbers) == 1 and not re.search(r"[,x×*(\[]", text) else numbers


def input_shape_from(channels, sizes) -> tuple[int, ...]:
    """(C, n_1, ..., n_d) from a channel count and the sizes as typed, e.g. (3, '14×14×14') -> (3, 14, 14, 14)."""
    spatial = parse_size(sizes)
    return check_input_shape((channels, *(spatial if isinstance(spatial, tuple) else (spatial,))))


def _whole(value, name: str, minimum: int) -> int:
    """value as an int >= minimum, or a ValueError naming ``name``."""
    if value is None:
        raise ValueError(f"the {name} is missing")
    if isinstance(value, str) or float(value) != int(value):
        raise ValueError(f"the {name} must be a whole number, got {value}")
    if int(value) < minimum:
        raise ValueError(f"the {name} must be at least {minimum}, got {int(value)}")
    return int(value)


def _per_dim(value, nd: int, name: str, minimum: int) -> tuple[int, ...]:
    """An int or one number per spatial dimension -> a tuple of nd ints >= minimum."""
    values = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (value,) * nd
    if len(values) != nd:
        raise ValueError(f"the {name} has {len(values)} numbers but the input has {nd} spatial dimension"
                         f"{'s' if nd > 1 else ''}: give one number, or {nd}")
    return tuple(_whole(v, name, minimum) for v in values)


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
    def pads(self) -> tuple[float, ...]:
        """p per dimension; 'same' pads d·(k − 1)/2 on each side (PyTorch puts an odd leftover on the right)."""
        if self.padding == "same":
            return tuple(d * (k - 1) / 2 for k, d in zip(self.kernel_size, self.dilation))
        return self.padding

    @property
    def output_shape(self) -> tuple[int, ...]:
        """(F, n_out per dimension) by the formulas in the module docstring."""
        args = zip(self.input_shape[1:], self.kernel_size, self.stride, self.pads, self.dilation)
        if self.transposed:
            return (self.out_channels, *(conv_transpose_size(*a, op) for a, op in zip(args, self.output_padding)))
        return (self.out_channels, *(conv_size(*a) for a in args))

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
        transposed: prod(input) · (F/groups) · prod(k), each input value scattered by a filter; pool: 0."""
        if self.is_pool:
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

    def torch_check_device(self) -> str:
        """'cpu' (real zeros) when the tensors and the work are small, else 'meta' (torch's shapes-only tensors)."""
        values = math.prod(self.input_shape) + math.prod(self.output_shape) + math.prod(self.weight_shape or (0,))
        return "cpu" if values <= REAL_CHECK_VALUES and self.macs <= REAL_CHECK_MACS else "meta"

    def torch_output_shape(self) -> tuple[int, ...]:
        """Run the real torch layer on zeros of shape (1, *input_shape); its output shape without the batch."""
        device = self.torch_check_device()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 'same' with an even kernel warns about an internal padded copy
            out = self.torch_layer(device)(torch.zeros((1, *self.input_shape), device=device))
        return tuple(out.shape[1:])


def _check_sizes(conv: Conv) -> Conv:
    """The kernel must fit in the padded input, a transposed output must not be cropped away; returns conv."""
    for i, name in enumerate(DIM_NAMES[len(conv.kernel_size)]):
        n, k, p, d = conv.input_shape[1 + i], conv.kernel_size[i], conv.pads[i], conv.dilation[i]
        if conv.transposed and conv.output_shape[1 + i] < 1:
            raise ValueError(f"the padding ({p:g} on each side) crops away the whole output of the transposed "
                             f"convolution along the {name}: (n − 1)·s − 2p + d·(k − 1) + a + 1 = "
                             f"{conv.output_shape[1 + i]}, which is less than 1")
        if not conv.transposed and n + 2 * p < d * (k - 1) + 1:
            dilated = f", dilated to {d * (k - 1) + 1}" if d > 1 else ""
            raise ValueError(f"the kernel ({k}{dilated}) is larger than the padded input ({n} + 2·{p:g} = "
                             f"{n + 2 * p:g}) along the {name}: it cannot be placed even once")
    return conv


def check_input_shape(input_shape) -> tuple[int, ...]:
    """(C, n_1, ..., n_d) with d = 1, 2 or 3, all at least 1, as a tuple of ints; else ValueError."""
    shape = tuple(input_shape) if isinstance(input_shape, Sequence) else (input_shape,)
    if not 2 <= len(shape) <= 4:
        raise ValueError(f"the input shape is (channels, then 1, 2 or 3 sizes), e.g. (3, 14, 14, 14); got {shape}")
    return _whole(shape[0], "number of input channels", 1), *_per_dim(shape[1:], len(shape) - 1, "input size", 1)


def make_conv(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, transposed=False,
              output_padding=0, filter_channels=None) -> Conv:
    """Check a convolution and spell it out per dimension; an invalid one raises ValueError with a teaching sentence.

    ``filter_channels`` (optional) is the course's last filter size, e.g. 3 in 5×5×5×3: it must equal C/groups.
    """
    shape = check_input_shape(input_shape)
    C, nd = shape[0], len(shape) - 1
    F = _whole(out_channels, "number of filters", 1)
    g = _whole(groups, "number of groups", 1)
    if C % g or F % g:
        raise ValueError(f"the number of groups ({g}) must divide the number of input channels ({C}) and the number "
                         f"of filters ({F}): each group reads C/groups channels and makes F/groups filters")
    if filter_channels not in (None, C // g):
        per_group = f" divided by the groups ({C} / {g} = {C // g})" if g > 1 else f" ({C})"
        raise ValueError(f"the number of channels in the filter ({filter_channels}) must match the number of channels "
                         f"in the input{per_group}")
    kernel = _per_dim(kernel_size, nd, "kernel size", 1)
    strides = _per_dim(stride, nd, "stride", 1)
    dilations = _per_dim(dilation, nd, "dilation", 1)
    pad = (0,) * nd if padding == "valid" else padding
    if isinstance(pad, str):
        if pad != "same":
            raise ValueError(f"the padding is a number, one number per dimension, 'valid' or 'same'; got '{pad}'")
        if transposed:
            raise ValueError("'same' padding is defined for ordinary convolutions only: give a transposed "
                             "convolution a number")
        if max(strides) > 1:
            raise ValueError(f"'same' padding keeps the input's size only with stride 1: with stride {max(strides)} "
                             "the output is smaller than the input whatever the padding")
    else:
        pad = _per_dim(pad, nd, "padding", 0)
    extra = _per_dim(output_padding, nd, "output padding", 0)
    if not transposed and any(extra):
        raise ValueError("output padding only exists for transposed convolutions (it adds cells to their output)")
    for name, a, s, d in zip(DIM_NAMES[nd], extra, strides, dilations):
        if a >= max(s, d):
            raise ValueError(f"the output padding ({a}) must be smaller than the stride ({s}) or the dilation ({d}) "
                             f"along the {name}, as in PyTorch: larger values would add cells no input reaches")
    kind = "transposed conv" if transposed else "conv"
    return _check_sizes(Conv(shape, F, kernel, strides, pad, dilations, g, extra, kind))


def make_pool(input_shape, kernel_size, stride=None, padding=0, kind="max pool") -> Conv:
    """A max or average pooling layer (stride defaults to the kernel): the conv formula with C filters, no weights.
    PyTorch asks for p <= k/2, and its 3D average pooling for an unpadded input n >= k."""
    if kind not in ("max pool", "avg pool"):
        raise ValueError(f"a pooling layer is 'max pool' or 'avg pool', got '{kind}'")
    C = check_input_shape(input_shape)[0]
    conv = make_conv(input_shape, C, kernel_size, kernel_size if stride is None else stride, padding, groups=C)
    if conv.padding == "same":
        raise ValueError("a pooling layer takes a number as padding, not 'same'")
    for name, n, k, p in zip(DIM_NAMES[len(conv.kernel_size)], conv.input_shape[1:], conv.kernel_size, conv.padding):
        if 2 * p > k:
            raise ValueError(f"the padding of a pooling layer ({p}) can be at most half its kernel ({k}) along the "
                             f"{name}: otherwise a window could hold nothing but padding")
        if kind == "avg pool" and len(conv.kernel_size) == 3 and n < k:
            raise ValueError(f"the input ({n}) is smaller than the kernel ({k}) along the {name}: PyTorch's 3D "
                             "average pooling needs the unpadded input at least as large as its kernel")
    return Conv(conv.input_shape, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                kind=kind)


def conv_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                      transposed=False, output_padding=0) -> tuple[int, ...]:
    """(C, *spatial) -> (out_channels, *spatial_out) by the formulas in the module docstring; ValueError if invalid."""
    return make_conv(input_shape, out_channels, kernel_size, stride, padding, dilation, groups, transposed,
                     output_padding).output_shape


def preset_arguments(name: str) -> dict:
    """Every argument of make_conv for the preset ``name``, the defaults filled in."""
    defaults = {k: p.default for k, p in inspect.signature(make_conv).parameters.items() if p.default is not p.empty}
    return {**defaults, **PRESETS[name]}


def formula_text(conv: Conv, i: int) -> str:
    """Spatial dimension i's size formula with the numbers in, e.g. '⌊(14 + 2·0 − 1·(5 − 1) − 1) / 1⌋ + 1 = 10'."""
    n, k, s, p, d = conv.input_shape[1 + i], conv.kernel_size[i], conv.stride[i], conv.pads[i], conv.dilation[i]
    out = conv.output_shape[1 + i]
    if conv.transposed:
        return f"({n} − 1)·{s} − 2·{p:g} + {d}·({k} − 1) + {conv.output_padding[i]} + 1 = {out}"
    return f"⌊({n} + 2·{p:g} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {out}"


def rule_text(conv: Conv) -> str:
    """The course's rule N ⊛ F → N − F + 1 with this layer's numbers, or why it does not apply."""
    plain = conv.kind == "conv" and conv.pads == (0,) * len(conv.pads) and max(conv.stride + conv.dilation) == 1
    if not plain:
        return "The course's rule N ⊛ F → N − F + 1 is the formula with s = 1, p = 0, d = 1; it does not apply here."
    sizes = zip(conv.input_shape[1:], conv.kernel_size)
    steps = ", ".join(f"{n} ⊛ {k} → {n} − {k} + 1 = {n - k + 1}" for n, k in sizes)
    return f"The course's rule N ⊛ F → N − F + 1: {steps}."


def describe(conv: Conv) -> str:
    """A Markdown account of one layer: both notations, the formula per dimension, weights, cost and the torch check."""
    names = DIM_NAMES[len(conv.kernel_size)]
    torch_shape = conv.torch_output_shape()
    verdict = "✓ same shape" if torch_shape == conv.output_shape else "✗ differs from the formula"
    device = ("real zeros" if conv.torch_check_device() == "cpu" else
              "the meta device (shapes only: the tensors would be large)")
    if conv.is_pool:
        weights = "no weights: it keeps the max / average of each window, channel by channel"
    else:
        block = course_text(conv.weight_shape[1:])
        parts = (f"one {block} block per input channel, spread over the output" if conv.transposed else
                 f"{conv.out_channels} filters of {block}")
        weights = (f"weight **{conv.weight_shape}**: {parts} (course: sizes, then channels); parameters "
                   f"{'·'.join(map(str, conv.weight_shape))} + {conv.out_channels} biases = **{conv.parameters:,}**")
    return "\n".join([
        f"**Output {course_text(conv.output_shape)}** (course: sizes, then channels) = **{conv.output_shape}** "
        f"(PyTorch: channels first)",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        "| n_out | " + " | ".join(formula_text(conv, i) for i in range(len(names))) + " |",
        "",
        rule_text(conv),
        "",
        f"- {weights}",
        f"- multiply-adds: **{conv.macs:,}**",
        f"- PyTorch check: `{conv.torch_layer('meta')}` on {device} of shape {(1, *conv.input_shape)} → "
        f"{(1, *torch_shape)} {verdict}",
    ])


def receptive_fields(layers: Sequence[Conv]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(receptive field, jump) after each layer, per dimension:
    r_l = r_(l−1) + d_l·(k_l − 1)·j_(l−1),  j_l = j_(l−1)·s_l,  with r_0 = j_0 = 1 (one input cell, unit step)."""
    nd = len(layers[0].kernel_size) if layers else 0
    r, j, out = (1,) * nd, (1,) * nd, []
    for layer in layers:
        r = tuple(ri + d * (k - 1) * ji for ri, d, k, ji in zip(r, layer.dilation, layer.kernel_size, j))
        j = tuple(ji * s for ji, s in zip(j, layer.stride))
        out.append((r, j))
    return out


def make_stack(input_shape, rows: Sequence[Sequence]) -> list[Conv]:
    """Layers one after another, each row (layer, filters, kernel, stride, padding, dilation) as typed in the table;
    blank cells take the defaults (stride 1 for conv, the kernel for pools; padding 0; dilation 1), blank rows are
    skipped. An invalid layer raises ValueError naming it."""
    layers, shape = [], check_input_shape(input_shape)
    for row in rows:
        kind, filters, kernel, stride, padding, dilation = (list(row) + [None] * 6)[:6]
        kind = str(kind or "").strip().lower()
        if not kind:
            continue
        try:
            if kind not in STACK_KINDS:
                raise ValueError(f"a stack layer is one of {', '.join(STACK_KINDS)}, got '{kind}'")
            filters, kernel, stride, padding, dilation = map(parse_size, (filters, kernel, stride, padding, dilation))
            padding = 0 if padding is None else padding
            if kind == "conv":
                layer = make_conv(shape, filters, kernel, 1 if stride is None else stride, padding,
                                  1 if dilation is None else dilation)
            else:
                layer = make_pool(shape, kernel, stride, padding, kind)
        except ValueError as error:
            raise ValueError(f"layer {len(layers) + 1} ({kind}): {error}") from None
        layers.append(layer)
        shape = layer.output_shape
    return layers


def stack_table(layers: Sequence[Conv]) -> list[list]:
    """One row per layer: name, output (PyTorch), output (course), weight, parameters, MACs, receptive field, jump,
    torch check."""
    rows, counts = [], {}  # conv1, conv2, pool1, ...
    for layer, (r, j) in zip(layers, receptive_fields(layers)):
        base = "conv" if layer.kind == "conv" else "pool"
        counts[base] = counts.get(base, 0) + 1
        torch_ok = layer.torch_output_shape() == layer.output_shape
        rows.append([f"{base}{counts[base]} ({layer.kind})", str(layer.output_shape), course_text(layer.output_shape),
                     str(layer.weight_shape or "—"), layer.parameters, layer.macs, "×".join(map(str, r)),
                     "×".join(map(str, j)), "✓" if torch_ok else "✗"])
    return rows


def describe_stack(layers: Sequence[Conv]) -> str:
    """One sentence: input -> output in both notations, total parameters and multiply-adds, final receptive field."""
    if not layers:
        return "Add layers to the table: conv, max pool or avg pool."
    r, j = receptive_fields(layers)[-1]
    first, last = layers[0].input_shape, layers[-1].output_shape
    return (f"{len(layers)} layers: {course_text(first)} → **{course_text(last)}** (PyTorch {first} → {last}); "
            f"{sum(x.parameters for x in layers):,} parameters, {sum(x.macs for x in layers):,} multiply-adds; each "
            f"output cell sees a {'×'.join(map(str, r))} window of the input, neighbours are {'×'.join(map(str, j))} "
            f"input cells apart.")
