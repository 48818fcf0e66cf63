"""The Layer-depth lab: panels and captions, Stop (running and queued), hostile inputs, and what each layer keeps
(Gatys et al. 2015, Fig. 1) measured as PSNR."""
import math
import os
import re

import numpy as np
import pytest
from PIL import Image

from gradio_calls import first_error, request
from nst_core import StyleTransfer
from nst_core.images import resize_long_edge
from nst_studio import layer_lab_tab
from nst_studio.layer_lab_tab import LabSettings, psnr

DB = re.compile(r" · (\d+\.\d) dB$")


def test_the_lab_fills_both_rows_panel_by_panel_with_layer_and_psnr_captions(pair):
    items = list(layer_lab_tab.run_lab(*pair, size=32, steps=2, request=request("lab")))
    content_row, style_row, status = items[-1]
    assert status.startswith("Done: 10 panels")
    assert [caption.split(" · ")[0] for _, caption in content_row] == [f"relu{b}_1" for b in range(1, 6)]
    assert [caption.split(" · ")[0] for _, caption in style_row] == [
        "relu1_1", "relu1_1 + relu2_1", "relu1_1 … relu3_1", "relu1_1 … relu4_1", "relu1_1 … relu5_1"]
    assert all(image.shape == (21, 32, 3) for image, _ in content_row)
    assert all(image.shape == (32, 32, 3) for image, _ in style_row)
    content = np.asarray(Image.open(pair[0]).convert("RGB"))
    for image, caption in content_row:  # each caption's PSNR is the panel's, against the content at its size
        assert float(DB.search(caption).group(1)) == pytest.approx(psnr(image, resize_long_edge(content, 32)), abs=0.05)
    assert all(DB.search(caption) for _, caption in style_row)
    lengths = [len(row) for row, *_ in items[:5]]
    assert lengths == [1, 2, 3, 4, 5]  # the content row grows one panel at a time


def test_stopping_the_lab_keeps_the_panels_so_far(pair):
    gen = layer_lab_tab.run_lab(*pair, size=32, steps=300, request=request("lab-stop"))
    first_panel = next(gen)[0]  # a preview of relu1_1 after 10 steps
    assert first_panel[0][1] == "relu1_1 (step 10/300)"
    content_row, style_row, status = layer_lab_tab.stop_lab(request("lab-stop"))
    assert status.startswith("Stopped after")
    assert len(content_row) == 1 and content_row[0][1].endswith("/300") and " · stopped at " in content_row[0][1]
    assert DB.search(content_row[0][1].split(" · stopped")[0])
    assert style_row == []
    gen.close()


def test_stop_while_the_lab_waits_in_the_queue_ends_it_and_says_so(pair):
    key = request("lab-queued")
    layer_lab_tab.ask_to_run_lab(key)  # Run pressed; the queue has not started the job yet
    *_, status = layer_lab_tab.stop_lab(key)
    assert status == "Stopped before it started: the lab was still waiting for its turn."
    assert list(layer_lab_tab.run_lab(*pair, size=32, steps=2, request=key)) == []  # it never runs


def test_content_panels_use_one_layer_and_the_tv_prior_style_panels_growing_sets_without_it(pair):
    content = np.asarray(Image.open(pair[0]).convert("RGB"))
    panels = layer_lab_tab.lab_panels(content, content, LabSettings(size=32, steps=2, sublayer=2))
    assert [p.options.content_layer for p in panels[:5]] == [f"relu{b}_2" for b in range(1, 6)]
    assert all(p.options.beta == 0 and p.options.init == "noise" for p in panels[:5])
    assert [p.options.steps for p in panels[:5]] == [2 * layer_lab_tab.CONTENT_STEPS[b] for b in range(1, 6)]
    for p in panels[:5]:  # w_TV = lambda ||a(C)||^2, so the prior weighs the same against every layer's J_content
        transfer = StyleTransfer(p.options)
        a_C, _ = transfer.targets(transfer._stage_images(content, [content], 32)[0], [])
        assert p.options.tv_weight == pytest.approx(layer_lab_tab.TV_PRIOR * float(a_C.float().pow(2).sum()), rel=1e-4)
    assert all(p.options.alpha == 0 and p.options.tv_weight == 0 for p in panels[5:])
    assert all(sum(p.options.style_layers.values()) == pytest.approx(1) for p in panels[5:])
    assert [len(p.options.style_layers) for p in panels[5:]] == [1, 2, 3, 4, 5]


