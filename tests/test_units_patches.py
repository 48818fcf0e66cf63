"""Patches are the formula's box, pixel for pixel, with visible padding where the box leaves the image."""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nst_core.receptive_field import receptive_field
from explorer.units.patches import cut_patch, padding_pattern
from explorer.units.tiles import Cell, dead_tile, dead_units, unit_tile, units_by_peak
from explorer.units.topk import TopK, spatial_maxima
from nst_core.vgg import CONV_LAYERS

IMAGE = np.random.default_rng(0).integers(0, 256, (64, 48, 3), dtype=np.uint8)


def expected_pixel(layer, y, x, i, j):
    """Patch pixel (i, j) by definition: image[y*J - P + i, x*J - P + j] if inside, else the padding pattern."""
    rf = receptive_field(layer)
    r, c = y * rf.jump - rf.padding + i, x * rf.jump - rf.padding + j
    if 0 <= r < IMAGE.shape[0] and 0 <= c < IMAGE.shape[1]:
        return IMAGE[r, c]
    return padding_pattern(rf.size, rf.size)[i, j]


@settings(max_examples=40, deadline=None)
@given(layer=st.sampled_from(CONV_LAYERS[:10]), data=st.data())
def test_patch_equals_the_formula_box(layer, data):
    rf = receptive_field(layer)
    y = data.draw(st.integers(0, IMAGE.shape[0] // rf.jump - 1))
    x = data.draw(st.integers(0, IMAGE.shape[1] // rf.jump - 1))
    patch = cut_patch(IMAGE, layer, y, x)
    assert patch.shape == (rf.size, rf.size, 3) and patch.dtype == np.uint8
    for i, j in [(0, 0), (rf.size - 1, rf.size - 1), (rf.size // 2, 0), (0, rf.size - 1), (rf.size // 3, rf.size // 2)]:
        assert (patch[i, j] == expected_pixel(layer, y, x, i, j)).all(), (i, j)


def test_corner_unit_is_padded_not_shifted():
    rf = receptive_field("conv2_1")  # R = 10, J = 2, P = 4
    patch = cut_patch(IMAGE, "conv2_1", 0, 0)
    p = rf.padding
    assert (patch[p:, p:] == IMAGE[:rf.size - p, :rf.size - p]).all()  # the image starts P pixels in
    pad = padding_pattern(rf.size, rf.size)
    assert (patch[:p] == pad[:p]).all() and (patch[:, :p] == pad[:, :p]).all()
    assert len(np.unique(pad.reshape(-1, 3), axis=0)) == 2  # the padding is a visible two-tone checkerboard


def test_bottom_right_unit_and_a_box_larger_than_the_image():
    layer = "conv3_1"
    rf = receptive_field(layer)
    y, x = IMAGE.shape[0] // rf.jump - 1, IMAGE.shape[1] // rf.jump - 1
    patch = cut_patch(IMAGE, layer, y, x)
    top, left = rf.start(y), rf.start(x)
    assert (patch[:IMAGE.shape[0] - top, :IMAGE.shape[1] - left] == IMAGE[top:, left:]).all()
    big = cut_patch(IMAGE, "conv5_4", 1, 1)  # R = 252 > the 64 x 48 image: the whole image sits inside
    top = receptive_field("conv5_4").start(1)
    assert (big[-top:-top + 64, -top:-top + 48] == IMAGE).all()


def test_dead_units_are_flagged_and_drawn_as_such():
    top = TopK.empty(3, 9)
    act = torch.zeros(1, 3, 2, 2)
    act[0, 0, 1, 0], act[0, 2, 0, 1] = 5.0, 0.5  # unit 1 stays at 0 (rectified: never fires)
    values, ys, xs = spatial_maxima(act)
    top.update(values, torch.tensor([0]), ys, xs)
    assert top.dead().tolist() == [False, True, False]

    class FakeIndex:
        def top(self, layer):
            return top

    assert dead_units(FakeIndex(), "conv1_1") == [1]
    assert units_by_peak(FakeIndex(), "conv1_1") == [0, 2, 1]
    dead = [Cell(0, "a.png", 0, 0, -1.0, (-1, -1, 2, 2), np.zeros((3, 3, 3), np.uint8))]
    assert (unit_tile(dead) == dead_tile(unit_tile(dead).shape[0])).all()
    alive = [Cell(0, "a.png", 0, 0, 5.0, (-1, -1, 2, 2), np.full((3, 3, 3), 7, np.uint8))]
    assert (unit_tile(alive)[:64, :64] == 7).all()  # the first cell is the patch, enlarged
