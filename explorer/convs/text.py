"""The playground's words: the size formula with the user's numbers in, one layer's Markdown account, and the stack's
table and summary. Counts may be astronomically large (shapes are exact Python ints): they are written exactly up to
10¹², then as a power of ten."""
from __future__ import annotations

from collections.abc import Sequence

from .shapes import (DIM_NAMES, META_CHECK_VALUES, REAL_CHECK_MACS, REAL_CHECK_VALUES, Conv, course_text,
                     number_text)
from .stacks import receptive_fields

STACK_HEADERS = ("layer", "output (course, C last)", "output (PyTorch, C first)", "weight", "parameters", "MACs",
                 "receptive field", "jump", "torch")
TORCH_BUDGET = (f"The PyTorch check runs the real layer on zeros when its tensors hold at most "
                f"{REAL_CHECK_VALUES // 10**6} million values and it costs at most {REAL_CHECK_MACS // 10**6} million "
                "multiply-adds; larger layers run on torch's meta device (shapes only, no memory), and past "
                f"10^{len(str(META_CHECK_VALUES)) - 1} values in one tensor the formula alone answers.")


def count_text(n: int) -> str:
    """442368 -> '442,368'; 10**40 -> '≈ 1.00 × 10^40' (exact up to 10¹²)."""
    if n < 10**12:
        return f"{n:,}"
    digits = len(str(n)) - 1
    return f"≈ {n / 10**digits:.2f} × 10^{digits}" if digits < 300 else f"≈ 10^{digits}"


