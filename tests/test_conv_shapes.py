"""The convolution shape engine against real torch layers, the seeds' worked examples and its teaching errors."""
import math
import re

import gradio as gr
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from explorer.convs.text import describe
from explorer.convs.shapes import (PRESETS, conv_output_shape, course_text, input_shape_from, make_conv,
                                  make_pool, parse_size, to_channels_last)
from explorer.convs.stacks import STACK_EXAMPLE, make_stack, receptive_fields
from explorer.convs.text import STACK_HEADERS, stack_table
from nst_studio import conv_tab

FAST = settings(max_examples=60, deadline=None)


def torch_run(cfg):
    """Build the torch layer for a config independently of the engine; run zeros; return (layer, output shape)."""
    C, *sizes = cfg["input_shape"]
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])
    if cfg["transposed"]:
        kw["padding"] = 0 if kw["padding"] == "valid" else kw["padding"]  # torch's ConvTranspose takes numbers only
        layer = getattr(nn, f"ConvTranspose{len(sizes)}d")(C, cfg["out_channels"], cfg["kernel_size"],
                                                           output_padding=cfg["output_padding"], **kw)
    else:
        layer = getattr(nn, f"Conv{len(sizes)}d")(C, cfg["out_channels"], cfg["kernel_size"], **kw)
    with torch.no_grad():
        return layer, tuple(layer(torch.zeros(1, C, *sizes)).shape[1:])


@st.composite
def valid_configs(draw):
    """A random valid Conv/ConvTranspose in 1D-3D: small sizes, input big enough for the kernel."""
    nd = draw(st.integers(1, 3))
    dims = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(nd))  # noqa: E731
    g = draw(st.integers(1, 3))
    k, s, d = dims(1, 4), dims(1, 3), dims(1, 2)
    transposed = draw(st.booleans())
    if transposed:
        p = dims(0, 2)
        a = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
        low = [1 + max(0, math.ceil((2 * pi - di * (ki - 1) - ai) / si)) for pi, di, ki, ai, si in zip(p, d, k, a, s)]
    else:
        p = draw(st.sampled_from(["valid", "same"] if max(s) == 1 else ["valid"]) | st.just(dims(0, 2)))
        a = 0
        pads = (0,) * nd if isinstance(p, str) else p
        low = [max(1, di * (ki - 1) + 1 - 2 * pi) for di, ki, pi in zip(d, k, pads)]
    sizes = tuple(draw(st.integers(lo, lo + 4)) for lo in low)
    return dict(input_shape=(g * draw(st.integers(1, 2)), *sizes), out_channels=g * draw(st.integers(1, 2)),
                kernel_size=k, stride=s, padding=p, dilation=d, groups=g, transposed=transposed, output_padding=a)


@FAST
@given(valid_configs())
def test_formula_matches_the_real_torch_layer(cfg):
    layer, torch_shape = torch_run(cfg)
    conv = make_conv(**cfg)
    assert conv_output_shape(**cfg) == conv.output_shape == torch_shape
    assert conv.torch_output_shape() == torch_shape
    assert conv.weight_shape == tuple(layer.weight.shape)
    assert conv.parameters == sum(p.numel() for p in layer.parameters())
    with FlopCounterMode(display=False) as flops, torch.no_grad():
        layer(torch.zeros(1, *cfg["input_shape"]))
    assert 2 * conv.macs == flops.get_total_flops()


@FAST
@given(nd=st.integers(1, 3), C=st.integers(1, 4), F=st.integers(1, 4), k=st.integers(1, 5), s=st.integers(1, 3),
       d=st.integers(1, 3), g=st.integers(1, 3), n=st.integers(1, 5), transposed=st.booleans(), op=st.integers(0, 3),
       p=st.sampled_from([0, 1, 2, 3, "valid", "same"]))
def test_engine_refuses_or_empties_exactly_what_torch_refuses(nd, C, F, k, s, d, g, n, transposed, op, p):
    """Where torch refuses a layer, the engine either refuses it with a sentence (an invalid layer) or answers an
    empty output with a sentence (a kernel that does not fit); where torch answers, the engine gives its shape."""
    cfg = dict(input_shape=(C, *(n,) * nd), out_channels=F, kernel_size=k, stride=s, padding=p, dilation=d,
               groups=g, transposed=transposed, output_padding=op if transposed else 0)
    try:
        torch_shape = torch_run(cfg)[1]
    except (RuntimeError, ValueError, TypeError):
        torch_shape = None
    if torch_shape is None or 0 in torch_shape:  # torch's grouped transposed path returns an empty output, no error
        try:
            conv = make_conv(**cfg)
        except ValueError:
            return
        assert conv.is_empty and conv.output_shape == conv_output_shape(**cfg)
        assert "the output is empty" in conv.empty_because()
        assert conv.torch_output_shape() is None  # torch is not asked: it would refuse
    else:
        conv = make_conv(**cfg)
        assert conv.output_shape == torch_shape and conv.empty_because() is None


