"""The unit explorer tab (Zeiler & Fergus, 2013): for each unit of a VGG19 layer, the 9 dataset patches that excite
it most, with deconvnet / guided-backprop projections. Widgets only; the work is in ``explorer.units.service``."""
from __future__ import annotations

import dataclasses
import threading
from types import SimpleNamespace

import gradio as gr

from explorer.units import service
from explorer.units.deconv import METHODS
from explorer.units.probe import PER_PAGE
from nst_core.receptive_field import receptive_field
from explorer.units.scan import Stopped
from explorer.units.tiles import MODES, fit, pending_tile
from explorer.featurevis.vis_settings import VisSettings, png_info
from nst_core.checks import InputError, one_of, whole_number
from nst_core.metadata import write_png
from nst_core.vgg import CONV_LAYERS

from . import links
from .controls import arguments_doc, control
from .errors import bad_input, explained
from .gpu import on_gpu
from .images import SKIMAGE_DATA, image_input, load_input, result_path
from .jobs import CPU_HEAVY

BUILTIN = "Built-in: scikit-image sample photos (whole and 2× zoomed tiles)"
UPLOAD = "My images: one zip, or several image files"
HUB = "A Hugging Face dataset (streamed)"
VIS = VisSettings()  # feature visualisation defaults, shared with python -m explorer visualize
(COARSE, COARSE_STEPS), *_, (FINE, FINE_STEPS) = VIS.sizes()
FEATURE_VIS = f"""**Feature visualisation** (Olah et al., *Feature Visualization*, Distill 2017): instead of searching a
dataset, *synthesise* the image a unit responds to most. Starting from faint noise, gradient ascent on the image
maximises the unit's mean of max(0, conv) over space (or, with *neuron*, its value at the centre). Three things
keep it from becoming adversarial noise: the image is optimised as a 1/f-scaled Fourier spectrum, in colours
decorrelated like photos', and it is jittered, scaled and rotated a little at every step. At {FINE} px it is
shaped at {COARSE} px first ({COARSE_STEPS} steps), then {FINE_STEPS} steps at {FINE} px add the detail. Shown left
of each unit's patches. A page of 16 units at 128 px takes about 45 s at conv3_1 and 110 s at conv5_1 on 2 CPU
cores (measured by `benchmarks/bench_featurevis.py`)."""


TAB = links.tab_id(__name__)
# after a link's unit is shown: bring its sentence and its patches into view (they are below the page of units)
SCROLL_TO_UNIT = """() => {
    const said = document.querySelector('#unit-said');
    if (said && said.innerText.trim()) said.scrollIntoView({block: 'start'});
}"""
PROBE_EXAMPLES = ("chelsea.png", "astronaut.png", "coffee.png")
PROBE_INTRO = """**Probe a photo**: the question turned round (as in the DeepVis toolbox): not *what does a unit respond
to?* but *what does the network see in my picture?* Drop a photo (or take one with the webcam) and press *Probe*:
each small map is one unit of the layer chosen above, its activation a(y, x) = max(0, conv) at every position of the
layer's grid over your photo, bright where it is strong. Every map is scaled by its own peak (in its caption), and
the units are sorted by that peak. Click a map to see it laid over the photo with the box of pixels its peak sees
(its receptive field), the deconvnet projection of that peak (which pixels caused it), and what the unit fires on
elsewhere: its top-9 patches in the dataset chosen above, and its synthesised image."""


LEAD = ("**What does a unit respond to?** (Zeiler & Fergus, 2013) Each square below is one unit of the chosen VGG19 "
        "layer: the 9 views of the dataset where it fires most. Pick a layer, press *Show units*, click a unit to "
        "see its patches large.")


