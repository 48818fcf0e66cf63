"""Receptive fields: the R, J, P recurrence against the gradient support of single units."""
import numpy as np
import pytest
import torch
from torch import nn

from nst_core.receptive_field import LayerSpec, layer_spec, receptive_field
from nst_core.vgg import LAYER_INDEX, LAYER_NAMES, load_vgg19


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


def module_spec(module: nn.Module) -> LayerSpec:
    def single(v):
        return v[0] if isinstance(v, tuple) else v

    if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
        return LayerSpec(single(module.kernel_size), single(module.stride), single(module.padding))
    assert isinstance(module, nn.ReLU)
    return LayerSpec(1, 1, 0)


def test_layer_specs_match_the_built_network(model):
    assert [layer_spec(n) for n in LAYER_NAMES] == [module_spec(m) for m in model.layers]


def probe_network(model, layer: str) -> nn.Sequential:
    """The network's geometry with every weight positive: 1-channel convolutions of ones (same kernel, stride,
    padding as the real layers), average pools in place of max pools (same windows, gradient to every input).
    The gradient of a unit is then > 0 exactly on the input pixels the unit depends on."""
    layers = []
    for m in model.layers[:LAYER_INDEX[layer] + 1]:
        if isinstance(m, nn.Conv2d):
            conv = nn.Conv2d(1, 1, m.kernel_size, m.stride, m.padding, bias=False).double()
            nn.init.ones_(conv.weight)
            layers.append(conv)
        elif isinstance(m, nn.MaxPool2d):
            layers.append(nn.AvgPool2d(m.kernel_size, m.stride, m.padding))
    return nn.Sequential(*layers)


def gradient_support(net, size: int, y: int, x: int):
    """(top, left, bottom, right), half-open, of the input pixels with a non-zero gradient of unit (y, x)."""
    image = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    net(image)[0, 0, y, x].backward()
    rows, cols = np.nonzero(image.grad[0, 0].numpy())
    assert len(rows) > 0
    return rows.min(), cols.min(), rows.max() + 1, cols.max() + 1


@pytest.mark.parametrize("layer, size", [
    ("conv1_1", 32), ("conv1_2", 32), ("pool1", 32), ("conv2_1", 64), ("relu2_2", 64), ("pool2", 64),
    ("conv3_1", 64), ("conv3_4", 96), ("conv4_1", 96), ("pool4", 96), ("conv5_4", 288),
])
def test_formula_box_equals_gradient_support(model, layer, size):
    net = probe_network(model, layer)
    rf = receptive_field(layer)
    cells = size // rf.jump
    for y, x in [(0, 0), (cells // 2, cells // 3), (cells - 1, cells - 1), (0, cells - 1)]:
        top, left, bottom, right = rf.box(y, x)
        clipped = (max(top, 0), max(left, 0), min(bottom, size), min(right, size))
        assert gradient_support(net, size, y, x) == clipped, (layer, y, x)


def test_interior_unit_sees_exactly_R_by_R_pixels(model):
    rf = receptive_field("conv5_4")
    net = probe_network(model, "conv5_4")
    top, left, bottom, right = gradient_support(net, 288, 9, 9)
    assert (bottom - top, right - left) == (rf.size, rf.size)
    assert (top, left) == (9 * rf.jump - rf.padding,) * 2


def test_real_network_gradient_stays_inside_the_box(model):
    """With the real weights (ReLUs and max pools may cut parts off) the support is still inside the box."""
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    layer, y, x = "conv3_1", 5, 2
    model(model.normalize(image), [layer])[layer][0, 7, y, x].backward()
    rows, cols = np.nonzero(image.grad[0].abs().sum(0).numpy())
    top, left, bottom, right = receptive_field(layer).box(y, x)
    assert rows.min() >= max(top, 0) and rows.max() < bottom
    assert cols.min() >= max(left, 0) and cols.max() < right


def test_every_layer_name_has_a_field_and_bad_names_are_refused():
    fields = [receptive_field(n) for n in LAYER_NAMES]
    assert all(f.size >= 3 for f in fields)
    assert [f.jump for f in fields] == sorted(f.jump for f in fields)
    with pytest.raises(ValueError, match="unknown VGG19 layer 'conv6_1'"):
        receptive_field("conv6_1")