@FAST
@given(nd=st.integers(1, 3), k=st.integers(1, 4), s=st.none() | st.integers(1, 3), p=st.integers(0, 3),
       n=st.integers(1, 6), kind=st.sampled_from(["max pool", "avg pool"]))
def test_pools_match_torch_and_refuse_what_it_refuses(nd, k, s, p, n, kind):
    pool = getattr(nn, f"{'Max' if kind == 'max pool' else 'Avg'}Pool{nd}d")(k, stride=s, padding=p)
    try:
        torch_shape = tuple(pool(torch.zeros(1, 2, *(n,) * nd)).shape[1:])
    except RuntimeError:  # refused with a sentence, or answered as an empty output (the window does not fit)
        try:
            layer = make_pool((2, *(n,) * nd), k, s, p, kind)
        except ValueError:
            return
        assert layer.is_empty and "the output is empty" in layer.empty_because()
    else:
        layer = make_pool((2, *(n,) * nd), k, s, p, kind)
        assert layer.output_shape == torch_shape and layer.parameters == layer.macs == 0


def test_seed_1d_examples():
    assert conv_output_shape((1, 14), 1, 5) == (1, 10)  # (14, 1) ⊛ (5, 1) → (10, 1)
    out = conv_output_shape((1, 14), 16, 5)
    assert out == (16, 10) and to_channels_last(out) == (10, 16)


@given(nd=st.integers(1, 3), N=st.integers(1, 30), F=st.integers(1, 30))
@FAST
def test_seed_rule_n_conv_f_is_n_minus_f_plus_1(nd, N, F):
    conv = make_conv((1, *(N,) * nd), 1, F)
    if F <= N:
        assert conv.output_shape == (1, *(N - F + 1,) * nd) and conv.empty_because() is None
    else:  # the kernel cannot be placed even once: an empty output, and a sentence saying why
        assert conv.output_shape == (1, *(0,) * nd)
        assert f"The kernel ({F}) is larger than the padded input ({N} + 2·0 = {N})" in conv.empty_because()


def test_seed_3d_examples():
    assert conv_output_shape((1, 14, 14, 14), 1, (5, 5, 5)) == (1, 10, 10, 10)
    conv = make_conv((3, 14, 14, 14), 16, 5, filter_channels=3)  # 14×14×14×3 with 16 filters 5×5×5×3
    assert conv.output_shape == (16, 10, 10, 10) and course_text(conv.output_shape) == "10×10×10×16"
    assert conv.weight_shape == (16, 3, 5, 5, 5) and course_text(conv.weight_shape[1:]) == "5×5×5×3"


def test_presets_are_the_seeds_examples():
    expected = [(1, 10), (16, 10), (1, 4, 4), (1, 10, 10, 10), (16, 10, 10, 10)]
    assert [make_conv(**kw).output_shape for kw in PRESETS.values()] == expected


def test_describe_plugs_the_users_numbers_into_the_rule_and_checks_torch():
    text = describe(make_conv((3, 14, 14, 14), 16, 5))
    assert "10×10×10×16" in text and "(16, 10, 10, 10)" in text
    assert "14 ⊛ 5 → 14 − 5 + 1 = 10" in text and "⌊(14 + 2·0 − 1·(5 − 1) − 1) / 1⌋ + 1 = 10" in text
    assert "6,016" in text and "6,000,000" in text and "✓ same shape" in text
    assert "does not apply" in describe(make_conv((1, 9), 1, 3, stride=2))
    assert "(5 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 10" in describe(make_conv((1, 5), 1, 3, 2, 1, transposed=True,
                                                                            output_padding=1))


