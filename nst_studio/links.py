"""Links to the app's views: the query parameters each tab reads when the page loads, and its *Copy link* button.

    ?tab=explorer&layer=conv3_1&unit=5&units_page=2&show=both&method=guided&dataset=OWNER/NAME
    ?tab=stylize&content=chelsea&style=hubble_deep_field&preset=Balanced&strength=4
    ?tab=layer_lab&content=astronaut&style=gravel&size=96&steps=20&sublayer=2&seed=3
    ?tab=conv&sizes=32x32&channels=3&filters=8&kernel=3&stride=2&padding=1
    ?tab=conv&part=stacks&stack_sizes=64x64&layers=conv,16,3,1,1;max pool,,2
    ?tab=conv&part=see_2d&filter=blur (average)&F=7&cell=20,30

A link is a way in, so it is checked here: each parameter by its tab's parser (``PARAMETERS``), with the same checks
as the tab's controls. A bad or unknown parameter is left out and said in one sentence on the page; the rest of the
link still applies. Gradio reads ``page`` and ``deep_link`` itself, so no tab's parameter has those names.
docs/app.md lists the parameters.
"""
from __future__ import annotations

import html
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.context import Context

from explorer.convs.figures import SEE_SIZE, SEE_SIZES
from explorer.convs.kernels import filter_names
from explorer.convs.samples import SAMPLES as CONV_SAMPLES, load_sample
from explorer.convs.shapes import DIM_NAMES, LARGEST, ConvSpec
from explorer.convs.stacks import MAX_LAYERS, STACK_COLUMNS, STACK_EXAMPLE, STACK_INPUT
from explorer.units import service
from explorer.units.deconv import METHODS
from explorer.units.tiles import MODES
from nst_core.atomic import replacing
from nst_core.checks import InputError, one_of, real_number, shown, whole_number
from nst_core.options import PRESETS, preset_options
from nst_core.schema import spec
from nst_core.vgg import CONV_LAYERS

from .images import SKIMAGE_DATA
from .lab_settings import LabSettings
from .video_settings import TEMPORAL_WEIGHTS, VideoSettings
from .stylize_settings import SLIDER_RANGES, build_options, control_values

SAMPLES = sorted(p.stem for p in SKIMAGE_DATA.iterdir() if p.suffix in (".png", ".jpg"))  # scikit-image's pictures
SAMPLE_COPIES = Path(tempfile.gettempdir()) / "nst-studio-samples"
BUILTIN = "builtin"  # the explorer's dataset of scikit-image photos
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
GRADIOS = ("view",)  # parameters of Gradio and Hugging Face Spaces: these and __* (?view=api, ?__theme=dark, ?__sign=…)
STYLIZE_DEFAULTS = control_values(preset_options("Quick"))  # the Stylize tab's settings as the page opens
WEIGHTS = ("style_weight", "style_2_weight", "style_3_weight")  # sliders from 0 to 1
STAGES = ("size", "steps", "scales")  # a preset's settings
CONV_PARTS = ("layer", "stacks", "see_1d", "see_2d", "see_3d")  # the Convolutions tab's sub-tabs, as part=
STACK_FORM = ("stack_sizes", "stack_channels", "layers")  # the Stacks sub-tab's linked controls, in order
SEE_FORM = ("input", "filter", "F", "cell")  # a 'See it work' sub-tab's


def tab_id(module: str) -> str:
    """A tab's id in links (``?tab=``): its module's name less ``_tab`` ("nst_studio.conv_tab" -> "conv")."""
    return module.rsplit(".", 1)[-1].removesuffix("_tab")


def sample(name: str, text: str) -> str:
    """A scikit-image sample picture, by name (``chelsea`` or ``chelsea.png``): the path of its copy in the temporary
    folder (Gradio serves a handler's files only from there or the working folder; the bytes stay the same)."""
    stem = one_of(name, text.rsplit(".", 1)[0] if text.endswith((".png", ".jpg")) else text, SAMPLES,
                  "a scikit-image sample picture such as chelsea, astronaut, coffee or hubble_deep_field")
    original = next(SKIMAGE_DATA.glob(f"{stem}.*"))
    copy = SAMPLE_COPIES / original.name
    if not copy.exists():
        SAMPLE_COPIES.mkdir(parents=True, exist_ok=True)
        with replacing(copy) as f:
            f.write(original.read_bytes())
    return str(copy)


def boolean(name: str, text: str) -> bool:
    if text.lower() in TRUE + FALSE:
        return text.lower() in TRUE
    raise InputError(f"{name} must be true or false; got {shown(text)}.")


