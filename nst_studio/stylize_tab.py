"""The Stylize tab: content + style images in, a stylized PNG (carrying its settings) out, with live progress.

The job streams the current image every ``preview_every`` steps, a plot of the costs
and a status line; Stop ends it at once with the best image so far. The named
endpoint ``/stylize`` takes the content and style images first; every other input
defaults to the Quick preset.
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import time
from collections.abc import Mapping
from typing import Any

import gradio as gr
import numpy as np

from nst_core import Progress, StyleOptions, StyleTransfer
from nst_core.checks import InputError
from nst_core.estimate import size_within
from nst_core.memory import memory_budget
from nst_core.metadata import REGIONS_KEY, read_regions, read_settings, save_png
from nst_core.options import (DEFAULT_STRENGTH, FULL_GAIN_STEPS, INITS, MAX_STRENGTH_FACTOR, MAX_STYLE_GAIN, PRESETS,
                              format_style_layers, preset_options)
from nst_core.regions import REGION_COLOURS, check_regions, fit_labels, labels_to_png_text, preview
from nst_core.stylize import balance_note

from . import links
from .images import SKIMAGE_DATA, image_input, load_input, result_path
from .errors import explained
from .gpu import on_gpu
from .jobs import CPU_HEAVY, JOB_BUDGET_S, Job, JobBoard, session_key
from .controls import arguments_doc, by_name, control
from .plots import CostHistory, cost_figure
from .stylize_settings import (SLIDER_RANGES, STRENGTH_RANGE, build_options, clamp_to_sliders, control_values,
                               labels_layer, painted_labels, restore_notes, style_strength)

STATUS_EVERY_S = 0.25  # at most this often a status-only update is sent (and at the start of each stage)
RESULT_HEIGHT = 420  # px: the result box keeps this height from the first preview to the last
PLOT_EVERY_S = 2.0  # at most this often the cost plot is redrawn (rendering it takes ~0.25 s of CPU)
EXAMPLES = [  # (content, style) pairs from scikit-image's sample photos and textures
    ("chelsea.png", "hubble_deep_field.jpg"),
    ("astronaut.png", "ihc.png"),
    ("coffee.png", "gravel.png"),
    ("rocket.jpg", "retina.jpg"),
    ("motorcycle_left.png", "brick.png"),
]
QUICK = preset_options("Quick")
CUSTOM = "Custom"  # the preset shown when size, steps and scales match no preset
JOBS = JobBoard()
# Measured by benchmarks/bench_stylize.py --parts presets (Quick, Balanced) and bench_quality.py (Best) on 2 cores of
# an AMD EPYC (docs/performance.md, "The presets end to end"): the one place these figures are written.
PRESET_HINT = ("On 2 CPU cores: Quick, 512 px, about 15 s with bf16 (about 23 s without); Balanced, 512 px, about "
               "50 s with bf16; Best, 768 px, 1 to 2 min with bf16. The estimate for your picture shows when you press "
               "Stylize. Custom: your own size, steps and scales, set below.")
TAB = links.tab_id(__name__)


def save_result(rgb: np.ndarray, options: StyleOptions, weights_identity: str,
                regions: np.ndarray | None = None) -> str:
    """Write the result as a PNG carrying its settings, and its regions mask if one was painted
    (``images.result_path``)."""
    extra = None if regions is None else {REGIONS_KEY: labels_to_png_text(regions)}
    return str(save_png(result_path("stylized"), rgb, options, weights_identity, extra))


def status_line(p: Progress, n_stages: int, planned: str = "") -> str:
    """Step, stage size (and its tiles), elapsed and estimated remaining time, the current J, and the plan."""
    h, w = p.size
    left = f" · about {p.remaining:.0f} s left" if p.step else ""
    tiles = f" in {p.tiles} tiles" if p.tiles > 1 else ""
    plan = f" · planned: {planned}" if planned else ""
    return (f"Step {p.step}/{p.total_steps} · stage {p.stage + 1}/{n_stages} at {w}×{h} px{tiles} · "
            f"{p.elapsed:.1f} s elapsed{left} · J = {p.J:.3g}{plan}")


def planned_text(st: StyleTransfer, content_shape: tuple[int, int]) -> str:
    """What the run will take on this machine; past the job's time budget, the size that would fit."""
    planned = st.plan(content_shape)
    if planned.seconds <= JOB_BUDGET_S:
        return planned.text()
    fits = size_within(st.options, content_shape, st.evaluation_cost(), memory_budget(st.options.max_memory),
                       st.evaluation_precision(), JOB_BUDGET_S)
    return (f"{planned.text()}, more than the {JOB_BUDGET_S:.0f} s a job may take here: it will stop then with its "
            f"best image so far (a size up to {fits} px fits)")


