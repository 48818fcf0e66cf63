"""Hostile layer specs through the one validation (``ConvSpec.validate``), the stack and the drawings: every bad
number is named with its range and the value received; absurd but well-formed sizes are answered by arithmetic, and
nothing allocates more than the stated budget."""
import re
import resource

import pytest

from explorer.convs.figures import see_it
from explorer.convs.kernels import MAX_CELLS, correlate
from explorer.convs.shapes import LARGEST, ConvSpec
from explorer.convs.text import describe
from explorer.convs.stacks import MAX_LAYERS, make_stack
from nst_core.checks import InputError

RANGE = r"must be a whole number from {lo} to 1,?000,?000,?000; got {got}\.$"

# field -> (value, the field's name in the message, its minimum, the value as the message shows it)
HOSTILE = [
    ("channels", 2**70, "the number of input channels", 1, "1180591620717411303424"),
    ("channels", float("inf"), "the number of input channels", 1, "inf"),
    ("channels", float("nan"), "the number of input channels", 1, "nan"),
    ("channels", -3, "the number of input channels", 1, "-3"),
    ("channels", 2.5, "the number of input channels", 1, "2.5"),
    ("channels", "three", "the number of input channels", 1, "'three'"),
    ("filters", 0, "the number of filters", 1, "0"),
    ("filters", "1e30", "the number of filters", 1, "'1e30'"),
    ("sizes", "14×-2×14", "the input size", 1, "-2"),
    ("sizes", "14×inf", "the input size", 1, "'14×inf'"),
    ("sizes", str(2**80), "the input size", 1, str(2**80)),
    ("kernel", "2.5", "the kernel size", 1, "'2.5'"),
    ("kernel", "nan", "the kernel size", 1, "'nan'"),
    ("stride", "0", "the stride", 1, "0"),
    ("stride", "-4", "the stride", 1, "-4"),
    ("padding", "-1", "the padding", 0, "-1"),
    ("padding", "9" * 5000, "the padding", 0, "'" + "9" * 38 + "…"),  # shortened to 40 characters
    ("dilation", "1.5", "the dilation", 1, "'1.5'"),
    ("groups", float("-inf"), "the number of groups", 1, "-inf"),
    ("output_padding", "-1", "the output padding", 0, "-1"),
    ("filter_channels", "0", "the number of channels in the filter", 1, "0"),
]


@pytest.mark.parametrize("field, value, name, lo, got", HOSTILE)
def test_each_bad_number_is_named_with_its_range_and_the_value_received(field, value, name, lo, got):
    spec = ConvSpec(**{"filter_channels": "", field: value})
    with pytest.raises(InputError) as caught:
        spec.validate()
    message = str(caught.value)
    assert message.startswith(name) and re.search(RANGE.format(lo=lo, got=re.escape(got)), message), message
    assert "Error" not in message and "Traceback" not in message and "/" not in message.replace(" / ", "")


def test_numbers_as_text_and_whole_floats_are_accepted():
    conv = ConvSpec(sizes=" 14, 14 ", channels="3", filters=16.0, kernel="5", stride="1", padding="valid",
                    filter_channels="").validate()
    assert conv.output_shape == (16, 10, 10)


def test_absurd_but_valid_sizes_are_answered_by_arithmetic_without_allocating():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    millions = ConvSpec(sizes="1000000000×1000000000", channels=LARGEST, filters=LARGEST, kernel="3",
                        filter_channels="").validate()
    assert millions.output_shape == (LARGEST, 999_999_998, 999_999_998)
    assert millions.parameters == LARGEST * LARGEST * 9 + LARGEST
    text = describe(millions)
    assert "≈ 9.00 × 10^18" in text and "PyTorch check: skipped, a tensor would hold more than 10^15" in text
    meta = ConvSpec(sizes="4096×4096", channels=256, filters=256, kernel="3", filter_channels="").validate()
    assert meta.torch_check_device() == "meta" and "on the meta device" in describe(meta)  # 4.3 G values: no memory
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: under 200 MB more


def test_a_kernel_larger_than_the_input_is_an_empty_output_with_a_sentence():
    conv = ConvSpec(sizes="14×14×14", channels=3, filters=16, kernel="5×99×5", filter_channels="3").validate()
    assert conv.output_shape == (16, 10, 0, 10)
    assert ("The kernel (99) is larger than the padded input (14 + 2·0 = 14) along the height: it cannot be placed "
            "even once, so the output is empty (0 cells).") == conv.empty_because()
    assert "14 ⊛ 99 → 14 − 99 + 1 = −84 < 1: empty" in describe(conv)


def test_a_transposed_layer_with_a_huge_stride_is_answered():
    conv = ConvSpec(sizes="7", channels=1, filters=1, kernel="3", stride=str(LARGEST), transposed=True,
                    output_padding="1", filter_channels="").validate()
    assert conv.output_shape == (1, 6 * LARGEST + 4)  # (7 − 1)·s − 0 + 1·(3 − 1) + 1 + 1


@pytest.mark.parametrize("rows, message", [
    ([["conv", 4, 3, 0]], "layer 1 (conv): the stride must be a whole number from 1"),
    ([["conv", "inf", 3]], "layer 1 (conv): the number of filters must be a whole number from 1"),
    ([["max pool", "", "1.5"]], "layer 1 (max pool): the kernel size must be a whole number from 1"),
    ([["dense", 4, 3]], "layer 1 (dense): the layer must be one of conv, max pool, avg pool; got 'dense'."),
    ([42], "layer 1 (?): each row holds layer, filters, kernel, stride, padding, dilation; got 42."),
    ("conv", "the layers are a table of at most 64 rows; got 'conv'."),
    ([["conv", 1, 1]] * (MAX_LAYERS + 1), f"the layers are a table of at most {MAX_LAYERS} rows; got 65 rows."),
])
def test_hostile_stack_rows_are_named(rows, message):
    with pytest.raises(InputError, match=re.escape(message)):
        make_stack((1, 16), rows)


def test_a_stack_ends_at_the_first_empty_output():
    layers = make_stack((1, 8), [["conv", 2, 3], ["conv", 2, 9], ["conv", 2, 3]])
    assert [layer.output_shape for layer in layers] == [(2, 6), (2, 0)]


@pytest.mark.parametrize("size, position, message", [
    (10**30, (0, 0, 0), "the filter size F must be a whole number from 1 to 16; got 10"),
    ("2.5", (0, 0, 0), "the filter size F must be a whole number from 1 to 16; got '2.5'."),
    (3, (0, -1, 0), "the output cell's height index must be a whole number at least 0; got -1."),
    (3, (0, float("nan"), 0), "the output cell's height index must be a whole number at least 0; got nan."),
])
def test_the_drawing_refuses_bad_filter_sizes_and_positions(size, position, message):
    with pytest.raises(InputError, match=re.escape(message)):
        see_it("clip of frames (time × height × width)", "blur (average)", size, position)


def test_the_drawing_refuses_inputs_beyond_its_budget():
    import numpy as np
    big = np.broadcast_to(np.float32(0), (MAX_CELLS + 1,))  # no memory: a view of one number
    with pytest.raises(InputError, match=f"the drawings take at most {MAX_CELLS:,}"):
        correlate(big, np.ones(3, np.float32))