def theory() -> str:
    """The explorer's method in three paragraphs: units, receptive fields, projections."""
    r = {name: receptive_field(name).size for name in ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1",
                                                      "conv5_4")}
    return f"""
A **unit** is one channel c of a convolutional layer: the same 3×3 filter slid over the whole image, giving one
activation a_c(y, x) per position. To see what it looks for, every image of a dataset goes through VGG19 and,
for each unit, the **9 views where it fires most** are kept (its strongest position in each image). Each square
below is one unit; its 3×3 grid shows the part of those 9 images that the unit saw, strongest first.

That part is the unit's **receptive field**, R×R pixels: the unit at (y, x) sees input rows y·J − P … y·J − P + R − 1
(columns alike), J being the product of the strides so far and P the padding. R grows with depth:
conv1_1 R = {r['conv1_1']}, conv2_1 R = {r['conv2_1']}, conv3_1 R = {r['conv3_1']}, conv4_1 R = {r['conv4_1']},
conv5_1 R = {r['conv5_1']}, conv5_4 R = {r['conv5_4']} px — wider than the 224 px view, so where the box leaves the
image the patch shows a **grey checkerboard** (the unit saw zero padding there). Patches of every layer are drawn at
the same size, so a conv1_1 patch is 3 px blown up and a conv5 patch is shrunk. Shallow units respond to edges and
colours, deeper ones to textures and object parts.

**Projections** send that single activation back down the network (deconvnet: unpool with the max-pool switches,
rectify, transposed filters) to show which pixels of the patch caused it; guided backprop also keeps only paths
that were active on the way up. The first scan of a dataset takes a while (progress below) and is cached; later
visits are instant. Click a unit to see its 9 patches large, with image, position and activation.
"""


_stops: dict[str, threading.Event] = {}


def stop_event(request: gr.Request | None) -> threading.Event:
    """A fresh stop event for this browser session's next job (the Stop button sets it)."""
    event = threading.Event()
    _stops[getattr(request, "session_hash", None) or "anonymous"] = event
    return event


def stop(request: gr.Request):
    """Stop this session's scan, page or synthesis at its next step (it then says what it kept)."""
    event = _stops.get(getattr(request, "session_hash", None) or "anonymous")
    if event is None:
        gr.Info("Nothing to stop: no scan or synthesis has run here yet.")
        return
    event.set()
    gr.Info("Stop sent: a scan or synthesis running now ends at its next step; one that has finished keeps its "
            "result.")


def gallery(tiles: list, mode: str, synthesised: bool) -> dict:
    """The units gallery's new value, with as many columns as its tiles' width allows (each tile whole)."""
    wide = (mode == "both") + synthesised
    return gr.update(value=tiles, columns=(4, 2, 2)[wide])


def scanned(source, uploads, hub, layer, halt: threading.Event, progress):
    """The index of the chosen dataset holding ``layer``: scanned the first time (with progress), then cached."""
    dataset = service.dataset_choice(source == BUILTIN, uploads, hub if source == HUB else None)
    return service.index_for(dataset, layer, stop=halt, progress=lambda done, total: progress(
        (done, total), desc=f"Scanning {dataset.name} (first time only)", unit="files"))


@on_gpu
@explained("showing the units")
def show_page(source, uploads, layer, mode, method, page, request: gr.Request = None, progress=gr.Progress(),
              hub="", synthesise=False, vis_size=VIS.size, vis_seed=VIS.seed, vis_objective=VIS.objective):
    """Scan (first time only), then the page of units: gallery, summary, page, state, detail. With
    ``synthesise``, each unit's synthesised image is then optimised (progress; Stop ends it) and put beside its
    patches."""
    halt = stop_event(request)
    layer = one_of("Layer", layer, CONV_LAYERS)
    settings = VIS.replace(size=vis_size, seed=vis_seed, objective=vis_objective) if synthesise else None
    try:
        index = scanned(source, uploads, hub, layer, halt, progress)
        units, pages = service.page_units(index, layer, int(page or 1))
        page = min(max(1, int(page or 1)), pages)
        tiles = service.page_tiles(index, layer, units, mode, method, stop=halt, progress=lambda done, total: progress(
            (done, total), desc="Projecting activations to pixels", unit="units"))
    except Stopped as e:
        raise bad_input(f"Stopped: {e}") from None
    summary = service.layer_summary(index, layer) + f"\n\nPage {page} of {pages}. " + service.cache_note()
    state = {"index": index, "layer": layer, "units": units, "captions": [c for _, c in tiles], "synthesis": None}
    if settings is None:
        yield gallery(tiles, mode, False), summary, page, state, []
        return
    waiting = service.page_tiles(index, layer, units, mode, method, syntheses={u: pending_tile(64) for u in units})
    yield gallery(waiting, mode, True), summary, page, state, []  # the same tile sizes as the finished page
    images, stopped = service.SYNTHESES.images(layer, units, settings, stop=halt, progress=lambda step, total: progress(
        (step, total), desc=f"Synthesising {len(units)} units' images ({settings.size} px)", unit="steps"))
    caption = service.synthesis_caption(settings, stopped)
    tiles = service.page_tiles(index, layer, units, mode, method, syntheses=images)
    state = {**state, "synthesis": (images, caption)}
    yield gallery(tiles, mode, True), summary + f"\n\nEach tile's {caption}.", page, state, []