def final_line(p: Progress, job: Job) -> str:
    h, w = p.size
    if job.over_budget:
        return (f"Time budget reached: stopped at step {p.step}/{p.total_steps} after {p.elapsed:.0f} s; "
                f"showing the best image so far ({w}×{h} px).")
    if p.stopped:
        return f"Stopped at step {p.step}/{p.total_steps} after {p.elapsed:.1f} s; showing the best image so far ({w}×{h} px)."
    steps = f"{p.step} step{'s' * (p.step != 1)}"
    return f"Done: {steps} in {p.elapsed:.1f} s, {w}×{h} px, J = {p.J:.3g}. The PNG carries its settings."


def gain_text(st: StyleTransfer) -> str:
    """A sentence on the style's balance in the run just done (``stylize.balance_note``), empty where beta and the
    start were used as given."""
    note = balance_note(st.balance, beta="The style's weight β was", times="×")
    return f" {note[:1].upper()}{note[1:]}." if note else ""


def stylize_work(options: StyleOptions, content: np.ndarray, styles: list[np.ndarray], content_path: str,
                 regions: np.ndarray | None = None, note: str = ""):
    """The job: each item is (image, cost plot, status, download, before/after) with ``gr.skip()`` where nothing
    changed; the last item is the best image, as a PNG carrying its settings, beside the content image."""
    def work(job: Job):
        st = StyleTransfer(options)
        planned = planned_text(st, content.shape[:2])
        history, n_stages = CostHistory(), len(options.schedule())
        last_sent = last_plot = 0.0  # monotonic times of the last update and the last plot
        last_stage = -1
        for p in st.iter_stylize(content, styles, regions=regions, stop=job.stop_event):
            if p.done:
                path = save_result(p.image, options, st.model.identity, regions)
                yield path, cost_figure(history), note + final_line(p, job) + gain_text(st), path, (content_path, path)
                return
            history.add(p.step, p.stage, p.J_content, p.J_style, p.J, options.alpha, st.effective_beta)
            now = time.monotonic()
            if p.image is None and now - last_sent < STATUS_EVERY_S and p.stage == last_stage:
                continue
            plot = gr.skip()
            if p.image is not None and now - last_plot >= PLOT_EVERY_S:
                plot, last_plot = cost_figure(history), now
            yield (gr.skip() if p.image is None else p.image, plot, status_line(p, n_stages, planned), gr.skip(),
                   gr.skip())
            last_sent, last_stage = now, p.stage
    return work


def prepare(inputs: Mapping[str, Any]):
    """The tab's inputs (by ``stylize``'s parameter names) checked and read: (options, content, styles, region
    labels or None, a note on the mask)."""
    weights = ("style_weight", "style_2_weight", "style_3_weight")
    given = [(inputs[s], inputs[w]) for s, w in zip(("style", "style_2", "style_3"), weights) if inputs[s]]
    content_rgb = load_input(inputs["content"], "content image")
    if not given:
        raise InputError("Please give at least one style image.")
    styles = [load_input(s, "style image") for s, _ in given]
    blend = [w for _, w in given]
    labels, note, region_styles = painted_labels(inputs["regions"], inputs["restored_regions"]), "", []
    for colour in REGION_COLOURS:
        path = inputs[f"{colour}_style"]
        region_styles.append(len(styles) + 1 if path else 0)
        if path:
            styles.append(load_input(path, f"style image of the {colour} region"))
            blend.append(0.0)  # a region's style shapes its region only; the rest takes the blend above
    if labels is not None or any(region_styles):
        labels, note = fit_labels(np.zeros(content_rgb.shape[:2], np.uint8) if labels is None else labels,
                                  *content_rgb.shape[:2])
        check_regions(labels, tuple(region_styles), len(styles))
        note = note and note + " "
    settings = {name: inputs[name] for name in SETTING_NAMES if name not in weights}
    settings["style_strength"] = settings.pop("strength")
    options = build_options(**settings, blend=blend, region_styles=region_styles if labels is not None else ())
    return options, content_rgb, styles, labels, note


