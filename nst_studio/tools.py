"""The app's tools for agents: plain functions with typed arguments, served as named API endpoints and, with
``launch(mcp_server=True)``, as MCP tools at ``/gradio_api/mcp/``.

Each docstring is the tool's description (its ``Args:`` lines describe the arguments to the agent). Inputs are
checked where they enter, with ``nst_core.checks``; a bad one is a one-sentence error naming it.
"""
from __future__ import annotations

import math
import threading

import gradio as gr
from gradio.mcp import GradioMCPServer

from explorer.convs.shapes import ConvSpec
from explorer.convs.text import describe
from explorer.units import service
from explorer.units.datasets import builtin_dataset
from explorer.units.probe import probe
from nst_core.receptive_field import receptive_field as layer_field
from nst_core import StyleTransfer
from nst_core.checks import InputError, one_of, whole_number
from nst_core.options import MIN_STAGE_SIZE, MAX_SIZE, PRESETS, preset_at
from nst_core.vgg import CONV_LAYERS, LAYER_NAMES, layer_channels

from .errors import explained
from .gpu import on_gpu
from .images import image_input, load_input
from .jobs import CPU_HEAVY, JOB_BUDGET_S
from .stylize_tab import save_result
from .video_tab import DEFAULT_FPS, DEFAULT_SECONDS, DEFAULT_SIZE, run_clip


def summary(fn) -> str:
    """The first paragraph of ``fn``'s docstring: its ``api_description``."""
    return " ".join(fn.__doc__.split("\n\n")[0].split())


def times(shape) -> str:
    """(10, 10, 16) -> '10x10x16'."""
    return "x".join(map(str, shape))


@explained("computing the output shape")
def conv_output_shape(input_sizes: str, input_channels: int, filters: int, kernel_size: str,
                      stride: int | str = 1, padding: int | str = 0, dilation: int | str = 1) -> str:
    """The output shape of one plain 1D, 2D or 3D convolution layer, in the course's order (sizes, then channels)
    and in PyTorch's (channels first), with the size formula per dimension, the weight shape, the parameter count and
    the multiply-adds, checked against the real torch layer. Use this for one convolution; for a grouped or
    transposed one use conv_layer_report, for several layers in a row conv_stack_report.

    Args:
        input_sizes: the input's spatial sizes, e.g. "14x14x14" for a volume, "32x32" for an image, "100" for a signal.
        input_channels: the input's channels, e.g. 3 for RGB.
        filters: the number of filters, which is the number of output channels.
        kernel_size: each filter's spatial size, e.g. "5" (the same in every dimension) or "5x5x5".
        stride: the step between filter positions: a number, or one per dimension such as "2x1" (default 1).
        padding: zeros added on each side: a number, one per dimension, or "same" (default 0).
        dilation: the spacing between filter taps: a number, or one per dimension (default 1).
    """
    conv = ConvSpec(input_sizes, input_channels, filters, kernel_size, stride, padding, dilation,
                    filter_channels="").validate()
    out = conv.output_shape
    return (f"Output {times((*out[1:], out[0]))} (the course's order: sizes, then channels) = {out} "
            f"(PyTorch's order: channels first, batch left out).\n\n{describe(conv)}")


@explained("computing the receptive field")
def receptive_field(layer: str) -> str:
    """The receptive field of a VGG19 layer: how many input pixels one unit sees (R), how far apart neighbouring
    units look (the jump J) and the padding P, so that unit (y, x) sees input rows y*J - P ... y*J - P + R - 1. For
    a stack of layers of your own, use conv_stack_report.

    Args:
        layer: a VGG19 layer name, conv1_1 ... conv5_4, relu1_1 ... relu5_4 or pool1 ... pool5.
    """
    field = layer_field(one_of("layer", layer, LAYER_NAMES, "a VGG19 layer name such as conv3_1, relu4_2 or pool5"))
    return (f"{layer}: receptive field R = {field.size} px, jump J = {field.jump} px, padding P = {field.padding} px; "
            f"unit (y, x) sees input rows y*{field.jump} - {field.padding} ... y*{field.jump} - {field.padding} + "
            f"{field.size - 1} (and the same columns of x).")


