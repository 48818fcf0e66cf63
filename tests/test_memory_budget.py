"""Lab runs, scan batches and feature visualisations estimate their peak memory before allocating: past the budget
(NST_MAX_MEMORY) a visualisation or a lab run is refused in one sentence naming the size that fits, a scan takes
fewer views per forward pass (the result does not change) or names the view size that fits."""
import re

import pytest
import torch

from explorer.featurevis.render import check_memory, render_units
from explorer.featurevis.vis_settings import VisSettings
from explorer.units.datasets import folder_dataset
from explorer.units.index import ScanSettings
from explorer.units.scan import fitted_batch, scan
from nst_core.checks import InputError
from nst_core.estimate import fitting_side, pass_peak
from nst_core.memory import memory_budget
from nst_core.vgg import load_vgg19
from nst_studio.layer_lab_tab import LabSettings
from units_helpers import write_random_images

SAID = re.compile(r"^(.+) needs about ([\d.]+) GB of memory, more than the budget of ([\d.]+) GB \(NST_MAX_MEMORY\); "
                  r"(choose a (?:scan )?size up to (\d+) px|synthesise at most \d+ units at once \(batch\)|"
                  r"raise NST_MAX_MEMORY)\.$")


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


def refusal(call) -> re.Match:
    with pytest.raises(InputError) as info:
        call()
    said = SAID.match(str(info.value))
    assert said, str(info.value)
    return said


@pytest.mark.parametrize("budget", ["700M", "1G", "3G"])
@pytest.mark.parametrize("layer", ["conv1_1", "conv3_1", "conv5_4"])
def test_a_visualisation_past_the_budget_names_a_size_that_fits(monkeypatch, budget, layer):
    monkeypatch.setenv("NST_MAX_MEMORY", budget)
    said = refusal(lambda: check_memory(layer, 16, 512))
    assert float(said.group(2)) > float(said.group(3))
    side = int(said.group(5))
    assert side % 16 == 0 and 32 <= side < 512
    check_memory(layer, 16, side)  # the size it names passes the same check
    with pytest.raises(InputError):
        check_memory(layer, 16, side + 16)
    assert pass_peak(16 * side ** 2, layer, True) <= memory_budget()


def test_a_visualisation_is_refused_before_any_optimisation(monkeypatch, model):
    monkeypatch.setenv("NST_MAX_MEMORY", "1G")
    said = refusal(lambda: render_units(model, "conv5_4", list(range(16)), VisSettings(size=512, steps=1, scales=1)))
    assert said.group(1) == "synthesising 16 units' images at 512 px"
    images, stopped = render_units(model, "conv1_1", [0], VisSettings(size=32, steps=1, scales=1))
    assert images.shape == (1, 32, 32, 3) and not stopped  # what fits runs


def test_with_no_size_that_fits_it_says_to_raise_the_budget(monkeypatch):
    monkeypatch.setenv("NST_MAX_MEMORY", "64M")
    assert refusal(lambda: check_memory("conv1_1", 1, 32)).group(4) == "raise NST_MAX_MEMORY"
    assert refusal(lambda: LabSettings(size=32).validate()).group(4) == "raise NST_MAX_MEMORY"


def test_a_lab_run_past_the_budget_names_the_size_that_fits(monkeypatch):
    monkeypatch.setenv("NST_MAX_MEMORY", "500M")
    said = refusal(lambda: LabSettings(size=192).validate())
    assert said.group(1) == "the lab at 192 px"
    side = int(said.group(5))
    assert side == fitting_side(memory_budget(), "relu5_1", True) and 32 <= side < 192
    assert LabSettings(size=side).validate().size == side


def test_a_scan_takes_fewer_views_per_pass_within_the_budget_with_the_same_result(monkeypatch, model, tmp_path):
    write_random_images(tmp_path / "data", 3)
    dataset = folder_dataset(tmp_path / "data")
    settings = ScanSettings(size=64, precision="fp32", batch_size=16)
    whole = scan(model, dataset, ["conv1_1"], settings)
    monkeypatch.setenv("NST_MAX_MEMORY", "500M")
    fitted = fitted_batch(settings, "conv1_1")
    assert 1 <= fitted.batch_size < 16 and pass_peak(fitted.batch_size * 64 ** 2, "conv1_1", False) <= 500 * 2**20
    small = scan(model, dataset, ["conv1_1"], settings)
    assert small.settings.batch_size == fitted.batch_size
    assert torch.equal(small.top("conv1_1").value, whole.top("conv1_1").value)


def test_a_scan_view_too_large_for_the_budget_names_the_size_that_fits(monkeypatch):
    monkeypatch.setenv("NST_MAX_MEMORY", "1G")
    said = refusal(lambda: fitted_batch(ScanSettings(size=1024), "conv5_4"))
    assert said.group(1) == "scanning 1024 px views" and said.group(4).startswith("choose a scan size up to")
    assert fitted_batch(ScanSettings(size=int(said.group(5))), "conv5_4").batch_size >= 1