VIS_HELP = {f"vis_{f.name}": f.metadata["help"] for f in dataclasses.fields(VisSettings)}
show_page.__doc__ += arguments_doc(show_page, {
    **VIS_HELP,
    "source": f"where the images come from: '{BUILTIN}', '{UPLOAD}' or '{HUB}'",
    "uploads": "with 'My images': image files or one zip, as http(s) or data: URLs; an empty list otherwise",
    "layer": "a VGG19 conv layer, conv1_1 … conv5_4",
    "mode": "patches: each unit's 9 strongest dataset patches; projections: those patches projected back to pixels "
            "(the method below); both",
    "method": "the projection: deconvnet (Zeiler & Fergus) or guided (guided backpropagation)",
    "page": f"which {service.UNITS_PER_PAGE} units, by their peak activation: page 1 holds the strongest",
    "hub": "with the Hugging Face source: the dataset as OWNER/NAME[:split[:column]]",
    "synthesise": "also synthesise each unit's image (feature visualisation) beside its patches; slow on a CPU",
})


@on_gpu
@explained("showing the unit")
def show_unit(state, mode, method, evt: gr.SelectData):
    """The clicked unit's patches (and projections) large, with captions; its synthesised image first."""
    if not state:
        raise InputError("Show a page of units first.")
    i = evt.index if isinstance(evt.index, int) else -1
    caption = evt.value.get("caption") if isinstance(evt.value, dict) else None
    if not 0 <= i < len(state["units"]) or (caption is not None and caption != state["captions"][i]):
        raise InputError("That unit is not on the page shown any more; click a unit of the current page.")
    unit = state["units"][i]
    synthesis = None
    if state["synthesis"] is not None and unit in state["synthesis"][0]:
        images, caption = state["synthesis"]
        synthesis = (images[unit], caption.removeprefix("left: ").capitalize())
    return service.unit_detail(state["index"], state["layer"], unit, mode, method, synthesis)


def clicked_unit(state, evt: gr.SelectData):
    """The clicked unit's sentence, and the page's state remembering it (for *Copy link*)."""
    i = evt.index if isinstance(evt.index, int) else -1
    if not state or not 0 <= i < len(state["units"]):
        return gr.skip(), gr.skip()
    unit = state["units"][i]
    return service.unit_sentence(state["index"], state["layer"], unit), {**state, "selected": unit}


def linked_controls(values: dict) -> tuple:
    """The controls a link to the explorer sets (dataset, layer, show, method, units_page), and the view to show next:
    the link's values if it names a layer or a unit (None: nothing to scan)."""
    hub = values.get("dataset", links.BUILTIN)
    return (HUB if hub != links.BUILTIN else BUILTIN, hub if hub != links.BUILTIN else gr.skip(),
            values.get("layer", gr.skip()), values.get("show", gr.skip()), values.get("method", gr.skip()),
            values.get("units_page", gr.skip()), values if {"layer", "unit"} & set(values) else None)