@on_gpu
@explained("stylizing")
def stylize(content: str, style: str, preset: str = "Quick", size: int = 0) -> str:
    """Repaint a content image in the style of a style image (Gatys et al., on VGG19) in one call and return the
    result, a PNG that carries its settings. Quick is the fastest preset (the Stylize tab's preset hint gives its
    measured time); Balanced and Best take a few times longer. Use this first: it needs only the two images and a preset. Use stylize_with_settings only to choose
    layers, weights, steps, several styles or painted regions yourself, and transfer_palette for the colours alone.

    Args:
        content: the photo whose layout is kept.
        style: the painting or texture whose colours and strokes are copied.
        preset: Quick (512 px), Balanced (512 px, more steps) or Best (768 px).
        size: the result's long edge in pixels, 32 to 4096; 0 keeps the preset's size.
    """
    chosen = PRESETS[one_of("preset", preset, PRESETS)]
    side = whole_number("size", size, 0, MAX_SIZE) or chosen["size"]
    if side < MIN_STAGE_SIZE:
        raise InputError(f"size must be 0 (the preset's) or a whole number from {MIN_STAGE_SIZE} to {MAX_SIZE}; "
                         f"got {size!r}.")
    options = preset_at(preset, side)
    images = load_input(content, "content image"), [load_input(style, "style image")]
    transfer, stop = StyleTransfer(options), threading.Event()
    # past the app's time budget the job stops and returns its best image so far, as in the Stylize tab
    rgb = transfer.stylize(*images, stop=stop, callback=lambda p: p.elapsed > JOB_BUDGET_S and stop.set())
    return save_result(rgb, options, transfer.model.identity)


@on_gpu
@explained("stylizing the clip")
def stylize_video(video: str, style: str, preset: str = "Quick", size: int = DEFAULT_SIZE,
                  seconds: float = DEFAULT_SECONDS, fps: float = DEFAULT_FPS) -> str:
    """Repaint a video clip in the style of a style image, steady from frame to frame (Ruder et al. 2016: each frame
    starts from the previous result carried along the motion), and return an H.264 MP4. Use this for a moving clip
    (MP4, WebM, MOV, GIF); for a single picture use stylize_image. On 2 CPU cores 2 s at 256 px and 10 fps takes
    under a minute (docs/performance.md, Video); a clip that would take longer than the app's job budget is refused with the length that fits.

    Args:
        video: the clip whose motion and layout are kept (MP4, WebM, MOV or GIF).
        style: the painting or texture whose colours and strokes are copied.
        preset: Quick, Balanced or Best (frame 1 runs its full schedule, later frames half its final steps).
        size: the long edge of the frames in pixels, 32 to 512.
        seconds: how much of the clip to stylize, from its start, 0.1 to 10.
        fps: frames per second of the result, 1 to 30.
    """
    return run_clip(video, style, preset, size, seconds, fps)



@on_gpu
@explained("finding the unit's top patches")
def top_patches(layer: str, unit: int) -> tuple[str, str]:
    """The 9 patches of scikit-image's sample photos that excite one unit of a VGG19 conv layer most (Zeiler &
    Fergus), as one image, with the unit's peak activation. The first call for a layer scans the photos (slow on a
    CPU); later calls read the cached scan. Use this for one unit; unit_explorer_page shows 16 units of a layer at
    once, also of other datasets, and feature_visualization the image a unit responds to most.

    Args:
        layer: a VGG19 conv layer, conv1_1 ... conv5_4.
        unit: the unit (channel) number, from 0 to the layer's channel count minus 1 (63 for conv1_x, 511 for conv5_x).
    """
    layer = one_of("layer", layer, CONV_LAYERS, "a VGG19 conv layer, conv1_1 … conv5_4")
    unit = whole_number(f"unit of {layer}", unit, 0, layer_channels(layer) - 1)
    index = service.index_for(builtin_dataset(), layer)
    (tile, caption), = service.page_tiles(index, layer, [unit], "patches", "deconvnet")
    return tile, caption


