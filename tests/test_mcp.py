"""The app's MCP server, called as an assistant would: the ``mcp`` package's streamable-HTTP client against
``python app.py`` (``serve_app``) at ``/gradio_api/mcp/``."""
import base64
import io
import json
import re
import urllib.request

import jsonschema
import numpy as np
import pytest
from PIL import Image

from app_server import serve_app
from explorer.units.probe import probe
from nst_core.metadata import read_regions
from nst_core.vgg import load_vgg19
from mcp_client import call_tool, list_tools, text_of

OUR_TOOLS = {"conv_output_shape", "receptive_field", "stylize_image", "top_patches", "probe_photo"}
# the tabs' handlers that only update the page (lambdas, preset pickers, figures, clicks on a gallery tile)
UI_ONLY = re.compile(r"^(lambda|preset_|see_it_view|show_unit|filters_image|ask_to_stylize|show_page_\d)")


@pytest.fixture(scope="module")
def mcp_url(tmp_path_factory):
    with serve_app(str(tmp_path_factory.mktemp("mcp") / "app.log")) as server:
        yield server.url + "gradio_api/mcp/"


def shape_text(url, **arguments) -> str:
    result = call_tool(url, "conv_output_shape", arguments)
    assert not result.isError, text_of(result)
    return text_of(result)


def test_the_course_3d_example_in_both_orders(mcp_url):
    text = shape_text(mcp_url, input_sizes="14x14x14", input_channels=3, filters=16, kernel_size="5")
    assert "10x10x10x16" in text and "(16, 10, 10, 10)" in text
    assert "(16, 3, 5, 5, 5)" in text  # 16 filters of 5×5×5×3, PyTorch's weight shape


@pytest.mark.parametrize("arguments, course, torch_order", [
    (dict(input_sizes="14", input_channels=1, filters=1, kernel_size="5"), "10x1", "(1, 10)"),  # the EKG example
    (dict(input_sizes="6x6", input_channels=1, filters=1, kernel_size="3x3"), "4x4x1", "(1, 4, 4)"),
    (dict(input_sizes="32x32", input_channels=3, filters=8, kernel_size="3", stride=2, padding=1), "16x16x8",
     "(8, 16, 16)"),
    (dict(input_sizes="100", input_channels=2, filters=4, kernel_size="3", dilation="2", padding="same"), "100x4",
     "(4, 100)"),
])
def test_other_layers(mcp_url, arguments, course, torch_order):
    text = shape_text(mcp_url, **arguments)
    assert course in text and torch_order in text


def test_bad_input_is_one_sentence_naming_it(mcp_url):
    result = call_tool(mcp_url, "conv_output_shape",
                       {"input_sizes": "14x14", "input_channels": 3, "filters": 16, "kernel_size": "5x5x5"})
    assert result.isError
    text = text_of(result)
    assert "kernel size" in text and "2 spatial dimensions" in text and "Traceback" not in text
    result = call_tool(mcp_url, "receptive_field", {"layer": "relu9_9"})
    assert result.isError and "relu9_9" in text_of(result)
    result = call_tool(mcp_url, "top_patches", {"layer": "conv1_1", "unit": 64})
    assert result.isError and "from 0 to 63" in text_of(result)


def test_receptive_field(mcp_url):
    text = text_of(call_tool(mcp_url, "receptive_field", {"layer": "relu4_2"}))
    assert "R = 84 px" in text and "J = 8 px" in text  # 3x3 convs and 2x2 pools from conv1_1 up to conv4_2