@on_gpu
@explained("opening the link")
def show_linked(view, source, uploads, layer, mode, method, page, hub, request: gr.Request = None,
                progress=gr.Progress()):
    """The view a link asks for, as clicks would show it: the page of units (the unit's page unless the link
    gives one), then the unit large with its sentence. Nothing without a linked view."""
    if not view:
        return (gr.skip(),) * 6
    unit = view.get("unit")
    if unit is not None and "units_page" not in view:
        page = service.page_of(scanned(source, uploads, hub, layer, stop_event(request), progress), layer, unit)
    *_, (tiles, summary, page, state, detail) = show_page(source, uploads, layer, mode, method, page, request,
                                                          progress, hub)
    if unit is None:
        return tiles, summary, page, state, detail, ""
    detail = service.unit_detail(state["index"], layer, unit, mode, method)
    return (tiles, summary, page, {**state, "selected": unit}, detail,
            service.unit_sentence(state["index"], layer, unit))


def explorer_link(source, hub, layer, mode, method, page, state) -> dict:
    """The parameters of the view shown: the page of units (and the unit shown large), or only the tab."""
    if source == UPLOAD:
        gr.Info("Uploaded images cannot travel in a link: it opens the built-in photos.")
    shown = state is not None and state["layer"] == layer
    return {"dataset": hub.strip() if source == HUB and hub.strip() else None,
            "layer": layer if shown else None, "unit": (state or {}).get("selected") if shown else None,
            "units_page": int(page or 1) if shown else None, "show": mode if mode != MODES[0] else None,
            "method": method if method != METHODS[0] else None}


@on_gpu
@explained("synthesising the unit's image")
def visualize_unit(layer, unit, vis_size=VIS.size, vis_seed=VIS.seed, vis_objective=VIS.objective,
                   request: gr.Request = None, progress=gr.Progress()):
    """One unit's synthesised image (feature visualisation) and a caption saying what it is."""
    layer, unit = service.check_layer_unit(layer, unit)
    settings = VIS.replace(size=vis_size, seed=vis_seed, objective=vis_objective)
    images, stopped = service.SYNTHESES.images(layer, [unit], settings, stop=stop_event(request), progress=lambda
                                               step, total: progress((step, total), desc="Synthesising", unit="steps"))
    png = write_png(result_path(f"{layer}-unit{unit}"), images[unit],
                    png_info(layer, [unit], settings, service.model().identity))  # downloads carry the settings
    return str(png), f"**{layer} unit {unit}** — " + service.synthesis_caption(settings, stopped).removeprefix(
        "left: ")


visualize_unit.__doc__ += arguments_doc(visualize_unit, {
    **VIS_HELP, "layer": "a VGG19 conv layer, conv1_1 … conv5_4",
    "unit": "the unit (channel) number, from 0 to the layer's channel count minus 1 (63 for conv1_x, 511 for conv5_x)",
})


@on_gpu
@explained("probing the photo")
def probe_photo(photo, layer, page=1):
    """The photo's activation maps for every unit of ``layer``, a page at a time, strongest peak first."""
    layer = one_of("Layer", layer, CONV_LAYERS)
    page = whole_number("Maps page", 1 if page is None else page, 1, 10**6)
    result, tiles, page, summary = service.probe_photo_page(load_input(photo, "photo to probe"), layer, page)
    state = {"probe": result, "page": page, "captions": [c for _, c in tiles]}
    return tiles, summary, page, state, None, None, None, None, ""