def dataset(name: str, text: str) -> str:
    """``builtin`` or a Hugging Face dataset name, OWNER/NAME[:SPLIT[:COLUMN]] (read when the scan starts)."""
    text = text.removeprefix("hf:")
    if text != BUILTIN and not service.HUB_NAME.fullmatch(text):
        raise InputError(f"{name} must be builtin or a Hugging Face dataset OWNER/NAME[:SPLIT[:COLUMN]]; "
                         f"got {shown(text)}.")
    return text


def stylize_setting(name: str, text: str):
    """One of the Stylize tab's settings, of its control's type, checked as a stylization checks it (on top of the
    defaults) and within its slider."""
    default = STYLIZE_DEFAULTS[name]
    if isinstance(default, bool):
        value = boolean(name, text)
    elif isinstance(default, int):
        value = whole_number(name, text)
    elif isinstance(default, float):
        value = real_number(name, text, *((0, 1) if name in WEIGHTS else ()))
    else:
        value = text
    if name in SLIDER_RANGES:
        real_number(name, value, *SLIDER_RANGES[name])
    if name not in STAGES:  # the stages are checked together, in ``stylize_stages``
        stylize_options({**STYLIZE_DEFAULTS, name: value})
    return value


def stylize_stages(values: dict) -> list[str]:
    """Size, steps and scales checked together (the coarsest stage must not be too small); if they fail, they are
    left out and the preset's (or the defaults) apply."""
    try:
        stylize_options(stylize_settings(values))
    except InputError as e:
        for name in STAGES:
            values.pop(name, None)
        return [f"This link's {str(e).rstrip('.')} (size, steps and scales left out)."]
    return []


def explorer_unit(values: dict) -> list[str]:
    """The unit checked against its layer's channels."""
    if "unit" in values:
        try:
            service.check_layer_unit(values.get("layer", CONV_LAYERS[0]), values["unit"])
        except InputError as e:
            del values["unit"]
            return [f"This link's {left_out(e)}"]
    return []


def stylize_options(values: Mapping[str, Any]):
    """``StyleOptions`` of the Stylize tab's settings ``values`` (``InputError`` naming the first bad one)."""
    settings = {k: v for k, v in values.items() if k not in WEIGHTS}
    settings["style_strength"] = settings.pop("strength")
    return build_options(**settings, blend=[values[w] for w in WEIGHTS]).validate()


def video_setting(name: str, text: str):
    """One of the Video tab's settings, checked as the tab checks it (the temporal weight: one the tab offers)."""
    value = getattr(VideoSettings(**{name: text}).validate(), name)
    if name == "temporal_weight" and value not in TEMPORAL_WEIGHTS:
        raise InputError(f"temporal_weight must be one of {', '.join(f'{w:g}' for w in TEMPORAL_WEIGHTS)}; "
                         f"got {shown(text)}.")
    return value


def lab_setting(name: str, text: str) -> int:
    return whole_number(name, text, *spec(LabSettings, name).range)


def conv_field(name: str, text: str):
    """A field of the Convolutions tab's one-layer form: counts as whole numbers, the checkbox as true/false, the
    rest as text (the whole layer is checked when it is shown)."""
    if name in ("channels", "filters", "groups", "stack_channels"):
        return whole_number(name, text, 1, LARGEST)
    if name == "transposed":
        return boolean(name, text)
    if len(text) > 100:
        raise InputError(f"{name} must be at most 100 characters; got {shown(text)}.")
    return text


def rows_text(rows) -> str:
    """A stack's table as a link's ``layers``: rows separated by ';', cells by ',' (blank rows and trailing blank
    cells left out), e.g. 'conv,16,3,1,1,1;max pool,,2'."""
    cells = ([("" if cell is None else str(cell)).strip() for cell in row] for row in rows or [])
    return ";".join(",".join(row).rstrip(",") for row in cells if any(row))


STACK_DEFAULTS = dict(zip(STACK_FORM, (*STACK_INPUT, rows_text(STACK_EXAMPLE))))


def stack_rows(name: str, text: str) -> list[list[str]]:
    """A link's ``layers`` back to the table's rows (``rows_text``); each layer is checked when the stack is shown."""
    rows = [[cell.strip() for cell in row.split(",")] for row in text.split(";") if row.strip()]
    if not rows or len(rows) > MAX_LAYERS or any(len(row) > len(STACK_COLUMNS) for row in rows):
        raise InputError(f"{name} must be 1 to {MAX_LAYERS} layers separated by ';', each as "
                         f"{','.join(STACK_COLUMNS)} (e.g. 'conv,16,3,1,1;max pool,,2'); got {shown(text)}.")
    return [row + [""] * (len(STACK_COLUMNS) - len(row)) for row in rows]