def png_data_url(seed: int) -> str:
    rgb = (np.random.default_rng(seed).random((40, 48, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_stylize_returns_the_image(mcp_url):
    result = call_tool(mcp_url, "stylize_image", {"content": png_data_url(0), "style": png_data_url(1),
                                                  "preset": "Quick", "size": 48})
    assert not result.isError, text_of(result)
    image, = [item for item in result.content if item.type == "image"]
    assert image.mimeType == "image/png"
    assert Image.open(io.BytesIO(base64.b64decode(image.data))).size == (48, 40)  # long edge 48, aspect kept


def test_probe_photo_lists_the_models_strongest_units(mcp_url):
    result = call_tool(mcp_url, "probe_photo", {"image": png_data_url(2), "layer": "conv2_1", "top": 4})
    assert not result.isError, text_of(result)
    rgb = np.asarray(Image.open(io.BytesIO(base64.b64decode(png_data_url(2).split(",")[1]))))
    assert json.loads(text_of(result)) == probe(load_vgg19("caffe"), rgb, "conv2_1").top(4)
    result = call_tool(mcp_url, "probe_photo", {"image": png_data_url(2), "layer": "conv2_1", "top": 129})
    assert result.isError and "top must be a whole number from 1 to 128" in text_of(result)


def test_tools_are_described_and_ui_only_handlers_hidden(mcp_url):
    tools = {tool.name: tool for tool in list_tools(mcp_url)}
    assert OUR_TOOLS <= set(tools)
    for name, tool in tools.items():
        assert len(tool.description or "") > 30, name
        assert not UI_ONLY.match(name), f"{name} only updates the page; it must not be a tool"
    for name in OUR_TOOLS:
        properties = tools[name].inputSchema["properties"]
        assert all(len(p.get("description", "")) > 10 for p in properties.values()), name
    assert set(tools["conv_output_shape"].inputSchema["required"]) == {"input_sizes", "input_channels", "filters",
                                                                       "kernel_size"}


def test_every_tool_has_a_name_of_its_own_and_says_when_to_use_it(mcp_url):
    tools = {tool.name: tool for tool in list_tools(mcp_url)}
    assert {"stylize_image", "stylize_with_settings", "transfer_palette", "layer_depth_lab", "conv_layer_report",
            "conv_stack_report", "unit_explorer_page", "feature_visualization"} <= set(tools)
    assert not [name for name in tools if re.search(r"_\d+$", name)]  # no numbered repeats (stylize_1)
    assert "stylize" not in tools  # two tools stylize; each name says which
    # each of two tools that answer one question names the other, saying when to use it instead
    for tool, other in [("stylize_image", "stylize_with_settings"), ("stylize_with_settings", "stylize_image"),
                        ("conv_output_shape", "conv_layer_report"), ("conv_layer_report", "conv_output_shape"),
                        ("top_patches", "unit_explorer_page"), ("unit_explorer_page", "top_patches"),
                        ("transfer_palette", "stylize_image"), ("conv_stack_report", "conv_output_shape")]:
        assert other in tools[tool].description, (tool, other)
    result = call_tool(mcp_url, "conv_layer_report", {"sizes": "32x32", "channels": 3, "filters": 8, "kernel": "3"})
    assert not result.isError and "30×30×8" in text_of(result)  # a renamed tool calls its own endpoint


@pytest.mark.parametrize("url", ["data:image/png;base64,!!!not base64", "data:,hello", "data:image/png;base64",
                                 "data:image/png;base64,!!!", "data:image/png;base64,"])
def test_a_broken_data_url_is_one_sentence_naming_the_argument(mcp_url, url):
    result = call_tool(mcp_url, "probe_photo", {"image": url, "layer": "conv1_1", "top": 3})
    assert result.isError
    text = text_of(result)
    assert text.startswith("image is a data: URL whose base64 data is broken") and "Invalid base64" not in text
    result = call_tool(mcp_url, "stylize_image", {"content": png_data_url(0), "style": url})
    assert result.isError and text_of(result).startswith("style is a data: URL whose base64 data is broken")


def images_of(result) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(item.data))) for item in result.content if item.type == "image"]


def texts_of(result) -> list[str]:
    return [item.text for item in result.content if item.type == "text" and not item.text.startswith("Image URL")]


def test_a_tab_tool_gives_its_picture_once_and_its_status_not_the_pages_values(mcp_url):
    result = call_tool(mcp_url, "transfer_palette", {"content": png_data_url(0), "style": png_data_url(1), "size": 48})
    assert not result.isError, text_of(result)
    image, = images_of(result)  # not again as the PNG to download, nor the before/after slider's pair
    assert image.size == (48, 40)
    status, = texts_of(result)
    assert status.startswith("Palette only: the content with the style's colours, 48×40 px")
    assert "__type__" not in text_of(result) and "'path'" not in text_of(result)


def test_a_gallery_tool_gives_each_panel_with_its_caption(mcp_url):
    result = call_tool(mcp_url, "layer_depth_lab", {"content": png_data_url(0), "style": png_data_url(1),
                                                    "size": 32, "steps": 1, "sublayer": 2, "seed": 0})
    assert not result.isError, text_of(result)
    assert len(images_of(result)) == 10  # five content panels, five style panels
    captions = texts_of(result)
    assert [c.split(" · ")[0] for c in captions[:5]] == [f"relu{k}_2" for k in range(1, 6)]  # sublayer 2
    assert captions[-1].startswith("Done: 10 panels")


def test_the_unit_explorer_page_is_a_tool_on_the_built_in_photos_and_on_images_sent(mcp_url):
    result = call_tool(mcp_url, "unit_explorer_page", {"uploads": [], "layer": "conv1_1", "page": 1})
    assert not result.isError, text_of(result)  # its outputs hold a gr.State: left out, not an error
    assert len(images_of(result)) == 16
    assert "Page 1 of 4" in text_of(result)
    sent = [png_data_url(3), png_data_url(4)]  # both arrive as file.png
    result = call_tool(mcp_url, "unit_explorer_page", {"source": "My images: one zip, or several image files",
                                                       "uploads": sent, "layer": "conv1_1", "page": 1})
    assert not result.isError, text_of(result)
    assert "2 uploaded files" in text_of(result)