def shape_text(shape: Sequence[int]) -> str:
    """A tuple as PyTorch prints it, e.g. '(16, 10, 10)'; sizes past 10¹² shortened so the line stays readable."""
    return "(" + ", ".join(str(n) if n < 10**12 else count_text(n) for n in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def formula_text(conv: Conv, i: int) -> str:
    """Spatial dimension i's size formula with the numbers in, e.g. '⌊(14 + 2·0 − 1·(5 − 1) − 1) / 1⌋ + 1 = 10'."""
    n, k, s, p, d = conv.input_shape[1 + i], conv.kernel_size[i], conv.stride[i], conv.pads[i], conv.dilation[i]
    out, p = conv.output_shape[1 + i], number_text(p)
    result = f"= {out}" if out else "< 1: nothing fits, empty"
    if conv.transposed:
        return f"({n} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {conv.output_padding[i]} + 1 {result}"
    return f"⌊({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1 {result}"


def rule_text(conv: Conv) -> str:
    """The course's rule N ⊛ F → N − F + 1 with this layer's numbers, or why it does not apply."""
    plain = conv.kind == "conv" and conv.pads == (0,) * len(conv.pads) and max(conv.stride + conv.dilation) == 1
    if not plain:
        return "The course's rule N ⊛ F → N − F + 1 is the formula with s = 1, p = 0, d = 1; it does not apply here."
    sizes = zip(conv.input_shape[1:], conv.kernel_size)
    steps = ", ".join(f"{n} ⊛ {k} → {n} − {k} + 1 = {n - k + 1}".replace("= -", "= −")  # a minus sign
                      + (" < 1: empty" if n < k else "") for n, k in sizes)
    return f"The course's rule N ⊛ F → N − F + 1: {steps}."


def torch_check_text(conv: Conv) -> str:
    """The PyTorch check's line: the layer run on zeros (or on the meta device), or why it was skipped."""
    device = conv.torch_check_device()
    if device is None:
        why = ("the output is empty, and torch refuses such a layer" if conv.is_empty else
               f"a tensor would hold more than 10^{len(str(META_CHECK_VALUES)) - 1} values")
        return f"PyTorch check: skipped, {why}; the formula alone answers."
    torch_shape = conv.torch_output_shape()
    verdict = "✓ same shape" if torch_shape == conv.output_shape else "✗ differs from the formula"
    where = "real zeros" if device == "cpu" else "the meta device (shapes only: the tensors would be large)"
    return (f"PyTorch check: `{conv.torch_layer('meta')}` on {where} of shape {shape_text((1, *conv.input_shape))} "
            f"→ {shape_text((1, *torch_shape))} {verdict}")


def describe(conv: Conv) -> str:
    """A Markdown account of one layer: both notations, the formula per dimension, weights, cost and the torch check."""
    names = DIM_NAMES[len(conv.kernel_size)]
    if conv.is_pool:
        weights = "no weights: it keeps the max / average of each window, channel by channel"
    else:
        block = course_text(conv.weight_shape[1:])
        channels = conv.weight_shape[1]
        spans = f"{'×'.join(map(str, conv.kernel_size))} positions × {channels} channel{'s' * (channels != 1)}"
        parts = (f"one {block} block per input channel, spread over the output" if conv.transposed else
                 f"{conv.out_channels:,} filter{'s' * (conv.out_channels != 1)} of {block}: {spans}")
        weights = (f"weight **{shape_text(conv.weight_shape)}**: {parts} (course: sizes, then channels); parameters "
                   f"{'·'.join(map(str, conv.weight_shape))} + {conv.out_channels} "
                   f"bias{'es' * (conv.out_channels != 1)} = "
                   f"**{count_text(conv.parameters)}**")
    empty = conv.empty_because()
    return "\n".join([
        f"**Output {course_text(conv.output_shape)}** (course: sizes, then channels) = "
        f"**{shape_text(conv.output_shape)}** (PyTorch: channels first)",
        *([] if empty is None else ["", f"**Empty output.** {empty}"]),
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        "| n_out | " + " | ".join(formula_text(conv, i) for i in range(len(names))) + " |",
        "",
        rule_text(conv),
        "",
        f"- {weights}",
        f"- multiply-adds: **{count_text(conv.macs)}**",
        f"- {torch_check_text(conv)}",
    ])


def stack_table(layers: Sequence[Conv]) -> list[list]:
    """One row per layer (see STACK_HEADERS): name, output in both notations, weight, parameters, MACs, receptive
    field, jump, torch check (✓ same shape, ✗ differs, — skipped)."""
    rows, counts = [], {}  # conv1, conv2, pool1, ...
    for layer, (r, j) in zip(layers, receptive_fields(layers)):
        base = "conv" if layer.kind == "conv" else "pool"
        counts[base] = counts.get(base, 0) + 1
        torch_shape = layer.torch_output_shape()
        check = "—" if torch_shape is None else "✓" if torch_shape == layer.output_shape else "✗"
        rows.append([f"{base}{counts[base]} ({layer.kind})", course_text(layer.output_shape),
                     shape_text(layer.output_shape), shape_text(layer.weight_shape) if layer.weight_shape else "—",
                     count_text(layer.parameters), count_text(layer.macs), "×".join(map(str, r)),
                     "×".join(map(str, j)), check])
    return rows


def describe_stack(layers: Sequence[Conv]) -> str:
    """One sentence: input -> output in both notations, total parameters and multiply-adds, final receptive field
    (and, if a layer's output is empty, which one and why)."""
    if not layers:
        return "Add layers to the table: conv, max pool or avg pool."
    r, j = receptive_fields(layers)[-1]
    first, last = layers[0].input_shape, layers[-1].output_shape
    count = f"{len(layers)} layer{'s' * (len(layers) != 1)}"
    text = (f"{count}: {course_text(first)} → **{course_text(last)}** (PyTorch {shape_text(first)} → "
            f"{shape_text(last)}); {count_text(sum(x.parameters for x in layers))} parameters, "
            f"{count_text(sum(x.macs for x in layers))} multiply-adds; each output cell sees a "
            f"{'×'.join(map(str, r))} window of the input, neighbours are {'×'.join(map(str, j))} input cells apart.")
    if layers[-1].is_empty:
        text += (f" **Layer {len(layers)}'s output is empty.** {layers[-1].empty_because()} Layers after it have no "
                 "input, so they are not computed.")
    return text