@on_gpu
@explained("showing the unit on the photo")
def probe_unit(state, source, uploads, hub, method, vis_size, vis_seed, vis_objective, evt: gr.SelectData,
               request: gr.Request = None, progress=gr.Progress()):
    """The clicked map's unit: its map over the photo with the peak's box and the peak's projection first, then
    its dataset top-9 with a sentence placing the photo among them, then its synthesised image."""
    if not state:
        raise InputError("Probe a photo first.")
    i = evt.index if isinstance(evt.index, int) else -1
    caption = evt.value.get("caption") if isinstance(evt.value, dict) else None
    if not 0 <= i < len(state["captions"]) or (caption is not None and caption != state["captions"][i]):
        raise InputError("That map is not on the page shown any more; click a map of the current page.")
    result = state["probe"]
    unit = result.peaks[(state["page"] - 1) * PER_PAGE + i].unit
    halt = stop_event(request)
    overlay, projection = service.probe_unit_views(result, unit, one_of("Projection method", method, METHODS))
    said = (f"**{result.layer} unit {unit}**: peak {result.peak_of(unit).peak:.1f} on your photo; the cyan box on "
            "the map is what the peak sees.")
    yield overlay, projection, None, None, said + " Finding its top-9 in the dataset…"
    try:
        index = scanned(source, uploads, hub, result.layer, halt, progress)
        top, placed = service.probe_unit_top(result, unit, index)
        yield overlay, projection, top, None, f"{said} {placed} Synthesising its image…"
        settings = VIS.replace(size=vis_size, seed=vis_seed, objective=vis_objective)
        images, stopped = service.SYNTHESES.images(result.layer, [unit], settings, stop=halt, progress=lambda
                                                   step, total: progress((step, total), desc="Synthesising",
                                                                         unit="steps"))
    except Stopped as e:
        raise bad_input(f"Stopped: {e}") from None
    caption = service.synthesis_caption(settings, stopped).removeprefix("left: ")
    yield overlay, projection, top, fit(images[unit], service.DETAIL_PX), f"{said} {placed} Right: the {caption}."


def build() -> None:
    """The tab's widgets, inside the current ``gr.Tab``: the units of a layer first, the theory a click away, then
    feature visualisation, the probe and conv1_1's filters."""
    gr.Markdown(LEAD, elem_id="explorer-lead")
    with gr.Accordion("How it works: units, receptive fields, projections", open=False, elem_id="explorer-theory"):
        gr.Markdown(theory())
    u = units_controls()
    v = synthesis_controls(u.layer)
    probe_section(u, v)
    filters_section()
    wire_units(u, v)


def units_controls() -> SimpleNamespace:
    """The dataset, layer and page controls, and the units' gallery with the chosen unit's line and top patches."""
    with gr.Row():
        source = gr.Radio([BUILTIN, UPLOAD, HUB], value=BUILTIN, label="Dataset", scale=2)
        uploads = gr.File(file_count="multiple", file_types=[".zip", "image"], type="filepath",
                          label="Zip or image files (unreadable files are skipped and listed)", visible=False)
        hub = gr.Textbox("", label="Hugging Face dataset: OWNER/NAME, optionally :SPLIT and :COLUMN (needs internet)",
                         placeholder="e.g. OWNER/NAME:validation", visible=False)
    with gr.Row():
        layer = gr.Dropdown(list(CONV_LAYERS), value="conv1_1", label="Layer")
        mode = gr.Radio(list(MODES), value="patches", label="Show")
        method = gr.Radio(list(METHODS), value="deconvnet", label="Projection method")
    with gr.Row():
        show = gr.Button("Show units", variant="primary")
        prev = gr.Button("◀ Previous page")
        page = gr.Number(value=1, precision=0, minimum=1, label="Page")
        nxt = gr.Button("Next page ▶")
        halt = gr.Button("Stop", variant="stop")
    state = gr.State(None)
    links.copy_link(TAB).wire(explorer_link, [source, hub, layer, mode, method, page, state])
    summary = gr.Markdown()
    units = gr.Gallery(label="Units, highest peak activation first (click one)", columns=4, format="png",
                       allow_preview=False, height="auto", object_fit="contain", elem_id="units-gallery")
    unit_line = gr.Markdown(elem_id="unit-said")
    detail = gr.Gallery(label="The unit's top patches", columns=3, format="png", height="auto",
                        object_fit="contain", elem_id="unit-detail")
    source.change(lambda s: (gr.update(visible=s == UPLOAD), gr.update(visible=s == HUB)), source, [uploads, hub],
                  api_visibility="private")
    halt.click(stop, None, None, api_visibility="private")
    return SimpleNamespace(source=source, uploads=uploads, hub=hub, layer=layer, mode=mode, method=method, show=show,
                           prev=prev, page=page, nxt=nxt, state=state, summary=summary, units=units,
                           unit_line=unit_line, detail=detail)


