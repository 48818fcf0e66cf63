"""The Layer-depth lab: panels, captions, Stop, and what each layer keeps (Gatys et al. 2015, Fig. 1)."""
import os

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from explorer.units.receptive_field import receptive_field
from nst_core import StyleTransfer
from nst_studio import layer_lab_tab


def request(name):
    return gr.Request(session_hash=name)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, skimage_dir):
    """A small content (chelsea, 80 x 53) and style (ihc, 48 x 48) saved as PNG files."""
    folder = tmp_path_factory.mktemp("pair")
    paths = []
    for name, size in (("chelsea.png", (80, 53)), ("ihc.png", (48, 48))):
        path = folder / name
        Image.open(os.path.join(skimage_dir, name)).convert("RGB").resize(size).save(path)
        paths.append(str(path))
    return paths


def test_layer_lab_fills_both_rows_progressively_with_labelled_panels(pair):
    items = list(layer_lab_tab.run_lab(*pair, size=32, steps=2, request=request("lab")))
    content_row, style_row, status = items[-1]
    assert status.startswith("Done: 10 panels")
    assert [caption.split(" · ")[0] for _, caption in content_row] == [f"relu{b}_1" for b in range(1, 6)]
    assert [caption.split(" · ")[0] for _, caption in style_row] == [
        " + ".join(f"relu{b}_1" for b in range(1, n + 1)) for n in range(1, 6)]
    r = receptive_field("relu4_1").size
    assert f"receptive field {r}×{r} px" in content_row[3][1] and f"receptive field {r}×{r} px" in style_row[3][1]
    assert all(image.shape == (21, 32, 3) for image, _ in content_row)
    assert all(image.shape == (32, 32, 3) for image, _ in style_row)
    lengths = [len(row) for row, *_ in items[:5]]
    assert lengths == [1, 2, 3, 4, 5]  # the content row grows one panel at a time


def test_stopping_the_lab_keeps_the_panels_so_far(pair):
    gen = layer_lab_tab.run_lab(*pair, size=32, steps=300, request=request("lab-stop"))
    first_panel = next(gen)[0]  # a preview of relu1_1 after 10 steps
    assert first_panel[0][1] == "relu1_1 (step 10/300)"
    content_row, style_row, status = layer_lab_tab.stop_lab(request("lab-stop"))
    assert status.startswith("Stopped after")
    assert len(content_row) == 1 and content_row[0][1].endswith("/300)") and "(stopped at step" in content_row[0][1]
    assert style_row == []
    gen.close()


def test_layer_lab_panels_use_one_layer_for_content_and_growing_sets_for_style(pair):
    content = np.zeros((32, 32, 3), np.uint8)
    panels = layer_lab_tab.lab_panels(content, content, size=32, steps=2, sublayer=2, seed=0)
    assert [p.options.content_layer for p in panels[:5]] == [f"relu{b}_2" for b in range(1, 6)]
    assert all(p.options.beta == 0 and p.options.init == "noise" for p in panels[:5])
    assert all(p.options.alpha == 0 and sum(p.options.style_layers.values()) == pytest.approx(1) for p in panels[5:])
    assert [len(p.options.style_layers) for p in panels[5:]] == [1, 2, 3, 4, 5]


def test_shallow_content_reconstructions_keep_the_pixels_deep_ones_do_not(skimage_dir):
    """The lab's teaching point, as a measurement: relu1_1 recovers the image from noise far better than relu5_1."""
    content = np.asarray(Image.open(os.path.join(skimage_dir, "chelsea.png")).convert("RGB").resize((32, 21)))
    error = {}
    for layer in ("relu1_1", "relu5_1"):
        panel = layer_lab_tab.content_panel(layer, content, size=32, steps=20, seed=0)
        image = StyleTransfer(panel.options).stylize(content, [content])
        error[layer] = np.abs(image.astype(float) - content).mean()
    assert error["relu1_1"] < 0.5 * error["relu5_1"]
