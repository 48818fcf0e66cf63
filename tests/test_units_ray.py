"""The Ray engine gives the local engine's index: same views and skipped files, the same top-9 entries (ties aside)
and top-1 values within 2 %, on a small dataset with a broken file in it. One local Ray session for the module."""
import os

import pytest
import torch

from explorer.__main__ import main
from explorer.units.datasets import folder_dataset
from explorer.units.index import Index, ScanSettings
from explorer.units.scan import scan
from nst_core.vgg import load_vgg19
from units_helpers import write_random_images

ray = pytest.importorskip("ray")  # a listed dependency (requirements.txt); the import only names the reason

LAYERS = ("conv1_1", "conv2_1")
SETTINGS = ScanSettings(size=32, k=9, batch_size=4)


@pytest.fixture(scope="module")
def ray_session():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    write_random_images(folder, 11, size=40, seed=5)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n cut off")
    return folder_dataset(folder)


def agreement(local, other) -> float:
    """Share of top-k entries found at the same rank (view, y, x); an entry that differs only by a tie (same
    value as the local one at that rank) counts as agreeing."""
    same = (local.image == other.image) & (local.y == other.y) & (local.x == other.x)
    tie = torch.isclose(local.value, other.value, rtol=1e-6, atol=0)
    real = local.image >= 0
    return float(((same | tie) & real).sum() / real.sum())


def test_ray_scan_from_the_command_line_matches_the_local_engine(ray_session, dataset, tmp_path, capsys):
    model = load_vgg19("caffe")
    local = scan(model, dataset, LAYERS, SETTINGS)
    out = tmp_path / "ray.pt"
    assert main(["scan", dataset.root, "--layers", *LAYERS, "--size", "32", "--batch-size", "4", "--engine", "ray",
                 "--no-cache", "--out", str(out)]) == 0
    assert "broken.png" in capsys.readouterr().err
    remote = Index.load(out)
    assert remote.views == local.views and len(remote.views) == 11
    assert remote.skipped == local.skipped == [("broken.png", remote.skipped[0][1])]
    assert remote.key == local.key and set(remote.to_dict()) == set(local.to_dict())
    for layer in LAYERS:
        a, b = local.layers[layer], remote.layers[layer]
        assert a.value.shape == b.value.shape == ({"conv1_1": 64, "conv2_1": 128}[layer], 9)
        assert agreement(a, b) >= 0.97, layer
        assert torch.allclose(a.value[:, 0], b.value[:, 0], rtol=0.02, atol=1e-3), layer
    assert os.listdir(tmp_path) == ["ray.pt"]  # nothing half-written beside the index