@on_gpu
@explained("stylizing")
def stylize(content: str | None, style: str | None, style_2: str | None = None, style_3: str | None = None,
            style_weight: float = 1.0, style_2_weight: float = 1.0, style_3_weight: float = 1.0,
            size: int = QUICK.size, steps: int = QUICK.steps, scales: int = QUICK.scales,
            content_layer: str = QUICK.content_layer, style_layers: str = format_style_layers(QUICK.style_layers),
            strength: float = style_strength(QUICK), tv_weight: float = QUICK.tv_weight, init: str = QUICK.init,
            optimizer: str = QUICK.optimizer, learning_rate: float = QUICK.learning_rate,
            style_scale: float = QUICK.style_scale, preserve_color: bool = QUICK.preserve_color,
            seed: int = QUICK.seed, match_style_colors: bool = QUICK.match_style_colors, regions: dict | None = None,
            red_style: str | None = None, green_style: str | None = None, blue_style: str | None = None,
            restored_regions: np.ndarray | None = None, request: gr.Request = None):
    """Stylize ``content`` with ``style`` (and optionally two more styles, blended by their weights); with
    ``regions`` painted, the red, green and blue regions take ``red_style``, ``green_style`` and ``blue_style``
    and the rest the blend.

    Yields (image, cost plot, status, PNG path, (content, result) pair) as the job runs; the last image is the
    best one, a PNG carrying its settings.
    """
    inputs = {name: value for name, value in locals().items() if name != "request"}  # by parameter name
    key = session_key(request, "stylize")
    with JOBS.preparing(key):
        options, content_rgb, styles, labels, note = prepare(inputs)
    yield from JOBS.run(key, stylize_work(options, content_rgb, styles, content, labels, note))


# Each parameter's description for the HTTP API and MCP: the settings' own help (nst_core.options), and the tab's
# inputs that are not settings.
stylize.__doc__ += arguments_doc(stylize, {
    **{f.name: f.metadata["help"] for f in dataclasses.fields(StyleOptions)},
    "content": "the photo whose layout is kept: an image file, or an http(s) or data: URL",
    "style": "the painting or texture whose colours and strokes are copied",
    "style_2": "an optional second style image, blended with the first by their weights",
    "style_3": "an optional third style image",
    "style_weight": "blend weight of the first style, 0 to 1 (the weights count relative to each other)",
    "style_2_weight": "blend weight of the second style, 0 to 1",
    "style_3_weight": "blend weight of the third style, 0 to 1",
    "strength": f"style strength log10(beta / alpha) with alpha = 1, {STRENGTH_RANGE[0]:g} to {STRENGTH_RANGE[1]:g} "
                f"(the default {style_strength(QUICK):.2f} is beta = {QUICK.beta:g})",
    "style_layers": "style layers and their weights λ as text, 'relu1_1: 0.5, relu3_1' (a layer without a weight gets "
                    "1/n of the n layers listed)",
    "regions": "painted regions (the image editor's value: red, green and blue layers) that take their own styles",
    **{f"{c}_style": f"the style image of the {c} region" for c in REGION_COLOURS},
    "restored_regions": "the regions mask of a reproduced PNG, as labels (0: no region, 1-3: red, green, blue)",
})


def estimate_run(*values) -> str:
    """The status the moment Stylize is pressed (with ``stylize``'s inputs): how long the run will take and how much
    memory it needs here. Bad input is left to the job itself, which says what is wrong in one sentence (once, not
    twice)."""
    try:
        options, content_rgb, _, _, note = prepare(dict(zip(INPUT_NAMES, values)))
        return f"{note}Starting: {planned_text(StyleTransfer(options), content_rgb.shape[:2])}."
    except InputError:
        return ""  # no run's status: the job's error says what is wrong