def red_left_half(width: int = 48, height: int = 40) -> str:
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[:, : width // 2] = (255, 0, 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_painted_regions_sent_to_the_tool_take_their_style(mcp_url, tmp_path):
    arguments = {"content": png_data_url(0), "style": png_data_url(1), "size": 48, "steps": 1, "scales": 1,
                 "regions": {"background": None, "layers": [red_left_half()], "composite": None},
                 "red_style": png_data_url(2)}
    result = call_tool(mcp_url, "stylize_with_settings", arguments)
    assert not result.isError, text_of(result)
    url = next(item.text for item in result.content if item.type == "text" and item.text.startswith("Image URL"))
    with urllib.request.urlopen(url.split(": ", 1)[1]) as response:  # the PNG as written, with its settings
        (tmp_path / "result.png").write_bytes(response.read())
    labels = read_regions(str(tmp_path / "result.png"))
    assert labels.shape == (40, 48) and (labels[:, :24] == 1).all() and (labels[:, 24:] == 0).all()
    arguments["regions"]["layers"] = ["/etc/passwd"]
    result = call_tool(mcp_url, "stylize_with_settings", arguments)
    assert result.isError and text_of(result).startswith("regions must be an http(s) address of an image")


def test_a_table_comes_as_markdown(mcp_url):
    result = call_tool(mcp_url, "conv_stack_report", {"sizes": "32x32", "channels": 3, "rows": {
        "headers": ["layer", "filters", "kernel", "stride", "padding", "dilation"],
        "data": [["conv", 8, 3, 1, 1, 1], ["max pool", "", 2, "", "", ""]]}})
    assert not result.isError, text_of(result)
    table, summary = texts_of(result)
    assert table.splitlines()[0].startswith("| layer | output (course, C last) |")
    assert "| 16×16×8 |" in table.splitlines()[3]  # the pool halves 32×32×8
    assert summary.startswith("2 layers: 32×32×3 → **16×16×8**")


def test_every_tool_schema_stands_on_its_own_and_describes_every_argument(mcp_url):
    for tool in list_tools(mcp_url):
        schema = tool.inputSchema
        jsonschema.validators.validator_for(schema).check_schema(schema)
        text = json.dumps(schema)
        assert "$ref" not in text and "$defs" not in text and "/tmp/" not in text, tool.name
        for name, argument in schema["properties"].items():
            assert len(argument.get("description", "")) > 10, (tool.name, name)
    sublayer = next(t for t in list_tools(mcp_url) if t.name == "layer_depth_lab").inputSchema["properties"]["sublayer"]
    assert sublayer["type"] == "integer" and sublayer["enum"] == [1, 2]


def test_defaults_of_zero_are_defaults_and_files_are_said_as_urls(mcp_url):
    tools = {tool.name: tool for tool in list_tools(mcp_url)}
    assert tools["stylize_image"].inputSchema["properties"]["size"]["default"] == 0  # 0: the preset's size
    assert tools["layer_depth_lab"].inputSchema["properties"]["seed"]["default"] == 0
    assert tools["conv_layer_report"].inputSchema["properties"]["transposed"]["default"] is False
    for name in ("stylize_image", "probe_photo", "stylize_video"):
        description = tools[name].description
        assert "data: URL" in description and "upload_file_to_gradio" not in description, name


def test_a_painted_layer_that_is_no_image_is_one_sentence(mcp_url):
    text_file = "data:image/png;base64," + base64.b64encode(b"not a picture at all" * 10).decode()
    result = call_tool(mcp_url, "stylize_with_settings", {"content": png_data_url(0), "style": png_data_url(1),
                                                          "regions": {"layers": [text_file]}})
    assert result.isError
    assert text_of(result).startswith("Paint regions: ") and "not an image file Pillow can read" in text_of(result)


def test_ranges_are_in_the_schema_and_an_unknown_argument_is_named(mcp_url):
    tools = {tool.name: tool for tool in list_tools(mcp_url)}
    size = tools["stylize_with_settings"].inputSchema["properties"]["size"]
    assert (size["minimum"], size["maximum"]) == (32, 2048)  # the Stylize tab's slider
    steps = tools["layer_depth_lab"].inputSchema["properties"]["steps"]
    assert (steps["minimum"], steps["maximum"]) == (1, 300)
    result = call_tool(mcp_url, "layer_depth_lab", {"content": png_data_url(0), "style": png_data_url(1), "steps": 999})
    assert result.isError and "steps must be a whole number from 1 to 300; got 999." in text_of(result)
    result = call_tool(mcp_url, "transfer_palette", {"content": png_data_url(0), "style": png_data_url(1), "bogus": 1})
    assert result.isError and "bogus is not an argument of this tool; its arguments are content, style, size." \
        in text_of(result)
