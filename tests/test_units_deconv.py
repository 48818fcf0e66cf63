"""Projections: the patch's shape, non-zero only inside the receptive field, windowed == full view."""
import numpy as np
import pytest
import torch

from explorer.units.deconv import METHODS, Request, project, rgb_signal, signal_to_image, unit_projections
from nst_core.receptive_field import receptive_field
from explorer.units.patches import cut_box, inside_mask
from nst_core.vgg import load_vgg19

UNITS = [("conv1_2", 5, 0, 3), ("conv2_1", 3, 15, 31), ("conv3_2", 7, 5, 0), ("conv4_1", 11, 2, 5),
         ("conv5_1", 2, 1, 3)]


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


@pytest.fixture(scope="module")
def rgb(tiny_pair):
    return np.ascontiguousarray(tiny_pair[0][:64, :64])


@pytest.fixture(scope="module")
def view(model, rgb):
    return model.preprocess(rgb)[0]  # (3, 64, 64) network input


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("layer, unit, y, x", UNITS)
def test_projection_lies_in_the_receptive_field(model, rgb, view, method, layer, unit, y, x):
    full = rgb_signal(project(model, view[None], layer, [unit], [y], [x], method), model.preprocessing)[0]
    rf = receptive_field(layer)
    top, left, bottom, right = rf.box(y, x)
    rows, cols = np.nonzero(np.abs(full).sum(2))
    assert len(rows) > 0
    assert rows.min() >= max(top, 0) and rows.max() < min(bottom, 64)
    assert cols.min() >= max(left, 0) and cols.max() < min(right, 64)
    (cropped,) = unit_projections(model, [rgb], layer, [Request(0, unit, y, x)], method)
    assert cropped.shape == (rf.size, rf.size, 3)  # the patch's shape
    expected = cut_box(full, top, left, rf.size, np.zeros((rf.size, rf.size, 3), np.float32))
    np.testing.assert_allclose(cropped, expected, rtol=1e-4, atol=1e-5 * np.abs(full).max())


@pytest.mark.parametrize("layer", ["conv3_1", "conv5_1"])
def test_batched_projections_equal_one_at_a_time(model, rgb, layer):
    """Batches mixing views, windows and shared forward passes give each projection as if computed alone."""
    views = [rgb, np.ascontiguousarray(rgb[:, ::-1])]
    requests = [Request(0, 1, 0, 0), Request(1, 2, 2, 3), Request(0, 1, 3, 3), Request(0, 5, 3, 3),
                Request(1, 1, 0, 0)]
    together = unit_projections(model, views, layer, requests)
    for r, p in zip(requests, together):
        (alone,) = unit_projections(model, [views[r.view]], layer, [Request(0, r.unit, r.y, r.x)])
        assert np.abs(alone).max() > 0
        np.testing.assert_allclose(p, alone, rtol=1e-4, atol=1e-5 * np.abs(alone).max())


def test_guided_backprop_is_deconvnet_masked_by_the_forward_signs(model, view):
    """At conv1_2 only one ReLU lies between: guided = deconvnet's signal with negatives of relu1_1's input cut."""
    layer, unit, y, x = "conv1_2", 9, 20, 30
    deconv = project(model, view[None], layer, [unit], [y], [x], "deconvnet")
    guided = project(model, view[None], layer, [unit], [y], [x], "guided")
    assert not torch.allclose(deconv, guided)
    with torch.no_grad():
        relu_in = model(view[None], ["conv1_1"])["conv1_1"]
        act = model(view[None], [layer])[layer][0, unit, y, x]
        top = torch.zeros(1, 64, 64, 64)
        top[0, unit, y, x] = act
        g = torch.nn.functional.conv_transpose2d(top, model.layers[2].weight, padding=1).relu() * (relu_in > 0)
        expected = torch.nn.functional.conv_transpose2d(g, model.layers[0].weight, padding=1)
    torch.testing.assert_close(guided, expected, rtol=1e-4, atol=1e-3)


def test_bad_method_and_display_scaling(model, view):
    with pytest.raises(ValueError, match="projection method must be one of deconvnet, guided"):
        project(model, view[None], "conv1_1", [0], [0], [0], "saliency")
    p = np.zeros((4, 4, 3), np.float32)
    p[1, 1] = [1.0, -1.0, 0.0]
    image = signal_to_image(p)
    assert image[0, 0].tolist() == [128, 128, 128] and image[1, 1].tolist() == [255, 1, 128]


def test_bf16_projections_of_large_windows_stay_in_the_field_and_match_fp32(model, tiny_pair):
    """Windows above SMALL_WINDOW pixels run in bf16: same support, nearly the same picture as fp32."""
    rgb = np.ascontiguousarray(tiny_pair[1][:64, :64].repeat(2, axis=0).repeat(2, axis=1))  # 128 x 128
    requests = [Request(0, 3, 4, 4), Request(0, 8, 0, 7)]
    rf = receptive_field("conv5_1")
    for r, fp32, bf16 in zip(requests, unit_projections(model, [rgb], "conv5_1", requests),
                             unit_projections(model, [rgb], "conv5_1", requests, precision="bf16")):
        top, left, _, _ = rf.box(r.y, r.x)
        outside = ~inside_mask((128, 128), top, left, rf.size)
        assert not bf16[outside].any() and np.abs(bf16).max() > 0
        assert np.corrcoef(fp32.ravel(), bf16.ravel())[0, 1] > 0.9