def reconstruction_psnr(content: np.ndarray, layer: str, size: int) -> float:
    panel = layer_lab_tab.content_panel(layer, content, size, LabSettings.steps, seed=0)
    return psnr(StyleTransfer(panel.options).stylize(content, [content]), resize_long_edge(content, size))


def test_shallow_reconstructions_are_near_copies_and_relu5_1_loses_detail(skimage_dir):
    """The targets at 48 px with the default steps: relu1_1 and relu2_1 >= 30 dB (42.7 and 35.5 measured), relu5_1
    >= 10 dB below relu1_1 (13.8). relu3_1 sees a small image on a coarse grid (12 x 8 here, 27 dB at 64 px) and
    needs the default 128 px; benchmarks/bench_layer_lab.py measures it there (32.4 dB)."""
    content = np.asarray(Image.open(os.path.join(skimage_dir, "chelsea.png")).convert("RGB"))
    db = {layer: reconstruction_psnr(content, layer, 48) for layer in ("relu1_1", "relu2_1", "relu5_1")}
    assert db["relu1_1"] >= 30 and db["relu2_1"] >= 30, db
    assert db["relu5_1"] <= db["relu1_1"] - 10, db


def test_psnr_is_ten_log10_of_peak_squared_over_mse():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 48  # MSE = 48^2 / 48
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 48))
    assert psnr(a, a) == math.inf


@pytest.mark.parametrize("change, named", [
    (dict(size=10 ** 30), "Size (px) must be a whole number from 32 to 192"),
    (dict(size=8), "Size (px) must be a whole number from 32 to 192"),
    (dict(steps=float("nan")), "Steps per panel must be a whole number from 1 to 300"),
    (dict(steps="many"), "Steps per panel must be a whole number from 1 to 300"),
    (dict(steps=2.5), "Steps per panel must be a whole number from 1 to 300"),
    (dict(sublayer=3), "Content layers (1 or 2) must be a whole number from 1 to 2"),
    (dict(seed=-1), "Seed must be a whole number from 0 to 2,147,483,647"),
])
def test_numbers_out_of_range_name_the_setting_its_range_and_the_value(pair, change, named):
    message = first_error(layer_lab_tab.run_lab(*pair, **{"size": 32, "steps": 1, **change}, request=request("bad")))
    assert message.startswith(named) and repr(list(change.values())[0])[:20] in message


def test_missing_or_unreadable_images_give_one_sentence(pair, tmp_path):
    assert first_error(layer_lab_tab.run_lab(None, pair[1], request=request("none"))) == "Please give a content image."
    garbage = tmp_path / "notes.png"
    garbage.write_bytes(b"not an image")
    message = first_error(layer_lab_tab.run_lab(pair[0], str(garbage), request=request("garbage")))
    assert message.startswith("style image: notes.png") and "Traceback" not in message


@pytest.mark.parametrize("shape", [(1, 1), (1, 200), (300, 2)])
def test_degenerate_images_are_enlarged_to_vgg_s_minimum_and_all_panels_run(tmp_path, shape):
    path = tmp_path / "odd.png"
    Image.fromarray(np.full((*shape, 3), 200, np.uint8)).save(path)
    content_row, style_row, status = list(layer_lab_tab.run_lab(str(path), str(path), size=32, steps=1,
                                                                request=request(f"odd{shape}")))[-1]
    assert status.startswith("Done: 10 panels") and len(content_row) == len(style_row) == 5
    assert all(min(image.shape[:2]) >= 16 for image, _ in content_row + style_row)
