"""``python app.py`` in a subprocess, called through gradio_client like any API user would."""
import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from app_server import serve_app
from nst_core.metadata import read_regions, read_settings
from nst_core.options import PRESETS, StyleOptions


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with serve_app(str(tmp_path_factory.mktemp("server") / "app.log")) as server:
        yield Client(server.url, verbose=False)


@pytest.fixture(scope="module")
def tiny_images(tmp_path_factory, skimage_dir):
    """A 90 x 60 content photo and a 40 x 40 style texture, as files."""
    folder = tmp_path_factory.mktemp("images")
    content, style = folder / "content.png", folder / "style.png"
    Image.open(f"{skimage_dir}/chelsea.png").convert("RGB").resize((90, 60)).save(content)
    Image.open(f"{skimage_dir}/ihc.png").convert("RGB").resize((40, 40)).save(style)
    return str(content), str(style)


def test_stylize_endpoint_returns_an_image_of_the_requested_size_first(client, tiny_images):
    result = client.predict(handle_file(tiny_images[0]), handle_file(tiny_images[1]), size=48, steps=2, scales=1,
                            api_name="/stylize")
    image, _, status, _, (before, after) = result
    assert after == image and Image.open(before).size == (90, 60)  # the before/after slider
    assert Image.open(image).size == (48, 32)
    assert status.startswith("Done: 2 steps")
    options, _ = read_settings(image)  # the returned PNG carries its settings
    assert (options.size, options.steps, options.scales) == (48, 2, 1)


def test_every_input_after_the_two_images_defaults_to_the_quick_preset(client):
    parameters = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/stylize"]["parameters"]
    assert [p["parameter_has_default"] for p in parameters[:2]] == [False, False]
    assert all(p["parameter_has_default"] for p in parameters[2:])
    defaults = {p["parameter_name"]: p["parameter_default"] for p in parameters}
    quick = PRESETS["Quick"]
    assert (defaults["size"], defaults["steps"], defaults["scales"]) == (quick["size"], quick["steps"], quick["scales"])
    assert defaults["content_layer"] == StyleOptions().content_layer == "relu4_2"


def test_a_bad_upload_is_a_one_line_error_and_the_server_keeps_serving(client, tiny_images, tmp_path):
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG but not really" * 10)
    with pytest.raises(Exception, match="Content image: garbage.png is not an image file Pillow can read."):
        client.predict(handle_file(str(garbage)), handle_file(tiny_images[1]), size=32, steps=1, scales=1,
                       api_name="/stylize")
    with pytest.raises(Exception, match="style layers: 'relu1_1: much' is not 'layer: weight'"):
        client.predict(handle_file(tiny_images[0]), handle_file(tiny_images[1]), size=32, steps=1, scales=1,
                       style_layers="relu1_1: much", api_name="/stylize")
    image = client.predict(handle_file(tiny_images[0]), handle_file(tiny_images[1]), size=32, steps=1, scales=1,
                           api_name="/stylize")[0]
    assert Image.open(image).size == (32, 21)


def test_uploads_over_the_size_cap_are_refused(client, tiny_images, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(bytes(11_000_000))  # over app.MAX_UPLOAD (10 MB)
    with pytest.raises(Exception) as info:
        client.predict(handle_file(str(big)), handle_file(tiny_images[1]), size=32, steps=1, scales=1,
                       api_name="/stylize")
    assert "exceeds the maximum file size of 10485760 bytes" in str(info.value)  # the client reads the cap
    response = httpx.post(client.src.rstrip("/") + "/gradio_api/upload",  # and the server enforces it
                          files={"files": ("big.png", big.read_bytes(), "image/png")}, timeout=60)
    assert response.status_code == 413 and "exceeded maximum allowed size" in response.text


def test_layer_lab_endpoint_returns_five_content_and_five_style_panels(client, tiny_images):
    content_row, style_row, status = client.predict(handle_file(tiny_images[0]), handle_file(tiny_images[1]),
                                                    size=32, steps=1, api_name="/layer_lab")
    assert status.startswith("Done: 10 panels")
    assert [item["caption"].split(" · ")[0] for item in content_row] == [f"relu{b}_1" for b in range(1, 6)]
    assert style_row[-1]["caption"].startswith("relu1_1 … relu5_1 · ") and style_row[-1]["caption"].endswith(" dB")
    assert Image.open(content_row[0]["image"]).size == (32, 21)


def test_regions_painted_through_the_api_ride_in_the_png_and_come_back(client, tiny_images, tmp_path):
    layer = np.zeros((60, 90, 4), np.uint8)
    layer[:, :45] = (255, 0, 0, 255)  # the left half is the red region
    Image.fromarray(layer).save(tmp_path / "layer.png")
    editor = {"background": handle_file(tiny_images[0]), "layers": [handle_file(str(tmp_path / "layer.png"))],
              "composite": None}
    image, _, status, _, _ = client.predict(handle_file(tiny_images[0]), handle_file(tiny_images[1]), size=48,
                                            steps=2, scales=1, regions=editor,
                                            red_style=handle_file(tiny_images[1]), api_name="/stylize")
    assert status.startswith("Done: 2 steps")
    labels = read_regions(image)
    assert labels.shape == (60, 90) and labels[:, :45].min() == 1 and labels[:, 45:].max() == 0
    assert read_settings(image)[0].region_styles == (2, 0, 0)  # the red region takes the second style image
    with pytest.raises(Exception) as info:  # a region with a style but no paint
        client.predict(handle_file(tiny_images[0]), handle_file(tiny_images[1]), size=48, steps=2, scales=1,
                       green_style=handle_file(tiny_images[1]), api_name="/stylize")
    assert "green region has a style image but no painted pixels" in str(info.value)
    palette, _, said, _, _ = client.predict(handle_file(tiny_images[0]), handle_file(tiny_images[1]), 64,
                                            api_name="/palette_only")
    assert Image.open(palette).size == (64, 43) and said.startswith("Palette only")
