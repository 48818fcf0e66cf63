"""Streaming top-k equals a brute-force top-k over all activations."""
import numpy as np
import pytest
import torch

from explorer.datasets import folder_dataset
from explorer.zf_index import ScanSettings
from explorer.zf_scan import scan
from explorer.zf_topk import NO_IMAGE, TopK, spatial_maxima
from nst_core.images import load_image
from nst_core.vgg import load_vgg19
from zf_helpers import write_random_images


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


def assert_same(top: TopK, expected):
    for unit, rows in enumerate(expected):
        assert top.value[unit, :len(rows)].tolist() == pytest.approx([r[0] for r in rows], rel=1e-5, abs=1e-4), unit
        assert top.image[unit, :len(rows)].tolist() == [r[1] for r in rows], unit
        assert top.y[unit, :len(rows)].tolist() == [r[2] for r in rows], unit
        assert top.x[unit, :len(rows)].tolist() == [r[3] for r in rows], unit


def test_streaming_equals_brute_force_on_random_activations():
    gen = torch.Generator().manual_seed(1)
    acts = torch.randn(23, 5, 7, 6, generator=gen)
    top = TopK.empty(5, 9)
    for start in range(0, 23, 4):  # batches of 4, the last one shorter
        batch = acts[start:start + 4]
        values, ys, xs = spatial_maxima(batch)
        top.update(values, torch.arange(start, start + len(batch)), ys, xs)
    assert_same(top, brute_force_top_k(acts.numpy(), 9))


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


def test_scan_equals_brute_force_over_the_whole_dataset(model, tmp_path):
    """A scan in batches of 3 views (fp32) == top 9 over one forward pass of all 8 random images."""
    names = write_random_images(tmp_path, 8, size=32, seed=3)
    dataset = folder_dataset(tmp_path)
    layers = ["conv1_2", "conv2_1"]
    index = scan(model, dataset, layers, ScanSettings(size=32, precision="fp32", batch_size=3))
    assert [v.file for v in index.views] == sorted(names)
    batch = torch.cat([model.preprocess(load_image(tmp_path / v.file)) for v in index.views])
    with torch.no_grad():
        acts = model(batch, layers)
    for layer in layers:
        assert_same(index.top(layer), brute_force_top_k(acts[layer].numpy(), 9))