def synthesis_controls(layer) -> SimpleNamespace:
    """Feature visualisation's settings (``VisSettings``' controls) and the one-unit synthesis."""
    with gr.Accordion("Feature visualisation: the image each unit wants to see", open=True):
        gr.Markdown(FEATURE_VIS)
        with gr.Row():
            synthesise = gr.Checkbox(False, label="Synthesise each unit's image beside its patches")
            size = control(VisSettings, "size", step=16, label="Synthesis size (px)", info=None, elem_id="vis-size")
            seed = control(VisSettings, "seed", label="Synthesis seed", info=None)
            objective = control(VisSettings, "objective", label="Maximise",
                                info="channel: the unit's mean over the whole image; neuron: the unit at the "
                                     "centre only (its receptive field)")
        with gr.Row():
            unit = gr.Number(0, precision=0, minimum=0, label="One unit of the layer above")
            button = gr.Button("Synthesise this unit")
        with gr.Row():
            image = gr.Image(label="Synthesised image", format="png", interactive=False, height=256,
                             elem_id="unit-synthesis")
            caption = gr.Markdown()
    button.click(visualize_unit, [layer, unit, size, seed, objective], [image, caption],
                 api_name="feature_visualization", **CPU_HEAVY,
                 api_description="Feature visualisation: the image that maximises one VGG19 conv unit's mean "
                                 "rectified activation (Fourier parameterisation, colour decorrelation, "
                                 "jitter/scale/rotation), with a caption; cached per layer, unit, size, seed. "
                                 "It shows what a unit wants to see; top_patches shows what it found in photos.")
    return SimpleNamespace(synthesise=synthesise, size=size, seed=seed, objective=objective)


def probe_section(u: SimpleNamespace, v: SimpleNamespace) -> None:
    """Probe a photo: the units of the layer that fire on it, and one unit's map, projection, top-9 and image."""
    with gr.Accordion("Probe a photo: what does the network see in my picture?", open=True):
        gr.Markdown(PROBE_INTRO)
        with gr.Row():
            photo = image_input(str(SKIMAGE_DATA / PROBE_EXAMPLES[0]), label="Photo to probe", height=240,
                                sources=["upload", "webcam", "clipboard"], elem_id="probe-photo")
            with gr.Column(scale=2):
                gr.Examples([[str(SKIMAGE_DATA / name)] for name in PROBE_EXAMPLES], inputs=[photo],
                            label="Example photos (scikit-image)", cache_examples=False)
                with gr.Row():
                    probe_button = gr.Button("Probe", variant="primary", min_width=80)
                    probe_prev = gr.Button("◀ Previous maps", min_width=80)
                    probe_page = gr.Number(value=1, precision=0, minimum=1, label="Maps page", min_width=80)
                    probe_next = gr.Button("Next maps ▶", min_width=80)
                    cancel = gr.Button("Cancel", variant="stop", min_width=80)
                probe_summary = gr.Markdown()
        maps = gr.Gallery(label="Units' activation maps on the photo, highest peak first: unit · peak (click one)",
                          columns=8, format="png", allow_preview=False, height="auto", object_fit="contain",
                          elem_id="probe-maps")
        unit_said = gr.Markdown(elem_id="probe-unit-said")
        with gr.Row():
            on_photo = gr.Image(label="Its map on the photo", format="png",
                                interactive=False, height=260, elem_id="probe-on-photo")
            projection = gr.Image(label="Projection of the peak to pixels", format="png", interactive=False,
                                  height=260, elem_id="probe-projection")
            dataset_top = gr.Image(label="Its top-9 patches in the dataset", format="png", interactive=False,
                                   height=260, elem_id="probe-top9")
            synthesised = gr.Image(label="Its synthesised image", format="png", interactive=False, height=260,
                                   elem_id="probe-synthesis")
    probe_state = gr.State(None)
    probe_outputs = [maps, probe_summary, probe_page, probe_state, on_photo, projection, dataset_top, synthesised,
                     unit_said]
    probe_button.click(lambda: 1, None, probe_page, api_visibility="private").then(
        probe_photo, [photo, u.layer, probe_page], probe_outputs, api_visibility="private", **CPU_HEAVY)
    probe_prev.click(lambda p: max(1, int(p or 1) - 1), probe_page, probe_page, api_visibility="private").then(
        probe_photo, [photo, u.layer, probe_page], probe_outputs, api_visibility="private", **CPU_HEAVY)
    probe_next.click(lambda p: int(p or 1) + 1, probe_page, probe_page, api_visibility="private").then(
        probe_photo, [photo, u.layer, probe_page], probe_outputs, api_visibility="private", **CPU_HEAVY)
    photo.upload(lambda: 1, None, probe_page, api_visibility="private").then(
        probe_photo, [photo, u.layer, probe_page], probe_outputs, api_visibility="private", **CPU_HEAVY)
    cancel.click(stop, None, None, api_visibility="private")
    maps.select(probe_unit, [probe_state, u.source, u.uploads, u.hub, u.method, v.size, v.seed, v.objective],
                [on_photo, projection, dataset_top, synthesised, unit_said], api_visibility="private", **CPU_HEAVY)