@explained("transferring the palette")
def palette_only(content: str | None, style: str | None, size: int = QUICK.size):
    """The content with the style's colours (mean and covariance matched), no brush strokes: in under a second."""
    content_rgb, style_rgb = load_input(content, "content image"), load_input(style, "style image")
    options = StyleOptions(size=size, palette_only=True)
    transfer = StyleTransfer(options)
    p = next(transfer.iter_stylize(content_rgb, [style_rgb]))
    path = save_result(p.image, options, transfer.model.identity)
    h, w = p.size
    return (path, None, f"Palette only: the content with the style's colours, {w}×{h} px, in {p.elapsed:.2f} s. "
            "The PNG carries its settings.", path, (content, path))


palette_only.__doc__ += arguments_doc(palette_only, {
    "content": "the photo whose colours are replaced",
    "style": "the image whose colours (their mean and covariance) are taken",
    "size": f"long edge of the result in pixels, {SLIDER_RANGES['size'][0]} to {SLIDER_RANGES['size'][1]} (aspect "
            "ratio kept)",
})


@explained("reading the painted regions")
def regions_view(editor: dict | None, restored: np.ndarray | None = None):
    """The painted regions as the algorithm sees them: red, green and blue regions, the rest grey (None: nothing
    painted)."""
    labels = painted_labels(editor, restored)
    return None if labels is None else preview(labels)


def ask_to_stylize(request: gr.Request = None) -> None:
    """The moment Stylize is pressed (before the queue starts the job): a Stop from now on cancels it."""
    JOBS.wait(session_key(request, "stylize"))


def stop(request: gr.Request = None):
    """End this session's stylization now; returns its best image so far (or says the job never started)."""
    item = JOBS.stop(session_key(request, "stylize"))
    if item is JOBS.QUEUED:
        return gr.skip(), gr.skip(), "Stopped before it started: the job was still waiting for its turn.", gr.skip(), gr.skip()
    if item is None:
        return gr.skip(), gr.skip(), "Nothing to stop: no stylization is running.", gr.skip(), gr.skip()
    image, _, status, download, compare = item  # the plot comes from the job's own stream (drawn once, not twice)
    return image, gr.skip(), status, download, compare


@explained("reading the PNG's settings")
def restore_settings(path: str | None):
    """Read the settings stored in a PNG made by this app (or the CLI) and put them into the controls (the preset
    shows which one they match, or Custom)."""
    if not path:
        return (gr.skip(),) * (len(SETTING_NAMES) + 2)
    name = os.path.basename(path)
    try:
        stored = read_settings(path)
    except OSError:
        raise InputError(f"{name}: not an image file Pillow can read.") from None
    if stored is None:
        raise InputError(f"{name} carries no settings; only PNGs made by this app or its CLI do.")
    o, identity = stored
    notes = restore_notes(o, identity)
    if len(o.style_blend) > 3:
        notes.append(f"it blended {len(o.style_blend)} styles; the app takes up to 3")
    # blend weights only count relative to each other: scaled to sum to 1 they fit the 0-1 sliders
    blend = [w / sum(o.style_blend) for w in o.style_blend] + [1.0] * (3 - len(o.style_blend))
    values = control_values(o, blend)
    notes += clamp_to_sliders(values)
    if read_regions(path) is not None:
        notes.append("its regions are painted back; give each region its style image again")
    message = f"Restored the settings of {name}" + (f" (note: {'; '.join(notes)})." if notes else ".")
    preset = preset_of(values["size"], values["steps"], values["scales"])
    return (*(values[name] for name in SETTING_NAMES), preset, message)


