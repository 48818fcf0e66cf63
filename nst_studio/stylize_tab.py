"""The Stylize tab: content + style images in, a stylized PNG (carrying its settings) out, with live progress.

The job streams the current image every ``preview_every`` steps, a plot of the costs
and a status line; Stop ends it at once with the best image so far. The named
endpoint ``/stylize`` takes the content and style images first; every other input
defaults to the Quick preset.
"""
from __future__ import annotations

import os
import time

import gradio as gr
import numpy as np

from nst_core import Progress, StyleOptions, StyleTransfer
from nst_core.checks import InputError
from nst_core.estimate import size_within
from nst_core.memory import memory_budget
from nst_core.metadata import REGIONS_KEY, read_regions, read_settings, save_png
from nst_core.options import INITS, OPTIMIZERS, PRESETS, preset_options
from nst_core.regions import REGION_COLOURS, check_regions, fit_labels, labels_to_png_text, preview
from nst_core.vgg import FEATURE_LAYERS

from .images import SKIMAGE_DATA, image_input, load_input, result_path
from .errors import explained
from .gpu import on_gpu
from .jobs import CPU_HEAVY, JOB_BUDGET_S, Job, JobBoard, session_key
from .plots import CostHistory, cost_figure
from .stylize_settings import (SLIDER_RANGES, STRENGTH_RANGE, build_options, clamp_to_sliders, format_style_layers,
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
    return f"Done: {p.step} steps in {p.elapsed:.1f} s, {w}×{h} px, J = {p.J:.3g}. The PNG carries its settings."


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
                yield path, cost_figure(history), note + final_line(p, job), path, (content_path, path)
                return
            history.add(p.step, p.stage, p.J_content, p.J_style, p.J, options.alpha, options.beta)
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


def prepare(content, style, style_2=None, style_3=None, style_weight=1.0, style_2_weight=1.0, style_3_weight=1.0,
            size=QUICK.size, steps=QUICK.steps, scales=QUICK.scales, content_layer=QUICK.content_layer,
            style_layers=format_style_layers(QUICK.style_layers), strength=style_strength(QUICK),
            tv_weight=QUICK.tv_weight, init=QUICK.init, optimizer=QUICK.optimizer, learning_rate=QUICK.learning_rate,
            style_scale=QUICK.style_scale, preserve_color=QUICK.preserve_color, seed=QUICK.seed,
            match_style_colors=QUICK.match_style_colors, regions=None, red_style=None, green_style=None,
            blue_style=None, restored_regions=None):
    """The tab's inputs checked and read: (options, content, styles, region labels or None, a note on the mask)."""
    given = [(s, w) for s, w in ((style, style_weight), (style_2, style_2_weight), (style_3, style_3_weight)) if s]
    content_rgb = load_input(content, "content image")
    if not given:
        raise InputError("Please give at least one style image.")
    styles = [load_input(s, "style image") for s, _ in given]
    blend = [w for _, w in given]
    labels, note, region_styles = painted_labels(regions, restored_regions), "", []
    for colour, path in zip(REGION_COLOURS, (red_style, green_style, blue_style)):
        region_styles.append(len(styles) + 1 if path else 0)
        if path:
            styles.append(load_input(path, f"style image of the {colour} region"))
            blend.append(0.0)  # a region's style shapes its region only; the rest takes the blend above
    if labels is not None or any(region_styles):
        labels, note = fit_labels(np.zeros(content_rgb.shape[:2], np.uint8) if labels is None else labels,
                                  *content_rgb.shape[:2])
        check_regions(labels, tuple(region_styles), len(styles))
        note = note and note + " "
    options = build_options(
        size=size, steps=steps, scales=scales, content_layer=content_layer, style_layers=style_layers,
        style_strength=strength, tv_weight=tv_weight, init=init, optimizer=optimizer,
        learning_rate=learning_rate, style_scale=style_scale, preserve_color=preserve_color, seed=seed,
        blend=blend, match_style_colors=match_style_colors, region_styles=region_styles if labels is not None else ())
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
    options, content_rgb, styles, labels, note = prepare(
        content, style, style_2, style_3, style_weight, style_2_weight, style_3_weight, size, steps, scales,
        content_layer, style_layers, strength, tv_weight, init, optimizer, learning_rate, style_scale,
        preserve_color, seed, match_style_colors, regions, red_style, green_style, blue_style, restored_regions)
    yield from JOBS.run(session_key(request, "stylize"),
                        stylize_work(options, content_rgb, styles, content, labels, note))


def estimate_run(*inputs) -> str:
    """The status the moment Stylize is pressed: how long the run will take and how much memory it needs here.
    Bad input is left to the job itself, which says what is wrong in one sentence (once, not twice)."""
    try:
        options, content_rgb, _, _, note = prepare(*inputs)
        return f"{note}Starting: {planned_text(StyleTransfer(options), content_rgb.shape[:2])}."
    except InputError:
        return gr.skip()


@explained("transferring the palette")
def palette_only(content: str | None, style: str | None, size: int = QUICK.size):
    """The content with the style's colours (mean and covariance matched), no brush strokes: in under a second."""
    content_rgb, style_rgb = load_input(content, "content image"), load_input(style, "style image")
    options = StyleOptions(size=size, palette_only=True)
    transfer = StyleTransfer(options)
    p = next(transfer.iter_stylize(content_rgb, [style_rgb]))
    path = save_result(p.image, options, transfer.model.identity)
    h, w = p.size
    return (path, gr.skip(), f"Palette only: the content with the style's colours, {w}×{h} px, in {p.elapsed:.2f} s. "
            "The PNG carries its settings.", path, (content, path))


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
        return gr.skip(), gr.skip(), "Stopped.", gr.skip(), gr.skip()
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
    values = dict(size=o.size, steps=o.steps, scales=o.scales, content_layer=o.content_layer,
                  style_layers=format_style_layers(o.style_layers), strength=style_strength(o),
                  tv_weight=o.tv_weight, init=o.init, optimizer=o.optimizer, learning_rate=o.learning_rate,
                  style_scale=o.style_scale, preserve_color=o.preserve_color, seed=o.seed,
                  style_weight=blend[0], style_2_weight=blend[1], style_3_weight=blend[2])
    values["match_style_colors"] = o.match_style_colors
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


# The setting controls, in the order restore_settings returns them (names of ``stylize``'s parameters).
SETTING_NAMES = ("size", "steps", "scales", "content_layer", "style_layers", "strength", "tv_weight", "init",
                 "optimizer", "learning_rate", "style_scale", "preserve_color", "seed",
                 "style_weight", "style_2_weight", "style_3_weight", "match_style_colors")


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


def build():
    """The tab's widgets and events (inside the current Blocks/Tab)."""
    def upload(label):
        return image_input(label=label, height=240)

    def weight_slider(label):
        return gr.Slider(0, 1, value=1.0, step=0.05, label=label)

    with gr.Row():
        with gr.Column(scale=1):
            with gr.Row():
                content = upload("Content image")
                style = upload("Style image")
            with gr.Accordion("Regions: a different style per painted area", open=False):
                gr.Markdown("Paint on the content with the brush (Gatys et al. 2017, spatial control): each colour "
                            "is a region that takes its own style below; unpainted parts (grey in the mask) take the style(s) above. "
                            "The style cost is then computed per region, each region's Gram matrix over its own "
                            "pixels.")
                with gr.Row():
                    regions = gr.ImageEditor(
                        label="Paint regions", type="numpy", height=300,
                        sources=(), transforms=(), layers=False, elem_id="regions-editor",
                        brush=gr.Brush(colors=["#ff0000", "#00ff00", "#0000ff"], color_mode="fixed",
                                       default_size=24))
                    regions_seen = gr.Image(label="Mask as the algorithm sees it",
                                            interactive=False, height=300, elem_id="regions-mask")
                with gr.Row():
                    red_style, green_style, blue_style = (upload(f"Style of the {c} region") for c in REGION_COLOURS)
                restored_regions = gr.State(None)  # the regions of a reproduced PNG, under any new paint
            with gr.Accordion("Blend more styles", open=False):
                with gr.Row():
                    style_2, style_3 = upload("Second style (optional)"), upload("Third style (optional)")
                with gr.Row():
                    style_weight, style_2_weight, style_3_weight = (
                        weight_slider("First style weight"), weight_slider("Second style weight"),
                        weight_slider("Third style weight"))
            preset = gr.Radio([*PRESETS, CUSTOM], value="Quick", label="Preset", elem_id="preset-radio",
                              info="Quick, 512 px: about 25 s of CPU time on one core with bf16 (docs/performance.md, "
                                   "The look); Balanced (512 px) and Best (768 px) take longer: the estimate shows when "
                                   "you press Stylize. Custom: your own size, steps and scales, set below.")
            with gr.Row():
                run = gr.Button("Stylize", variant="primary", elem_id="stylize-button")
                palette = gr.Button("Palette only", elem_id="palette-button")
                stop_button = gr.Button("Stop", variant="stop", elem_id="stop-button")
            with gr.Accordion("Advanced settings", open=False):
                with gr.Row():
                    size = gr.Slider(*SLIDER_RANGES["size"], value=QUICK.size, step=1, label="Size (long edge, px)",
                                     elem_id="size-input")
                    steps = gr.Slider(*SLIDER_RANGES["steps"], value=QUICK.steps, step=1,
                                      label="Steps at the final size", elem_id="steps-input")
                    scales = gr.Slider(*SLIDER_RANGES["scales"], value=QUICK.scales, step=1,
                                       label="Scales (coarse to fine)", elem_id="scales-input")
                with gr.Row():
                    content_layer = gr.Dropdown(list(FEATURE_LAYERS), value=QUICK.content_layer, label="Content layer")
                    style_layers = gr.Textbox(format_style_layers(QUICK.style_layers),
                                              label="Style layers and their λ (layer: weight, …)")
                with gr.Row():
                    strength = gr.Slider(*STRENGTH_RANGE, value=style_strength(QUICK), step=0.01,
                                         label="Style strength log₁₀(β/α)")
                    tv_weight = gr.Number(QUICK.tv_weight, minimum=0, label="TV weight (smoothness)")
                with gr.Row():
                    init = gr.Dropdown(list(INITS), value=QUICK.init, label="Start from",
                                       info="content+palette: the content in the style's colours")
                    optimizer = gr.Dropdown(list(OPTIMIZERS), value=QUICK.optimizer, label="Optimizer")
                    learning_rate = gr.Number(QUICK.learning_rate, minimum=0, label="Adam learning rate")
                with gr.Row():
                    style_scale = gr.Slider(*SLIDER_RANGES["style_scale"], value=QUICK.style_scale, step=0.05,
                                            label="Style scale (style size / output size)")
                    preserve_color = gr.Checkbox(QUICK.preserve_color, label="Preserve the content's colours")
                    match_style_colors = gr.Checkbox(QUICK.match_style_colors,
                                                     label="Give the style the content's colours first")
                    seed = gr.Number(QUICK.seed, precision=0, label="Seed")
                reproduce = gr.File(label="Reproduce: drop a PNG made here to restore its settings",
                                    file_types=[".png"], type="filepath", height=130)
        with gr.Column(scale=1):
            # a fixed box: small early previews are scaled up to fill it (CSS in app.py), so it never jumps
            result = gr.Image(label="Result", type="filepath", interactive=False, elem_id="result-image",
                              buttons=["download", "fullscreen"], height=RESULT_HEIGHT)
            status = gr.Textbox(label="Status", interactive=False, elem_id="status-line")
            plot = gr.Plot(label="Costs per step", show_label=False, elem_id="cost-plot")
            compare = gr.ImageSlider(label="Before / after: content ↔ result (drag the handle)", type="filepath",
                                     interactive=False, elem_id="before-after", height=RESULT_HEIGHT,
                                     max_height=RESULT_HEIGHT)
            with gr.Row():
                download = gr.DownloadButton("Download the PNG (with its settings)", elem_id="download-button")
                gr.DeepLinkButton("Share this result", visible=bool(os.environ.get("SPACE_ID")))  # Spaces only
    gr.Examples([[str(SKIMAGE_DATA / c), str(SKIMAGE_DATA / s)] for c, s in EXAMPLES], inputs=[content, style],
                label="Examples (scikit-image sample photos and textures)", cache_examples=False)

    controls = dict(size=size, steps=steps, scales=scales, content_layer=content_layer, style_layers=style_layers,
                    strength=strength, tv_weight=tv_weight, init=init, optimizer=optimizer,
                    learning_rate=learning_rate, style_scale=style_scale, preserve_color=preserve_color, seed=seed,
                    style_weight=style_weight, style_2_weight=style_2_weight, style_3_weight=style_3_weight,
                    match_style_colors=match_style_colors)
    outputs = [result, plot, status, download, compare]
    inputs = [content, style, style_2, style_3, style_weight, style_2_weight, style_3_weight, size, steps, scales,
              content_layer, style_layers, strength, tv_weight, init, optimizer, learning_rate, style_scale,
              preserve_color, seed, match_style_colors, regions, red_style, green_style, blue_style, restored_regions]
    run.click(estimate_run, inputs, status, queue=False, api_visibility="private", show_progress="hidden")
    asked = run.click(ask_to_stylize, queue=False, api_visibility="private")
    asked.then(
        stylize, inputs=inputs,
        outputs=outputs, api_name="stylize", show_progress="minimal",
        api_description="Stylize a content image with one to three style images (Gatys et al.); streams previews, "
                        "and ends with the stylized PNG, which carries its settings.", **CPU_HEAVY)
    stop_button.click(stop, outputs=outputs, api_name="stop", concurrency_limit=None, api_visibility="undocumented",
                      api_description="Stop this session's stylization; returns the best image so far.")
    preset.input(preset_values, preset, [size, steps, scales], api_visibility="private", queue=False)
    for control in (size, steps, scales):
        control.input(preset_of, [size, steps, scales], preset, api_visibility="private", queue=False)
    palette.click(palette_only, [content, style, size], outputs, api_name="palette_only", **CPU_HEAVY,
                  api_description="The content image with the style image's colours (mean and covariance "
                                  "matched, Pitié & Kokaram 2007), no texture: a PNG in under a second.")
    content.change(lambda c: ({"background": c, "layers": [], "composite": c}, None), content,
                   [regions, restored_regions], api_visibility="private", queue=False)
    regions.change(regions_view, [regions, restored_regions], regions_seen, api_visibility="private", queue=False)
    reproduce.upload(restore_regions, [reproduce, content], [regions, restored_regions], api_visibility="private",
                     queue=False).then(regions_view, [regions, restored_regions], regions_seen,
                                       api_visibility="private", queue=False)
    reproduce.upload(restore_settings, reproduce, [controls[name] for name in SETTING_NAMES] + [preset, status],
                     api_name="restore_settings", concurrency_limit=None, api_visibility="undocumented",
                     api_description="Read the settings stored in a PNG made by this app and return them.")