def filters_section() -> None:
    with gr.Accordion("conv1_1's 64 filters as colour images", open=False):
        gr.Markdown("conv1_1 is the only layer whose filters live in pixel space: each 3×3×3 filter is drawn with "
                    "mid grey for a zero weight; a bright red pixel is a large positive weight on red.")
        filters_button = gr.Button("Show the filters")
        filters = gr.Image(label="conv1_1 filters", format="png", interactive=False)
    filters_button.click(service.filters_image, None, filters, api_visibility="private")


def wire_units(u: SimpleNamespace, v: SimpleNamespace) -> None:
    """The units' page follows its controls (and a link); a click on a unit shows it large."""
    inputs = [u.source, u.uploads, u.layer, u.mode, u.method, u.page, u.hub, v.synthesise, v.size, v.seed,
              v.objective]
    outputs = [u.units, u.summary, u.page, u.state, u.detail]
    u.show.click(show_page, inputs, outputs, api_name="explorer_page", **CPU_HEAVY,
                 api_description="One page of 16 units of a VGG19 conv layer (Zeiler & Fergus) on the built-in "
                                 "photos, uploaded images or a Hugging Face dataset: each unit's top dataset patches "
                                 "(and projections; with synthesise, each unit's synthesised image beside them), a "
                                 "summary of the layer, the page number. For one unit of the built-in photos, "
                                 "top_patches is quicker.")
    u.layer.input(lambda: 1, None, u.page, api_visibility="private").then(
        show_page, inputs, outputs, api_visibility="private", **CPU_HEAVY)
    for changed in (u.mode, u.method, v.synthesise):
        changed.input(show_page, inputs, outputs, api_visibility="private", **CPU_HEAVY)
    u.prev.click(lambda p: max(1, int(p or 1) - 1), u.page, u.page, api_visibility="private").then(
        show_page, inputs, outputs, api_visibility="private", **CPU_HEAVY)
    u.nxt.click(lambda p: int(p or 1) + 1, u.page, u.page, api_visibility="private").then(
        show_page, inputs, outputs, api_visibility="private", **CPU_HEAVY)
    u.units.select(show_unit, [u.state, u.mode, u.method], u.detail, api_visibility="private", **CPU_HEAVY)
    u.units.select(clicked_unit, u.state, [u.unit_line, u.state], api_visibility="private", queue=False)
    gr.on([u.show.click, u.prev.click, u.nxt.click, u.layer.input, u.mode.input, u.method.input, v.synthesise.input],
          lambda: "", None, u.unit_line, api_visibility="private", queue=False)  # a new page: no unit shown large
    view = gr.State(None)  # what a link asks the explorer to show
    links.on_load(TAB, linked_controls, [u.source, u.hub, u.layer, u.mode, u.method, u.page, view]).then(
        show_linked, [view, u.source, u.uploads, u.layer, u.mode, u.method, u.page, u.hub],
        [u.units, u.summary, u.page, u.state, u.detail, u.unit_line], api_visibility="private", **CPU_HEAVY).then(
        None, js=SCROLL_TO_UNIT, api_visibility="private", queue=False)