def test_large_layers_are_checked_on_the_meta_device():
    conv = make_conv((64, 256, 256, 128), 64, 3, padding="same")
    assert conv.torch_check_device() == "meta"
    assert conv.torch_output_shape() == conv.output_shape == (64, 256, 256, 128)
    huge = make_conv((10**6, 10**9, 10**9, 10**9), 10**6, 3)  # 10^33 input values: the formula alone answers
    assert huge.torch_check_device() is None and huge.torch_output_shape() is None
    assert huge.output_shape == (10**6, *(10**9 - 2,) * 3) and huge.macs == 10**6 * (10**9 - 2) ** 3 * 10**6 * 27
    assert "PyTorch check: skipped, a tensor would hold more than 10^15 values" in describe(huge)


ERRORS = [
    (dict(input_shape=(3, 14), out_channels=16, kernel_size=5, filter_channels=2),
     "the number of channels in the filter (2) must match the number of channels in the input (3)"),
    (dict(input_shape=(4, 14), out_channels=8, kernel_size=5, groups=2, filter_channels=4),
     "the number of channels in the filter (4) must match the number of channels in the input divided by the groups"),
    (dict(input_shape=(1, 8), out_channels=1, kernel_size=3, stride=2, padding="same"),
     "'same' padding keeps the input's size only with stride 1"),
    (dict(input_shape=(3, 8), out_channels=4, kernel_size=3, groups=2),
     "the number of groups (2) must divide the number of input channels (3) and the number of filters (4)"),
    (dict(input_shape=(1, 8), out_channels=1, kernel_size=3, stride=2, transposed=True, output_padding=2),
     "the output padding (2) must be smaller than the stride (2) or the dilation (1) along the length"),
    (dict(input_shape=(1, 8), out_channels=1, kernel_size=3, output_padding=1),
     "output padding only exists for transposed convolutions"),
    (dict(input_shape=(1, 8), out_channels=1, kernel_size=3, padding="same", transposed=True),
     "'same' padding is defined for ordinary convolutions only"),
    (dict(input_shape=(1, 8, 8, 8), out_channels=1, kernel_size=(3, 3)),
     "the kernel size has 2 numbers but the input has 3 spatial dimensions"),
    (dict(input_shape=(1, 8, 8, 8, 8), out_channels=1, kernel_size=3), "the input has channels, then 1, 2 or 3 sizes"),
    (dict(input_shape=(1, 8), out_channels=1, kernel_size=3, stride=0),
     "the stride must be a whole number from 1 to "),
    (dict(input_shape=(1, 8), out_channels=1, kernel_size=3, padding=-1),
     "the padding must be a whole number from 0 to "),
    (dict(input_shape=(1, 8), out_channels=1, kernel_size=3, padding="full"),
     "the padding is a whole number from 0 to 1,000,000,000 (or one per dimension), 'valid' or 'same'; got 'full'."),
    (dict(input_shape=(1, 8), out_channels=0, kernel_size=3), "the number of filters must be a whole number from 1"),
    (dict(input_shape=(1, 8), out_channels=1.5, kernel_size=3), "the number of filters must be a whole number"),
]


