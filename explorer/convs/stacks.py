"""Stacks of layers (conv, max pool, avg pool) one after another, and the receptive field of their output cells.

Per spatial dimension, with r_0 = j_0 = 1 (one input cell, unit step):

    r_l = r_(l−1) + d_l·(k_l − 1)·j_(l−1)     (receptive field: input cells one output cell sees)
    j_l = j_(l−1)·s_l                        (jump: input cells between neighbouring output cells)
"""
from __future__ import annotations

from collections.abc import Sequence

from nst_core.checks import InputError, one_of, shown

from .shapes import Conv, check_input_shape, make_conv, make_pool, parse_size

STACK_KINDS = ("conv", "max pool", "avg pool")
STACK_COLUMNS = ("layer", "filters", "kernel", "stride", "padding", "dilation")
STACK_EXAMPLE = [["conv", 16, 3, 1, 1, 1], ["conv", 16, 3, 1, 1, 1], ["max pool", "", 2, "", "", ""],
                 ["conv", 32, 3, 1, 1, 1], ["max pool", "", 2, "", "", ""]]  # a small VGG-like stack, input 3×32×32
STACK_INPUT = ("32×32", 3)  # the example's input: sizes and channels
MAX_LAYERS = 64


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


def stack_layer(shape: tuple[int, ...], row: Sequence) -> Conv | None:
    """One row (layer, filters, kernel, stride, padding, dilation) as typed in the table -> its layer on ``shape``;
    blank cells take the defaults (stride 1 for conv, the kernel for pools; padding 0; dilation 1), a blank row None."""
    if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
        raise InputError(f"each row holds {', '.join(STACK_COLUMNS)}; got {shown(row)}.")
    kind, filters, kernel, stride, padding, dilation = (list(row) + [None] * 6)[:6]
    kind = str(kind or "").strip().lower()
    if not kind:
        return None
    one_of("the layer", kind, STACK_KINDS)
    filters, kernel, stride, padding, dilation = map(parse_size, (filters, kernel, stride, padding, dilation))
    padding = 0 if padding is None else padding
    if kind == "conv":
        return make_conv(shape, filters, kernel, 1 if stride is None else stride, padding,
                         1 if dilation is None else dilation)
    return make_pool(shape, kernel, stride, padding, kind)


def make_stack(input_shape, rows: Sequence[Sequence]) -> list[Conv]:
    """Layers one after another (see ``stack_layer``); blank rows are skipped. The stack ends at the first layer
    whose output is empty (its kernel does not fit): later layers would have no input. An invalid layer raises
    ``InputError`` naming it."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise InputError(f"the layers are a table of at most {MAX_LAYERS} rows; got {shown(rows)}.")
    if len(rows) > MAX_LAYERS:
        raise InputError(f"the layers are a table of at most {MAX_LAYERS} rows; got {len(rows)} rows.")
    layers, shape = [], check_input_shape(input_shape)
    for row in rows:
        try:
            layer = stack_layer(shape, row)
        except InputError as error:
            kind = str(row[0]).strip()[:20] if isinstance(row, Sequence) and row else "?"
            raise InputError(f"layer {len(layers) + 1} ({kind}): {error}") from None
        if layer is None:
            continue
        layers.append(layer)
        if layer.is_empty:
            break
        shape = layer.output_shape
    return layers