@on_gpu
@explained("probing the photo")
def probe_photo(image: str, layer: str = "conv4_1", top: int = 16) -> list[dict]:
    """Which units of a VGG19 conv layer fire on a photo, how strongly and where: the ``top`` units with the highest
    peak activation max(0, conv) on the photo, strongest first. The photo is seen with its long edge at 224 px.
    Use this to ask what the network sees in a given photo; top_patches then shows what a unit responds to.

    Each item is {"unit": channel number, "peak": the unit's largest activation, "y", "x": where that peak is in the
    layer's grid of positions, "box": [top, left, bottom, right], the photo pixels (half-open, clipped to the
    photo, after the resize to 224 px) that the peak's position sees, its receptive field}. Use top_patches(layer,
    unit) next to see what a unit responds to in a dataset.

    Args:
        image: the photo to probe.
        layer: a VGG19 conv layer, conv1_1 ... conv5_4 (deeper layers respond to larger, more complex patterns).
        top: how many units to list, from 1 to the layer's channel count (64 for conv1_x, 512 for conv5_x).
    """
    layer = one_of("layer", layer, CONV_LAYERS, "a VGG19 conv layer, conv1_1 … conv5_4")
    top = whole_number("top", top, 1, layer_channels(layer))
    return probe(service.model(), load_input(image, "photo"), layer).top(top)


# MCP tools are named after their handlers, repeats numbered (the Stylize tab's handler would be "stylize_1"): these
# endpoints' tools get a name that says what each does instead. The HTTP endpoints keep their names.
TOOL_NAMES = {"stylize_image": "stylize_image", "stylize": "stylize_with_settings", "palette_only": "transfer_palette",
              "layer_lab": "layer_depth_lab", "conv_layer": "conv_layer_report", "conv_stack": "conv_stack_report",
              "explorer_page": "unit_explorer_page", "feature_visualization": "feature_visualization"}


def name_tools() -> None:
    """Give the MCP server's tools the names of ``TOOL_NAMES`` (once per process; Gradio names the rest)."""
    if getattr(GradioMCPServer.get_tool_to_endpoint, "named", False):
        return
    gradio_names = GradioMCPServer.get_tool_to_endpoint

    def named(self) -> dict[str, str]:
        renamed = {}
        for tool, endpoint in gradio_names(self).items():
            ours = TOOL_NAMES.get(endpoint.lstrip("/"))
            renamed[self.tool_prefix + ours if ours else tool] = endpoint
        return renamed
    named.named = True
    GradioMCPServer.get_tool_to_endpoint = named


def register() -> None:
    """Add the tools to the current Blocks as named endpoints, each described by its docstring's first paragraph.

    Text tools are ``gr.api`` endpoints (typed by their signatures); the image tools take and give images through
    components kept out of sight, so Gradio moves the files (and MCP clients may send image URLs). MCP tool names:
    ``name_tools``.
    """
    name_tools()
    for fn in (conv_output_shape, receptive_field):
        gr.api(fn, api_name=fn.__name__, api_description=summary(fn), concurrency_limit=None)
    with gr.Group(visible=False):
        content, style = image_input(label="content"), image_input(label="style")  # bad uploads: one sentence
        preset = gr.Radio(list(PRESETS), value="Quick", label="preset")
        size = gr.Number(0, precision=0, label="size")
        layer = gr.Dropdown(list(CONV_LAYERS), value="conv5_4", label="layer")
        unit = gr.Number(0, precision=0, label="unit")
        image, caption = gr.Image(type="filepath", label="result"), gr.Textbox(label="caption")
        photo, top, peaks = image_input(label="photo"), gr.Number(16, precision=0, label="top"), gr.JSON()
        probe_layer = gr.Dropdown(list(CONV_LAYERS), value="conv4_1", label="layer")
        run_stylize, run_patches, run_probe = gr.Button(), gr.Button(), gr.Button()
        clip, clip_out, clip_size = gr.Video(label="video"), gr.Video(label="result"), gr.Number(DEFAULT_SIZE, label="size")
        clip_seconds, clip_fps, run_video = gr.Number(DEFAULT_SECONDS, label="seconds"), gr.Number(DEFAULT_FPS, label="fps"), gr.Button()
    run_stylize.click(stylize, [content, style, preset, size], image, api_name="stylize_image",
                      api_description=summary(stylize), **CPU_HEAVY)
    run_video.click(stylize_video, [clip, style, preset, clip_size, clip_seconds, clip_fps], clip_out,
                    api_name="stylize_video", api_description=summary(stylize_video), **CPU_HEAVY)
    run_patches.click(top_patches, [layer, unit], [image, caption], api_name="top_patches",
                      api_description=summary(top_patches), **CPU_HEAVY)
    run_probe.click(probe_photo, [photo, probe_layer, top], peaks, api_name="probe_photo",
                    api_description=summary(probe_photo), **CPU_HEAVY)
