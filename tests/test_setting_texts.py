"""One text, one setting: the style-layer texts give the same weights at every door (Python, the CLI, the app's
handler, the HTTP API) and the same one-sentence error where they are bad."""
import base64
import io
import re

import httpx

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from app_server import serve_app
from mcp_client import call_tool, list_tools, text_of
from nst_core.checks import InputError
from nst_core.cli import build_parser, options_from_args
from nst_core.metadata import read_settings
from nst_core.options import DEFAULT_STYLE_LAYERS, StyleOptions, format_style_layers, parse_style_layers
from nst_studio.stylize_settings import build_options

# (text, the weights it means): a layer without a weight gets 1/n of the n layers listed
TEXTS = [
    ("relu1_1: 0.5, relu3_1", {"relu1_1": 0.5, "relu3_1": 0.5}),
    ("relu1_1:2,relu2_1,relu3_1,relu4_1", {"relu1_1": 2.0, "relu2_1": 0.25, "relu3_1": 0.25, "relu4_1": 0.25}),
    ("relu1_1, relu2_1, relu3_1, relu4_1, relu5_1", DEFAULT_STYLE_LAYERS),
    ("conv4_2 = 3; relu5_1", {"conv4_2": 3.0, "relu5_1": 0.5}),
    ("relu2_1", {"relu2_1": 1.0}),
]
BAD = [("relu1_1: much", "style layers: 'relu1_1: much' is not 'layer: weight'"),
       ("relu9_9: 1", "style layer must be a conv or relu layer of VGG19"),
       (" , ", "style layers: give at least one style layer"),
       ("relu1_1: 0.5, relu1_1: 0.5", "style layers: 'relu1_1' is listed twice; list each layer once"),
       ("relu1_1: 0, relu3_1: 0", "style layers: every weight λ is 0, so there is no style to transfer")]


def by_python(text):
    return StyleOptions(style_layers=text).style_layers


def by_cli(text):
    return options_from_args(build_parser().parse_args(["c.png", "s.png", "--style-layers", text])).style_layers


def by_app(text):
    return build_options(size=64, steps=1, scales=1, content_layer="relu4_2", style_layers=text, style_strength=1,
                         tv_weight=0, init="content", optimizer="lbfgs", learning_rate=0.02, style_scale=1,
                         preserve_color=False, seed=0, blend=[1.0]).style_layers


@pytest.mark.parametrize("door", [by_python, by_cli, by_app])
@pytest.mark.parametrize("text,weights", TEXTS)
def test_each_text_means_the_same_weights_at_each_door(door, text, weights):
    assert door(text) == pytest.approx(weights)


@pytest.mark.parametrize("door", [by_python, by_cli, by_app])
@pytest.mark.parametrize("text,message", BAD)
def test_each_bad_text_is_the_same_sentence_at_each_door(door, text, message):
    with pytest.raises(InputError, match=message):
        door(text)


def test_written_weights_read_back_as_themselves():
    layers = {"relu1_1": 0.2, "relu3_1": 1.5, "conv4_2": 0.0}
    assert parse_style_layers(format_style_layers(layers)) == layers


def test_the_http_api_and_mcp_read_each_text_as_the_other_doors_do(tmp_path, skimage_dir):
    content, style = tmp_path / "c.png", tmp_path / "s.png"
    Image.open(f"{skimage_dir}/chelsea.png").convert("RGB").resize((48, 32)).save(content)
    Image.open(f"{skimage_dir}/ihc.png").convert("RGB").resize((32, 32)).save(style)
    with serve_app(str(tmp_path / "app.log")) as server:
        client = Client(server.url, verbose=False)
        for text, weights in TEXTS[:2]:
            image = client.predict(handle_file(str(content)), handle_file(str(style)), size=32, steps=1, scales=1,
                                   style_layers=text, api_name="/stylize")[0]
            assert read_settings(image)[0].style_layers == pytest.approx(weights)
        with pytest.raises(Exception, match=BAD[0][1]):
            client.predict(handle_file(str(content)), handle_file(str(style)), size=32, steps=1, scales=1,
                           style_layers=BAD[0][0], api_name="/stylize")
        mcp = server.url + "gradio_api/mcp/"
        pictures = {"content": data_url(content), "style": data_url(style), "size": 32, "steps": 1, "scales": 1}
        for text, weights in TEXTS[:2]:
            result = call_tool(mcp, "stylize_with_settings", {**pictures, "style_layers": text})
            assert not result.isError, text_of(result)
            url = re.search(r"Image URL: (\S+\.png)", text_of(result)).group(1)  # the result PNG, served
            assert settings_in(httpx.get(url).content).style_layers == pytest.approx(weights)
        result = call_tool(mcp, "stylize_with_settings", {**pictures, "style_layers": BAD[0][0]})
        assert result.isError and BAD[0][1] in text_of(result)
        schema = next(t for t in list_tools(mcp) if t.name == "stylize_with_settings").inputSchema["properties"]
        assert "a layer without a weight gets 1/n" in schema["style_layers"]["description"]


def data_url(path) -> str:
    return "data:image/png;base64," + base64.b64encode(open(path, "rb").read()).decode()


def settings_in(png: bytes) -> StyleOptions:
    stored = read_settings(io.BytesIO(png))
    assert stored is not None, "the PNG an MCP client receives carries its settings"
    return stored[0]