@explained("reading the PNG's regions")
def restore_regions(path: str | None, content: str | None):
    """The regions mask a PNG made here carries: the content with the regions painted on, for the editor (more
    paint goes over them), and the labels themselves (nothing if the PNG has none)."""
    labels = read_regions(path) if path else None
    if labels is None:
        return gr.skip(), gr.skip()
    background = load_input(content, "content image")
    labels, _ = fit_labels(labels, *background.shape[:2])
    layer = labels_layer(labels)
    painted = np.where(layer[..., 3:] > 0, layer[..., :3], background)
    return {"background": painted, "layers": [], "composite": painted}, labels


# The setting controls, in the order restore_settings returns them (names of ``stylize``'s parameters), and all of
# its inputs, in the order of its signature.
SETTING_NAMES = tuple(control_values(QUICK))
INPUT_NAMES = tuple(name for name in inspect.signature(stylize).parameters if name != "request")


def linked_view(values: dict) -> list:
    """What a link to this tab fills: its pictures, the preset its size, steps and scales match, the settings."""
    settings = links.stylize_settings(values)
    return [values.get("content", gr.skip()), values.get("style", gr.skip()),
            preset_of(settings["size"], settings["steps"], settings["scales"]), *(settings[n] for n in SETTING_NAMES)]


def preset_values(name: str):
    """Size, steps and scales of a preset (Custom leaves them as they are)."""
    if name not in PRESETS:
        return gr.skip(), gr.skip(), gr.skip()
    p = PRESETS[name]
    return p["size"], p["steps"], p["scales"]


def preset_of(size, steps, scales) -> str:
    """The preset whose size, steps and scales these are, else Custom."""
    return next((name for name, p in PRESETS.items() if (p["size"], p["steps"], p["scales"]) == (size, steps, scales)),
                CUSTOM)


def upload(label: str):
    return image_input(label=label, height=240)


def picture_inputs() -> dict:
    """The content and style uploads, the painted regions with their styles, and the blend of more styles, by
    ``stylize``'s parameter names (and the mask as the algorithm sees it)."""
    w = {}
    with gr.Row():
        w["content"], w["style"] = upload("Content image"), upload("Style image")
    with gr.Accordion("Regions: a different style per painted area", open=False):
        gr.Markdown("Paint on the content with the brush (Gatys et al. 2017, spatial control): each colour "
                    "is a region that takes its own style below; unpainted parts (grey in the mask) take the style(s) "
                    "above. The style cost is then computed per region, each region's Gram matrix over its own "
                    "pixels.")
        with gr.Row():
            w["regions"] = gr.ImageEditor(
                label="Paint regions", type="numpy", height=300, sources=(), transforms=(), layers=False,
                elem_id="regions-editor",
                brush=gr.Brush(colors=["#ff0000", "#00ff00", "#0000ff"], color_mode="fixed", default_size=24))
            w["regions_seen"] = gr.Image(label="Mask as the algorithm sees it", interactive=False, height=300,
                                         elem_id="regions-mask")
        with gr.Row():
            for colour in REGION_COLOURS:
                w[f"{colour}_style"] = upload(f"Style of the {colour} region")
        w["restored_regions"] = gr.State(None)  # the regions of a reproduced PNG, under any new paint
    with gr.Accordion("Blend more styles", open=False):
        with gr.Row():
            w["style_2"], w["style_3"] = upload("Second style (optional)"), upload("Third style (optional)")
        with gr.Row():
            for name, label in (("style", "First"), ("style_2", "Second"), ("style_3", "Third")):
                w[f"{name}_weight"] = gr.Slider(0, 1, value=1.0, step=0.05, label=f"{label} style weight")
    return w