def cell_indices(name: str, text: str) -> tuple[int, ...]:
    """A link's ``cell``: the output cell's indices separated by ',' (one per dimension), e.g. '20,30'."""
    parts = text.split(",")
    if len(parts) > 3:
        raise InputError(f"{name} must be 1 to 3 whole numbers separated by ',', one per dimension; got "
                         f"{shown(text)}.")
    return tuple(whole_number(name, part.strip(), 0) for part in parts)


def see_dims(part: str) -> int | None:
    """The number of dimensions of a 'See it work' part (see_2d -> 2); None for the other parts."""
    return int(part[4]) if part.startswith("see_") else None


def see_defaults(nd: int) -> dict:
    """A 'See it work' view as it opens: its first input, the last filter, its F, the output cell in the middle."""
    first = next(iter(CONV_SAMPLES[nd]))
    return {"input": first, "filter": filter_names(nd)[-1], "F": SEE_SIZE[nd],
            "cell": tuple(n // 2 for n in load_sample(first).shape)}


def conv_part(values: dict) -> list[str]:
    """The 'See it work' parameters checked against the link's part (see_1d, see_2d, see_3d): its inputs and
    filters, F up to the input's smallest side, one index per dimension from 0 to N − F. A failing one is left out
    (the view's own value applies); without a see part, all of them are."""
    nd = see_dims(values.get("part", CONV_PARTS[0]))
    given = [name for name in SEE_FORM if name in values]
    if nd is None:
        for name in given:
            del values[name]
        return [f"This link's {', '.join(given)} {'is' if len(given) == 1 else 'are'} read only with part=see_1d, "
                "see_2d or see_3d (left out)."] * bool(given)
    problems = []

    def check(name: str, test: Callable[[Any], Any]) -> None:
        if name in values:
            try:
                test(values[name])
            except InputError as e:
                del values[name]
                problems.append(f"This link's {left_out(e)}")

    check("input", lambda v: one_of("input", v, list(CONV_SAMPLES[nd])))
    check("filter", lambda v: one_of("filter", v, filter_names(nd)))
    shape = load_sample(values.get("input", see_defaults(nd)["input"])).shape
    check("F", lambda v: whole_number("F", v, SEE_SIZES[0], min(SEE_SIZES[1], *shape)))
    F = values.get("F", SEE_SIZE[nd])
    check("cell", lambda cell: cell_within(cell, shape, F))
    return problems


def cell_within(cell: tuple[int, ...], shape: tuple[int, ...], F: int) -> None:
    """An output cell of an input of ``shape`` through a filter of size F: one index per dimension, 0 … N − F."""
    nd = len(shape)
    if len(cell) != nd:
        raise InputError(f"cell must have {nd} {'index' if nd == 1 else 'indices'} for this {nd}D input, one per "
                         f"dimension; got {len(cell)}.")
    for name, index, n in zip(DIM_NAMES[nd], cell, shape):
        whole_number(f"cell's {name} index", index, 0, n - F)


def pick(choices) -> Callable[[str, str], str]:
    return lambda name, text: one_of(name, text, choices)


# Each tab's parameters: name -> parser(name, text), which returns the value or raises InputError (one sentence).
PARAMETERS: dict[str, dict[str, Callable[[str, str], Any]]] = {
    "stylize": {"content": sample, "style": sample, "preset": pick(PRESETS),
                **{name: stylize_setting for name in STYLIZE_DEFAULTS}},
    "video": {"style": sample, **{f.name: video_setting for f in fields(VideoSettings)}},
    "layer_lab": {"content": sample, "style": sample, **{f.name: lab_setting for f in fields(LabSettings)}},
    "conv": {"part": pick(CONV_PARTS), **{f.name: conv_field for f in fields(ConvSpec)},
             "stack_sizes": conv_field, "stack_channels": conv_field, "layers": stack_rows,
             "input": pick([name for names in CONV_SAMPLES.values() for name in names]),
             "filter": pick(sorted({name for nd in CONV_SAMPLES for name in filter_names(nd)})),
             "F": lambda name, text: whole_number(name, text, *SEE_SIZES), "cell": cell_indices},
    "explorer": {"layer": pick(CONV_LAYERS), "unit": lambda name, text: whole_number(name, text, 0),
                 "units_page": lambda name, text: whole_number(name, text, 1), "show": pick(MODES),
                 "method": pick(METHODS), "dataset": dataset},
}

# Checks of parameters that depend on each other: (values) -> sentences, the failing ones taken out of ``values``.
TOGETHER = {"stylize": stylize_stages, "explorer": explorer_unit, "conv": conv_part}


@dataclass(frozen=True)
class Link:
    """What a page's address asks for: a tab (its id; None for none), its parameters that passed their checks,
    and one sentence per parameter left out."""

    tab: str | None
    values: dict
    problems: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return " ".join(self.problems)



def parse(params: Mapping[str, str], tabs: tuple[str, ...] = tuple(PARAMETERS)) -> Link:
    """The link ``params`` (a page's query parameters) asks for, among the tabs ``tabs``."""
    params = {k: v for k, v in params.items() if not k.startswith("__") and k not in GRADIOS}
    if not params:
        return Link(None, {})
    if "tab" not in params:
        return Link(None, {}, (f"This link names no tab: add tab={', '.join(tabs)} (its parameters were left out).",))
    try:
        tab = one_of("tab", params.pop("tab"), tabs)
    except InputError as e:
        return Link(None, {}, (f"This link opens no tab: {left_out(e)}",))
    parsers, values, problems = PARAMETERS.get(tab, {}), {}, []
    for name, text in params.items():
        if name not in parsers:
            listed = ", ".join(parsers) or "no other parameter"
            problems.append(f"This link's {shown(name)} is not a parameter of this tab, which reads {listed} (left "
                            "out).")
            continue
        try:
            values[name] = parsers[name](name, text.strip())
        except InputError as e:
            problems.append(f"This link's {left_out(e)}")
    problems += TOGETHER.get(tab, lambda _: [])(values)
    return Link(tab, values, tuple(problems))


def left_out(error: InputError) -> str:
    """The check's sentence, ending "(left out)."."""
    return f"{str(error).rstrip('.')} (left out)."


def query(tab: str, values: Mapping[str, Any]) -> str:
    """The query string of a view: ``?tab=…&name=value…`` (None values left out)."""
    def text(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"{value:.10g}" if isinstance(value, float) else str(value)
    return "?" + urllib.parse.urlencode({"tab": tab, **{k: text(v) for k, v in values.items() if v is not None}})


def changed(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict:
    """``values`` that differ from ``defaults`` (a link carries only what differs from the page as it opens)."""
    return {k: v for k, v in values.items() if v != defaults.get(k)}


def sample_name(path: str | None) -> str | None:
    """The scikit-image sample picture whose bytes ``path`` holds (an example clicked), else None (an upload)."""
    if not path:
        return None
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    if stem not in SAMPLES:
        return None
    try:
        with open(path, "rb") as given, open(next(SKIMAGE_DATA.glob(f"{stem}.*")), "rb") as original:
            return stem if given.read() == original.read() else None
    except OSError:
        return None


def pictures(content: str | None, style: str | None) -> dict:
    """The link's ``content`` and ``style``: the sample pictures' names; an upload cannot travel in a link (said)."""
    named = {"content": sample_name(content), "style": sample_name(style)}
    if any(path and named[name] is None for name, path in (("content", content), ("style", style))):
        gr.Info("Your own pictures cannot travel in a link (only scikit-image's samples can): it carries the rest.")
    return named


def stylize_settings(values: Mapping[str, Any]) -> dict:
    """The Stylize tab's settings a link asks for: the defaults, then the preset's, then each one given."""
    preset = PRESETS.get(values.get("preset"), {})
    return {name: values.get(name, preset.get(name, default)) for name, default in STYLIZE_DEFAULTS.items()}


def stylize_link(content: str | None, style: str | None, preset: str, settings: Mapping[str, Any]) -> dict:
    """A Stylize view's parameters: the pictures (if they are samples), the preset, the settings that differ."""
    base = control_values(preset_options(preset)) if preset in PRESETS else STYLIZE_DEFAULTS
    return {**pictures(content, style), "preset": preset if preset in PRESETS and preset != "Quick" else None,
            **changed(settings, base)}


def lab_link(content: str | None, style: str | None, *settings) -> dict:
    """A Layer-depth lab view's parameters: the pictures (if they are samples) and the settings that differ."""
    names = [f.name for f in fields(LabSettings)]
    return {**pictures(content, style), **changed(dict(zip(names, settings)), asdict(LabSettings()))}


VIDEO_FORM = ("style", *(f.name for f in fields(VideoSettings)))  # the Video tab's linked controls, in order


def video_link(clip: str | None, style: str | None, *settings) -> dict:
    """A Video view's parameters: the style picture (if a sample; a clip cannot travel) and the settings that
    differ."""
    named = sample_name(style)
    left_out = ["the clip"] * bool(clip) + ["your own style picture"] * bool(style and named is None)
    if left_out:
        again = "; give the clip again where you open it" if clip else ""
        gr.Info(f"The link cannot carry {' or '.join(left_out)} (only scikit-image's sample pictures travel): it "
                f"carries the rest{again}.")
    names = [f.name for f in fields(VideoSettings)]
    return {"style": named, **changed(dict(zip(names, settings)), asdict(VideoSettings()))}


def conv_link(*form) -> dict:
    """A Convolutions view's parameters: the one-layer form's fields that differ from its defaults."""
    return changed(dict(zip([f.name for f in fields(ConvSpec)], form)), asdict(ConvSpec()))


def stack_link(*form) -> dict:
    """A Stacks view's parameters: the part, and the input and layers where they differ from the example's."""
    values = dict(zip(STACK_FORM, form))
    return {"part": "stacks", **changed({**values, "layers": rows_text(values["layers"])}, STACK_DEFAULTS)}


def see_link(nd: int, sample, filter_name, size, *position) -> dict:
    """A 'See it work' view's parameters: the part, and the input, filter, F and output cell that differ from the
    view as it opens."""
    values = {"input": sample, "filter": filter_name, "F": int(size), "cell": tuple(int(p) for p in position)}
    view = changed(values, see_defaults(nd))
    return {"part": f"see_{nd}d", **view, **({"cell": ",".join(map(str, view["cell"]))} if "cell" in view else {})}


def conv_spec(values: Mapping[str, Any]) -> ConvSpec:
    """The one-layer form a link fills: the defaults, then each of its fields given."""
    form = asdict(ConvSpec())
    return ConvSpec(**{**form, **{name: value for name, value in values.items() if name in form}})


# The page ------------------------------------------------------------------------------------------------------

COPY_JS = """(query) => {
    if (!query) return query;
    const url = new URL(query, window.location.href).href;
    const fallback = () => {
        const area = document.createElement('textarea');
        area.value = url;
        document.body.appendChild(area);
        area.select();
        try { document.execCommand('copy'); } catch (e) {}
        area.remove();
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).catch(fallback);
    else fallback();
    return url;
}"""


@dataclass(frozen=True)
class CopyLink:
    """A *Copy link* button and the box that shows the link it made."""

    tab: str
    button: gr.Button
    box: gr.Textbox

    def wire(self, view: Callable[..., dict], inputs: list) -> None:
        """On a click, ``view(*inputs' values)`` gives the view's parameters; the page's address with them goes
        to the clipboard and into the box."""
        # queued, so that a note the view gives (gr.Info: what the link cannot carry) reaches the page
        copied = self.button.click(lambda *values: query(self.tab, view(*values)), inputs, self.box,
                                   api_visibility="private", show_progress="hidden")
        copied.then(None, self.box, self.box, js=COPY_JS, queue=False, api_visibility="private")


def copy_link(tab: str, part: str = "") -> CopyLink:
    """The row of a *Copy link* button and its box, where the tab (or its sub-tab ``part``) wants it (``wire`` it
    once its inputs exist)."""
    name = "-".join(filter(None, (tab, part.replace("_", "-"))))
    with gr.Row(elem_classes="copy-link"):
        button = gr.Button("Copy link", size="sm", scale=0, min_width=110, elem_id=f"{name}-copy-link")
        box = gr.Textbox(show_label=False, container=False, interactive=False, scale=5, elem_id=f"{name}-link",
                         placeholder="Copy link puts the address of this view here and on the clipboard")
    return CopyLink(tab, button, box)


def on_load(tab: str, restore: Callable[[dict], Any], outputs: list, **listener):
    """When the page opens with a link to ``tab``: ``restore(values)`` fills ``outputs`` (else nothing changes).
    Returns the event, for a ``.then`` that needs the filled controls."""
    def loaded(request: gr.Request):
        link = parse(request.query_params)
        if link.tab != tab:
            return [gr.skip()] * len(outputs) if len(outputs) != 1 else gr.skip()
        return restore(link.values)
    return Context.root_block.load(loaded, None, outputs, api_visibility="private", **{"queue": False, **listener})


def open_on_load(tabs: gr.Tabs, status: gr.HTML, tab_ids: tuple[str, ...]) -> None:
    """When the page opens with a link: select its tab and say in ``status`` what was left out of it (as plain
    text: a link's own text makes no link or markup)."""
    def opened(request: gr.Request):
        link = parse(request.query_params, tab_ids)
        return (gr.Tabs(selected=link.tab) if link.tab else gr.skip(),
                gr.update(value=f"<p>{html.escape(link.status)}</p>", visible=bool(link.problems)))
    Context.root_block.load(opened, None, [tabs, status], queue=False, api_visibility="private")
