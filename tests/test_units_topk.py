"""Streaming top-k equals a brute-force top-k over all activations."""
import numpy as np
import pytest
import torch

from explorer.units.datasets import folder_dataset
from explorer.units.index import ScanSettings
from explorer.units.batches import network_input, scan_network
from explorer.units.scan import scan
from explorer.units.topk import NO_IMAGE, TopK, spatial_maxima
from nst_core.images import load_image
from nst_core.vgg import load_vgg19
from units_helpers import write_random_images


def brute_force_top_k(acts: np.ndarray, k: int):
    """acts (N, C, H, W): per unit, sort every image's spatial maximum; return value, image, y, x (C, k) lists."""
    n, c, h, w = acts.shape
    result = []
    for unit in range(c):
        best = []
        for image in range(n):
            flat = acts[image, unit].reshape(-1)
            i = int(flat.argmax())
            best.append((float(flat[i]), image, i // w, i % w))
        best.sort(key=lambda t: -t[0])
        result.append(best[:k])
    return result


def assert_same(top: TopK, expected, units=None):
    for unit, rows in zip(units or range(len(expected)), expected):
        assert top.value[unit, :len(rows)].tolist() == pytest.approx([r[0] for r in rows], rel=1e-5, abs=1e-4), unit
        assert top.image[unit, :len(rows)].tolist() == [r[1] for r in rows], unit
        assert top.y[unit, :len(rows)].tolist() == [r[2] for r in rows], unit
        assert top.x[unit, :len(rows)].tolist() == [r[3] for r in rows], unit


@pytest.mark.parametrize("channels_last", [False, True])
def test_streaming_equals_brute_force_on_random_activations(channels_last):
    gen = torch.Generator().manual_seed(1)
    acts = torch.randn(23, 5, 7, 6, generator=gen)
    top = TopK.empty(5, 9)
    for start in range(0, 23, 4):  # batches of 4, the last one shorter
        batch = acts[start:start + 4]
        if channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        values, ys, xs = spatial_maxima(batch)
        top.update(values, torch.arange(start, start + len(batch)), ys, xs)
    assert_same(top, brute_force_top_k(acts.numpy(), 9))


def test_maxima_of_bf16_channels_last_are_exact_and_first_in_row_major_order():
    act = torch.randn(3, 6, 5, 7, generator=torch.Generator().manual_seed(4)).to(torch.bfloat16)
    act[0, 0] = 0.0  # all tied: the first cell wins
    act[1, 1, 2, 3] = act[1, 1, 4, 0] = 9.0
    values, ys, xs = spatial_maxima(act.contiguous(memory_format=torch.channels_last))
    assert values.dtype == torch.float32 and values.shape == ys.shape == xs.shape == (3, 6, 1)
    flat = act.float().reshape(3, 6, 35)
    assert torch.equal(values[..., 0], flat.amax(dim=2))
    assert torch.equal(ys[..., 0] * 7 + xs[..., 0], flat.argmax(dim=2))  # argmax: first maximal index
    assert (ys[0, 0, 0], xs[0, 0, 0]) == (0, 0) and (ys[1, 1, 0], xs[1, 1, 0]) == (2, 3)


def test_fewer_images_than_k_leaves_empty_slots():
    top = TopK.empty(2, 9)
    values, ys, xs = spatial_maxima(torch.randn(3, 2, 4, 4))
    top.update(values, torch.arange(3), ys, xs)
    assert (top.image[:, 3:] == NO_IMAGE).all() and torch.isinf(top.value[:, 3:]).all()
    assert sorted(top.image[0, :3].tolist()) == [0, 1, 2]


def test_several_maxima_per_image_are_greedy_and_suppressed():
    gen = torch.Generator().manual_seed(2)
    act = torch.randn(2, 3, 9, 9, generator=gen)
    values, ys, xs = spatial_maxima(act, per_image=4, radius=2)
    for n in range(2):
        for c in range(3):
            left = act[n, c].clone()
            for m in range(4):  # the definition, one pick at a time
                i = int(left.argmax())
                y, x = divmod(i, 9)
                assert (values[n, c, m].item(), ys[n, c, m].item(), xs[n, c, m].item()) == (left[y, x].item(), y, x)
                left[max(0, y - 2):y + 3, max(0, x - 2):x + 3] = float("-inf")


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_scan_equals_brute_force_over_the_whole_dataset(model, tmp_path, precision):
    """A scan in batches of 3 views == top 9 of the rectified activations max(0, conv) over one plain forward
    pass of all 8 random images (bf16: same network in bf16, values to bf16 precision)."""
    names = write_random_images(tmp_path, 8, size=32, seed=3)
    dataset = folder_dataset(tmp_path)
    layers = ["conv1_2", "conv2_1"]
    index = scan(model, dataset, layers, ScanSettings(size=32, precision=precision, batch_size=3))
    assert [v.file for v in index.views] == sorted(names)
    net = scan_network(model, precision)
    batch = network_input(net, [load_image(tmp_path / v.file) for v in index.views])
    with torch.no_grad():
        acts = net(batch, [name.replace("conv", "relu") for name in layers])
    for layer in layers:
        expected = brute_force_top_k(acts[layer.replace("conv", "relu")].float().numpy(), 9)
        top = index.top(layer)
        live = [u for u in range(top.value.shape[0]) if top.value[u, 0] > 0]
        assert len(live) > top.value.shape[0] // 2
        if precision == "fp32":
            # images where the unit stays at 0 tie with each other: compare the positive ones
            assert_same(top, [[r for r in expected[u] if r[0] > 0] for u in live], units=live)
        else:  # bf16 ties are common: compare the values only
            for u in live:
                assert top.value[u, :8].tolist() == pytest.approx([r[0] for r in expected[u]], rel=1e-2, abs=1e-2)