def setting_controls() -> dict:
    """The advanced settings' controls, by ``stylize``'s parameter names, at the Quick preset's values."""
    w = {}
    with gr.Row():
        w["size"] = gr.Slider(*SLIDER_RANGES["size"], value=QUICK.size, step=1, label="Size (long edge, px)",
                              elem_id="size-input")
        w["steps"] = gr.Slider(*SLIDER_RANGES["steps"], value=QUICK.steps, step=1, label="Steps at the final size",
                               elem_id="steps-input")
        w["scales"] = gr.Slider(*SLIDER_RANGES["scales"], value=QUICK.scales, step=1, label="Scales (coarse to fine)",
                                elem_id="scales-input")
    gr.Markdown(f"Each coarser size takes {QUICK.step_ratio:g} times the steps of the next; a style strength above "
                f"the default takes (β/α / {DEFAULT_STRENGTH:g})^¼ times as many at every size (at most "
                f"{MAX_STRENGTH_FACTOR:g}×).",
                elem_classes="setting-note")
    with gr.Row():
        w["content_layer"] = control(StyleOptions, "content_layer", value=QUICK.content_layer, label="Content layer")
        w["style_layers"] = gr.Textbox(format_style_layers(QUICK.style_layers),
                                       label="Style layers and their λ (layer: weight, …)",
                                       info="a layer without a weight gets 1/n of the n layers listed")
    with gr.Row():
        w["strength"] = gr.Slider(*STRENGTH_RANGE, value=style_strength(QUICK), step=0.01,
                                  label="Style strength log₁₀(β/α)",
                                  info=f"balanced per style: β × ¼ to {MAX_STYLE_GAIN:g} (a pale style more; a run "
                                       f"of under {FULL_GAIN_STEPS} steps at most {MAX_STYLE_GAIN:g} × (steps/"
                                       f"{FULL_GAIN_STEPS})^¼)")
        w["tv_weight"] = control(StyleOptions, "tv_weight", value=QUICK.tv_weight, label="TV weight (smoothness)")
    with gr.Row():
        w["init"] = gr.Dropdown(list(INITS), value=QUICK.init, label="Start from",
                                info="content+palette: the content in the style's colours (half way where they carry "
                                     "little of the style)")
        w["optimizer"] = control(StyleOptions, "optimizer", value=QUICK.optimizer, label="Optimizer")
        w["learning_rate"] = control(StyleOptions, "learning_rate", value=QUICK.learning_rate, step=0.005,
                                     label="Adam learning rate", visible=QUICK.optimizer == "adam")
    with gr.Row():
        w["style_scale"] = gr.Slider(*SLIDER_RANGES["style_scale"], value=QUICK.style_scale, step=0.05,
                                     label="Style scale (style size / output size)", scale=2)
        w["preserve_color"] = gr.Checkbox(QUICK.preserve_color, label="Preserve the content's colours")
        w["match_style_colors"] = gr.Checkbox(QUICK.match_style_colors,
                                              label="Give the style the content's colours first")
        w["seed"] = control(StyleOptions, "seed", value=QUICK.seed, label="Seed")
    return w


def result_outputs() -> dict:
    """The result, its status, the cost plot, the before/after slider, the download and the link."""
    w = {}
    # a fixed box: small early previews are scaled up to fill it (CSS in app.py), so it never jumps
    w["result"] = gr.Image(label="Result", type="filepath", interactive=False, elem_id="result-image",
                           buttons=["download", "fullscreen"], height=RESULT_HEIGHT)
    w["status"] = gr.Textbox(label="Status", interactive=False, elem_id="status-line", lines=4, max_lines=6)
    w["plot"] = gr.Plot(label="Costs per step", show_label=False, elem_id="cost-plot")
    w["compare"] = gr.ImageSlider(label="Before / after: content ↔ result (drag the handle)", type="filepath",
                                  interactive=False, elem_id="before-after", height=RESULT_HEIGHT,
                                  max_height=RESULT_HEIGHT)
    with gr.Row():
        w["download"] = gr.DownloadButton("Download the PNG (with its settings)", elem_id="download-button")
        gr.DeepLinkButton("Share this result", visible=bool(os.environ.get("SPACE_ID")))  # Spaces only
    w["link"] = links.copy_link(TAB)  # the pictures (scikit-image's), the preset and the settings
    return w


