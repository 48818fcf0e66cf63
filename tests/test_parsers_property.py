"""Property-based tests (hypothesis) of the parsers every door shares: for any text (or value), each one parses or
raises the studio's one-sentence input error (``InputError``), never anything else. Sizes and Hub specs are in
tests/test_hostile_round2.py."""
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.__main__ import parse_layers, parse_units, parse_zooms
from explorer.convs.shapes import ConvSpec
from explorer.units.engines import cluster_endpoint
from explorer.units.index import check_conv_layers
from explorer.units.service import check_layer_unit
from nst_core.checks import InputError
from nst_core.options import StyleOptions
from nst_core.vgg import CONV_LAYERS, LAYER_NAMES

# texts near the valid ones as well as any text: digits, separators, signs, layer-like names, odd characters
NEAR = st.text(alphabet=string.digits + "x×*,()[] -+._:ecnovrlupst", max_size=24)
ANY_TEXT = st.one_of(NEAR, st.text(max_size=24), st.sampled_from(LAYER_NAMES))
ANY_VALUE = st.one_of(ANY_TEXT, st.integers(-10**40, 10**40), st.floats(allow_nan=True, allow_infinity=True),
                      st.none(), st.booleans())


def one_sentence(error: InputError) -> None:
    text = str(error)
    assert text and "\n" not in text and "Traceback" not in text and len(text) < 400, text


@settings(max_examples=300, deadline=None)
@given(kernel=ANY_VALUE, stride=ANY_VALUE, padding=ANY_VALUE, dilation=ANY_VALUE, sizes=ANY_VALUE)
def test_kernel_stride_padding_and_size_texts_make_a_layer_or_one_sentence(kernel, stride, padding, dilation, sizes):
    try:
        conv = ConvSpec(sizes=sizes, kernel=kernel, stride=stride, padding=padding, dilation=dilation).validate()
    except InputError as e:
        one_sentence(e)
    else:
        assert all(n >= 0 for n in conv.output_shape)


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_TEXT, max_size=4))
def test_layer_names_are_conv_layers_in_network_order_or_one_sentence(names):
    try:
        layers = parse_layers(names)
    except InputError as e:
        one_sentence(e)
    else:
        assert list(layers) == sorted(set(layers), key=CONV_LAYERS.index) and set(layers) <= set(CONV_LAYERS)
    try:
        assert set(check_conv_layers(names)) == set(names)
    except InputError as e:
        one_sentence(e)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, ANY_VALUE)
def test_a_layer_and_unit_of_the_app_are_checked_or_one_sentence(layer, unit):
    try:
        name, number = check_layer_unit(layer, unit)
    except InputError as e:
        one_sentence(e)
    else:
        assert name in CONV_LAYERS and 0 <= number < 512


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, st.sampled_from(["content_layer", "style_layers"]))
def test_stylization_layer_names_are_checked_or_one_sentence(text, field):
    value = text if field == "content_layer" else {text: 1.0}
    try:
        StyleOptions(**{field: value})
    except InputError as e:
        one_sentence(e)


@settings(max_examples=400, deadline=None)
@given(st.one_of(NEAR.map(lambda t: t.replace("x", "-")), st.from_regex(r"top-?\d{1,12}|\d{1,14}-\d{1,14}",
                                                                      fullmatch=True), ANY_TEXT),
       st.sampled_from([64, 128, 512]))
def test_unit_ranges_are_units_of_the_layer_or_one_sentence(text, count):
    try:
        units = parse_units(text, count, "convN_M")
    except InputError as e:
        one_sentence(e)
    else:
        assert units and all(0 <= u < count for u in units) and len(units) <= count * max(1, text.count(",") + 1)


@settings(max_examples=200, deadline=None)
@given(st.one_of(NEAR, st.text(max_size=12)))
def test_zoom_lists_are_zooms_or_one_sentence(text):
    try:
        zooms = parse_zooms(text)
    except InputError as e:
        one_sentence(e)
    else:
        assert zooms and all(1 <= z <= 4 for z in zooms)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.from_regex(r"(ray://)?[a-z0-9.\[\]:]{0,20}(:\d{0,7})?", fullmatch=True), st.text(max_size=30)))
def test_ray_addresses_are_an_endpoint_or_one_sentence(text):
    try:
        endpoint = cluster_endpoint(text)
    except InputError as e:
        one_sentence(e)
    else:
        assert endpoint is None or (endpoint[0] and 0 <= endpoint[1] < 65536)