@pytest.mark.parametrize("cfg, message", ERRORS)
def test_each_invalid_configuration_gives_its_sentence(cfg, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_conv(**cfg)


EMPTY = [
    (dict(input_shape=(1, 4, 9), out_channels=1, kernel_size=5),
     "The kernel (5) is larger than the padded input (4 + 2·0 = 4) along the height", (1, 0, 5)),
    (dict(input_shape=(1, 6), out_channels=1, kernel_size=3, dilation=3),
     "The kernel (3, dilated to 7) is larger than the padded input (6 + 2·0 = 6)", (1, 0)),
    (dict(input_shape=(1, 2), out_channels=1, kernel_size=3, padding=4, transposed=True),
     "The padding (4 on each side) crops away the whole output of the transposed convolution", (1, 0)),
]


@pytest.mark.parametrize("cfg, message, shape", EMPTY)
def test_a_kernel_that_does_not_fit_gives_an_empty_output_and_says_why(cfg, message, shape):
    conv = make_conv(**cfg)
    assert conv.output_shape == shape and conv.macs == 0 and conv.torch_output_shape() is None
    assert message in conv.empty_because()
    text = describe(conv)
    assert "**Empty output.**" in text and message in text and "nothing fits, empty" in text
    assert "PyTorch check: skipped, the output is empty" in text


def test_pool_and_stack_sentences():
    with pytest.raises(ValueError, match=re.escape("the padding of a pooling layer (2) can be at most half its kernel")):
        make_pool((1, 8), 2, padding=2)
    with pytest.raises(ValueError, match=re.escape("layer 2 (conv): the stride must be a whole number from 1")):
        make_stack((1, 8), [["conv", 4, 3], ["conv", 4, 3, 0]])
    with pytest.raises(ValueError, match=re.escape("layer 1 (dense): the layer must be one of conv, max pool")):
        make_stack((1, 8), [["dense", 4]])


def test_parse_size_reads_what_people_type():
    assert [parse_size(t) for t in ("5", " 5×5 ", "5x5x5", "(5,)", "3, 4", "same", "VALID", "", None, float("nan"))] \
        == [5, (5, 5), (5, 5, 5), (5,), (3, 4), "same", "valid", None, None, None]
    assert parse_size(" 5a ") == "5a"  # not a size: left for make_conv to name with its field and range
    assert input_shape_from(3, "14×14×14") == (3, 14, 14, 14)
    with pytest.raises(ValueError, match="the kernel size must be a whole number from 1 to .*; got '5a'"):
        make_conv((1, 8), 1, parse_size("5a"))
    with pytest.raises(ValueError, match="the input size is missing"):
        input_shape_from(3, "")


def test_stack_example_table():
    layers = make_stack((3, 32, 32), STACK_EXAMPLE)
    fields = receptive_fields(layers)
    assert [r for r, _ in fields] == [(3, 3), (5, 5), (6, 6), (10, 10), (12, 12)]  # by hand: r += d(k-1)·j
    assert [j for _, j in fields] == [(1, 1), (1, 1), (2, 2), (2, 2), (4, 4)]
    rows = stack_table(layers)
    assert [row[0] for row in rows] == ["conv1 (conv)", "conv2 (conv)", "pool1 (max pool)", "conv3 (conv)",
                                        "pool2 (max pool)"]
    assert all(len(row) == len(STACK_HEADERS) and row[-1] == "✓" for row in rows)
    assert rows[-1][1:3] == ["8×8×32", "(32, 8, 8)"]
    torch_params = sum(p.numel() for layer in layers for p in layer.torch_layer().parameters())
    assert sum(layer.parameters for layer in layers) == torch_params == 448 + 2320 + 4640
    assert [row[4] for row in rows] == ["448", "2,320", "0", "4,640", "0"]


@settings(max_examples=30, deadline=None)
@given(nd=st.integers(1, 2), specs=st.lists(st.tuples(st.sampled_from(["conv", "avg pool"]), st.integers(1, 3),
                                                      st.integers(1, 2), st.integers(1, 2)), min_size=1, max_size=4))
def test_receptive_field_is_the_span_of_input_cells_an_output_cell_depends_on(nd, specs):
    rows = [[kind, 1, k, s, 0, d if kind == "conv" else 1] for kind, k, s, d in specs]
    n = 128  # large enough that 4 layers of stride 2 and dilated kernel 5 still fit: 128 -> 62 -> 29 -> 13 -> 5
    layers = make_stack((1, *(n,) * nd), rows)
    net = nn.Sequential(*(layer.torch_layer() for layer in layers))
    for m in net.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    x = torch.ones(1, 1, *(n,) * nd, requires_grad=True)
    net(x)[(0, 0, *(0,) * nd)].backward()
    touched = x.grad[0, 0].nonzero()
    span = tuple(int(touched[:, i].max() - touched[:, i].min() + 1) for i in range(nd))
    assert span == receptive_fields(layers)[-1][0]


def test_tab_handlers_show_the_sentence_as_gr_error():
    fields = ["14", 3, 16, "5", "1", "0", "1", 1, False, "0", "2"]
    with pytest.raises(gr.Error, match=re.escape("the number of channels in the filter (2) must match")):
        conv_tab.layer_report(*fields)
    with pytest.raises(gr.Error, match="'same' padding keeps the input's size only with stride 1"):
        conv_tab.layer_report("14", 1, 1, "3", "2", "same", "1", 1, False, "0", "")
    with pytest.raises(gr.Error, match=re.escape("layer 2 (conv): the number of filters must be a whole number")):
        conv_tab.stack_report("8", 1, [["conv", 4, 3, "", "", ""], ["conv", "4.5", 3, "", "", ""]])
    assert "10×16" in conv_tab.layer_report("14", 1, 16, "5", "1", "0", "1", 1, False, "0", "")
    form = conv_tab.preset_form(list(PRESETS)[-1])
    assert "10×10×10×16" in conv_tab.layer_report(*form)