def build():
    """The tab's widgets and events (inside the current Blocks/Tab)."""
    with gr.Row():
        with gr.Column(scale=1):
            w = picture_inputs()
            w["preset"] = gr.Radio([*PRESETS, CUSTOM], value="Quick", label="Preset", elem_id="preset-radio",
                                   info=PRESET_HINT)
            with gr.Row():
                w["run"] = gr.Button("Stylize", variant="primary", elem_id="stylize-button")
                w["palette"] = gr.Button("Palette only", elem_id="palette-button")
                w["stop"] = gr.Button("Stop", variant="stop", elem_id="stop-button")
            with gr.Accordion("Advanced settings", open=False):
                w |= setting_controls()
                w["reproduce"] = gr.File(label="Reproduce: drop a PNG made here to restore its settings",
                                         file_types=[".png"], type="filepath", height=170)
        with gr.Column(scale=1):
            w |= result_outputs()
    gr.Examples([[str(SKIMAGE_DATA / c), str(SKIMAGE_DATA / s)] for c, s in EXAMPLES], inputs=[w["content"], w["style"]],
                label="Examples (scikit-image sample photos and textures)", cache_examples=False)
    wire(w)


def wire(w: dict) -> None:
    """The tab's events; ``w`` holds its components by name (``stylize``'s parameter names for its inputs)."""
    controls = [w[name] for name in SETTING_NAMES]
    outputs = [w["result"], w["plot"], w["status"], w["download"], w["compare"]]
    inputs = by_name(stylize, w)
    regions, restored = w["regions"], w["restored_regions"]
    # queued (no limit), not queue=False: a control refused by its check is then one toast, not a failed request,
    # and the job is not asked for
    estimated = w["run"].click(estimate_run, inputs, w["status"], api_visibility="private", show_progress="hidden",
                               concurrency_limit=None)
    asked = estimated.success(ask_to_stylize, queue=False, api_visibility="private")
    asked.then(
        stylize, inputs=inputs,
        outputs=outputs, api_name="stylize", show_progress="minimal",
        api_description="Stylize a content image with one to three style images (Gatys et al.) with every setting "
                        "of the app's Stylize tab: size, steps, scales, content and style layers and their weights, "
                        "style strength, smoothness, start image, optimizer, colours, seed, and painted regions with "
                        "styles of their own. Streams previews and ends with the stylized PNG, which carries its "
                        "settings. For a plain stylization use stylize_image: two images and a preset.", **CPU_HEAVY)
    w["stop"].click(stop, outputs=outputs, api_name="stop", concurrency_limit=None, api_visibility="undocumented",
                    api_description="Stop this session's stylization; returns the best image so far.")
    schedule = [w["size"], w["steps"], w["scales"]]
    w["preset"].input(preset_values, w["preset"], schedule, api_visibility="private", queue=False)
    for box in schedule:
        box.input(preset_of, schedule, w["preset"], api_visibility="private", concurrency_limit=None,
                  show_progress="hidden")  # queued: a number typed past the slider's range is a toast
    w["optimizer"].change(lambda name: gr.update(visible=name == "adam"), w["optimizer"], w["learning_rate"],
                          api_visibility="private", queue=False)
    w["palette"].click(palette_only, [w["content"], w["style"], w["size"]], outputs, api_name="palette_only",
                       **CPU_HEAVY,
                       api_description="The content image with the style image's colours (mean and covariance "
                                       "matched, Pitié & Kokaram 2007), no texture: a PNG in under a second. Use it "
                                       "when only the colours should change; stylize_image also copies the brush "
                                       "strokes.")
    w["content"].change(lambda c: ({"background": c, "layers": [], "composite": c}, None), w["content"],
                        [regions, restored], api_visibility="private", queue=False)
    regions.change(regions_view, [regions, restored], w["regions_seen"], api_visibility="private", queue=False)
    w["reproduce"].upload(restore_regions, [w["reproduce"], w["content"]], [regions, restored],
                          api_visibility="private", queue=False).then(
        regions_view, [regions, restored], w["regions_seen"], api_visibility="private", queue=False)
    shown = [w["content"], w["style"], w["preset"], *controls]
    w["link"].wire(lambda c, s, p, *values: links.stylize_link(c, s, p, dict(zip(SETTING_NAMES, values))), shown)
    links.on_load(TAB, linked_view, shown)
    w["reproduce"].upload(restore_settings, w["reproduce"], controls + [w["preset"], w["status"]],
                          api_name="restore_settings", concurrency_limit=None, api_visibility="undocumented",
                          api_description="Read the settings stored in a PNG made by this app and return them.")
