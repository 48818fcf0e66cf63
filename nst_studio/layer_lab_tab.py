"""The Layer-depth lab: what one VGG19 layer keeps of an image (Gatys et al. 2015, Fig. 1).

Content reconstructions start from noise and minimise J_content at one layer per block, plus a small
total-variation image prior (Mahendran & Vedaldi 2015); style reconstructions minimise only J_style over growing
layer sets. Both rows fill in panel by panel; each caption gives the layer(s) and the PSNR against the target.
"""
from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass

import gradio as gr
import numpy as np
import torch

from nst_core.receptive_field import receptive_field
from nst_core import StyleOptions, StyleTransfer
from nst_core.images import resize_long_edge
from nst_core.vgg import rgb_to_tensor

from . import links
from .controls import arguments_doc, control
from .errors import explained
from .gpu import on_gpu
from .images import SKIMAGE_DATA, image_input, load_input
from .jobs import CPU_HEAVY, Job, JobBoard, session_key
from .lab_settings import LabSettings

BLOCKS = (1, 2, 3, 4, 5)
TAB = links.tab_id(__name__)


# TV prior (Mahendran & Vedaldi 2015, eq. 1 with their normalisation by ||a(C)||^2): a content panel minimises
# 1/2 ||a(C) - a(G)||^2 / ||a(C)||^2 + TV_PRIOR * TV(G), i.e. J_content + w_TV TV(G) with w_TV = TV_PRIOR ||a(C)||^2.
# One lambda serves every layer: tuned on chelsea at 64 and 128 px (relu1_1 best near 4e-5, relu2_1 and relu3_1
# near 2.5e-5; 10x more blurs relu2_1 by 10 dB, 10x less lets relu2_1's noise through).
TV_PRIOR = 3e-5
CONTENT_STEPS = {1: 1, 2: 2, 3: 4, 4: 1, 5: 1}  # relu3_1 converges slowest (its colours drift for ~150 steps)
PREVIEW_EVERY = 10
LAB = JobBoard()

CONTENT_SAYS = {  # by block: what a content reconstruction from that block keeps
    1: "a copy: its units see 3–5 pixels",
    2: "nearly exact: edges and colours fixed",
    3: "the layout holds; fine detail starts to drift",
    4: "objects and arrangement remain; pixels and texture are free",
    5: "only coarse concepts: exact pixels no longer matter",
}
STYLE_SAYS = {  # by the deepest layer of the set: what a style reconstruction shows
    1: "colours and the finest grain: the palette as noise",
    2: "small strokes and blobs",
    3: "the style's textures, at a larger scale",
    4: "larger motifs repeat, with no layout",
    5: "the largest texture elements, scrambled in place",
}
PRIOR_SENTENCE = (
    "**Image prior.** A layer cannot tell apart many images, and from noise the optimiser would keep whatever "
    f"noise the layer ignores; so each content panel also minimises λ·‖a⁽ᶜ⁾‖²·TV(G), the sum of squared "
    f"differences of neighbouring pixels (λ = {TV_PRIOR:g}; Mahendran & Vedaldi 2015), which picks the smoothest "
    "of the images the layer cannot tell apart. PSNR compares a panel with its target image: 30 dB and more is a "
    "near copy; the style row stays low because a Gram matrix keeps no layout.")
FORMULAS = r"""
**Content reconstruction** from noise, at one layer $l$, with the prior: minimise
$$J_{content}(C,G) + \lambda \left\| a^{[l](C)} \right\|^2 TV(G), \qquad J_{content}(C,G) = \frac{1}{2} \left\| a^{[l](C)} - a^{[l](G)} \right\|^2,
\qquad TV(G) = \sum_{i,j} (G_{i+1,j} - G_{i,j})^2 + (G_{i,j+1} - G_{i,j})^2$$

**Style reconstruction** from noise: minimise only the style cost over a set of layers, built from Gram matrices
$$G^{[l]}_{kk'} = \sum_{i=1}^{n_H^{[l]}} \sum_{j=1}^{n_W^{[l]}} a^{[l]}_{ijk}\, a^{[l]}_{ijk'}
\qquad
J^{[l]}_{style}(S,G) = \frac{1}{\left(2 n_H^{[l]} n_W^{[l]} n_C^{[l]}\right)^2} \sum_{k} \sum_{k'}
\left(G^{[l](S)}_{kk'} - G^{[l](G)}_{kk'}\right)^2
\qquad
J_{style}(S,G) = \sum_{l} \lambda^{[l]} J^{[l]}_{style}(S,G)$$
with equal $\lambda^{[l]}$ over the set. Stylization minimises both: $J(G) = \alpha J_{content}(C,G) + \beta J_{style}(S,G)$.

**PSNR** $= 10 \log_{10} \left( 255^2 / \mathrm{MSE} \right)$ dB, with the mean squared error over all pixels and colours.
"""


def psnr(image: np.ndarray, target: np.ndarray) -> float:
    """PSNR = 10 log10(255^2 / MSE) in dB, MSE over all pixels and channels of two uint8 images of one shape."""
    mse = np.mean((image.astype(np.float64) - target.astype(np.float64)) ** 2)
    return 10 * math.log10(255.0 ** 2 / mse) if mse > 0 else math.inf


@dataclass(frozen=True)
class Panel:
    """One reconstruction: its row ("content" or "style"), settings, target image and layer(s)."""

    row: str
    options: StyleOptions
    target: np.ndarray
    layers: tuple[str, ...]

    @property
    def label(self) -> str:
        """The layer, or the set: "relu1_1", "relu1_1 + relu2_1", "relu1_1 … relu3_1"."""
        return " + ".join(self.layers) if len(self.layers) <= 2 else f"{self.layers[0]} … {self.layers[-1]}"

    def caption_of(self, image: np.ndarray) -> str:
        """The finished panel's caption: layer(s) and PSNR against the target at the panel's size."""
        return f"{self.label} · {psnr(image, resize_long_edge(self.target, self.options.size)):.1f} dB"


def prior_weight(layer: str, content: np.ndarray, size: int) -> float:
    """w_TV = TV_PRIOR * ||a^[l](C)||^2: the prior's weight in J_content's units at ``layer`` and ``size``."""
    transfer = StyleTransfer(StyleOptions(size=size, content_layer=layer, style_layers={layer: 1.0}))
    content01 = rgb_to_tensor(resize_long_edge(content, size)).to(transfer.device)
    with torch.no_grad():
        a_C = transfer.features(content01, [layer])[layer].float()
    return TV_PRIOR * float(a_C.pow(2).sum())


def content_panel(layer: str, content: np.ndarray, size: int, steps: int, seed: int) -> Panel:
    """Minimise J_content at ``layer`` plus the TV prior, from noise; the style term is off (beta = 0)."""
    block = int(layer[4])
    options = StyleOptions(size=size, steps=steps * CONTENT_STEPS[block], scales=1, content_layer=layer,
                           style_layers={layer: 0.0}, alpha=1.0, beta=0.0,
                           tv_weight=prior_weight(layer, content, size), init="noise", seed=seed,
                           preview_every=PREVIEW_EVERY)
    return Panel("content", options, content, (layer,))


def style_panel(layers: list[str], style: np.ndarray, size: int, steps: int, seed: int) -> Panel:
    """Minimise J_style over ``layers`` (equal lambda) from noise, as in the paper (no prior); alpha = 0."""
    options = StyleOptions(size=size, steps=steps, scales=1, content_layer=layers[0],
                           style_layers={layer: 1.0 / len(layers) for layer in layers}, alpha=0.0, beta=1.0,
                           init="noise", seed=seed, preview_every=PREVIEW_EVERY)
    return Panel("style", options, style, tuple(layers))


def lab_panels(content: np.ndarray, style: np.ndarray, settings: LabSettings) -> list[Panel]:
    """Five content reconstructions (relu1_k … relu5_k) then five style ones (relu1_1; relu1_1 + relu2_1; …)."""
    s = settings.validate()
    style_layers = [f"relu{b}_1" for b in BLOCKS]
    return ([content_panel(f"relu{b}_{s.sublayer}", content, s.size, s.steps, s.seed) for b in BLOCKS]
            + [style_panel(style_layers[:n], style, s.size, s.steps, s.seed) for n in range(1, len(BLOCKS) + 1)])


def lab_work(panels: list[Panel]):
    """The job: each item is (content gallery, style gallery, status); panels fill in one by one."""
    def work(job: Job):
        done: dict[str, list] = {"content": [], "style": []}
        elapsed = 0.0
        for i, panel in enumerate(panels, start=1):
            for p in StyleTransfer(panel.options).iter_stylize(panel.target, [panel.target], stop=job.stop_event):
                if p.image is None:
                    continue
                if p.done:
                    stopped = f" · stopped at {p.step}/{p.total_steps}" if p.stopped else ""
                    done[panel.row].append((p.image, panel.caption_of(p.image) + stopped))
                    shown = list(done[panel.row])  # a copy: the consumer reads it in another thread
                else:
                    shown = done[panel.row] + [(p.image, f"{panel.label} (step {p.step}/{p.total_steps})")]
                galleries = tuple(shown if row == panel.row else gr.skip() for row in ("content", "style"))
                yield (*galleries, f"Panel {i}/{len(panels)} ({panel.label}): step {p.step}/{p.total_steps} · "
                                   f"{elapsed + p.elapsed:.0f} s elapsed")
            elapsed += p.elapsed
            if job.stop_event.is_set():
                break
        if job.over_budget:
            message = f"Time budget reached after {elapsed:.0f} s: showing the panels so far."
        elif job.stop_event.is_set():
            message = f"Stopped after {elapsed:.0f} s: showing the panels so far."
        else:
            message = f"Done: {len(panels)} panels in {elapsed:.0f} s."
        yield list(done["content"]), list(done["style"]), message
    return work


def ask_to_run_lab(request: gr.Request = None) -> str:
    """The moment Run is pressed (before the queue starts the job): a Stop from now on cancels it; the status of an
    earlier run is cleared."""
    LAB.wait(session_key(request, "lab"))
    return ""


@on_gpu
@explained("running the layer-depth lab")
def run_lab(content: str | None, style: str | None, size: int = LabSettings.size, steps: int = LabSettings.steps,
            sublayer: int = LabSettings.sublayer, seed: int = LabSettings.seed, request: gr.Request = None):
    """Fill both rows of reconstructions; yields (content gallery, style gallery, status)."""
    key = session_key(request, "lab")
    with LAB.preparing(key):
        settings = LabSettings(size, steps, sublayer, seed).validate()
        content_rgb, style_rgb = load_input(content, "content image"), load_input(style, "style image")
    yield from LAB.run(key, lab_work(lab_panels(content_rgb, style_rgb, settings)))


run_lab.__doc__ += arguments_doc(run_lab, {
    **{f.name: f.metadata["help"] for f in dataclasses.fields(LabSettings)},
    "content": "the photo rebuilt from noise from one layer per block (the top row: what each depth keeps)",
    "style": "the image whose texture is rebuilt from a growing set of layers (the bottom row)",
    "sublayer": "the content layers: 1 for relu1_1 … relu5_1, 2 for relu1_2 … relu5_2",
})


@explained("stopping the layer-depth lab")
def stop_lab(request: gr.Request = None):
    """End this session's lab run now, keeping the panels finished so far (or say it never started)."""
    item = LAB.stop(session_key(request, "lab"))
    if item is LAB.QUEUED:
        return gr.skip(), gr.skip(), "Stopped before it started: the lab was still waiting for its turn."
    return item if item is not None else (gr.skip(), gr.skip(), "Nothing to stop: the lab is not running.")


def layer_table(sublayer: int) -> str:
    """Per block: the content layer's receptive field and what each row shows (Markdown)."""
    lines = ["| block | content layer · receptive field | content row keeps | style row (up to relu*N*_1) shows |",
             "|---|---|---|---|"]
    for b in BLOCKS:
        layer = f"relu{b}_{sublayer}"
        r = receptive_field(layer).size
        lines.append(f"| {b} | {layer} · {r}×{r} px | {CONTENT_SAYS[b]} | {STYLE_SAYS[b]} |")
    return "\n".join(lines)


def build():
    """The tab's widgets and events (inside the current Blocks/Tab)."""
    default = LabSettings()
    gr.Markdown("### What does one layer keep?\nShallow layers keep pixels, deep layers keep concepts. "
                "Each panel starts from noise and matches a single layer (top row) or a set of layers' "
                "Gram matrices (bottom row).")
    with gr.Row():
        content = image_input(str(SKIMAGE_DATA / "chelsea.png"), label="Content image", height=200)
        style = image_input(str(SKIMAGE_DATA / "ihc.png"), label="Style image", height=200)
        with gr.Column():
            size = control(LabSettings, "size", elem_id="lab-size")
            steps = control(LabSettings, "steps", info="content panels relu2–relu3 take 2× and 4× as many",
                            elem_id="lab-steps")
            sublayer = gr.Radio([("relu1_1 … relu5_1", 1), ("relu1_2 … relu5_2", 2)], value=default.sublayer,
                                label="Content layers")
            seed = control(LabSettings, "seed")
            with gr.Row():
                run = gr.Button("Run the lab", variant="primary", elem_id="lab-run")
                stop_button = gr.Button("Stop", variant="stop", elem_id="lab-stop")
            link = links.copy_link(TAB)
    status = gr.Textbox(label="Status", interactive=False, elem_id="lab-status")
    gallery = dict(columns=5, fit_columns=False, rows=1, height=300, object_fit="contain",  # 5 fixed columns:
                   allow_preview=False)  # the first panels keep their final size, the row never scrolls
    content_row = gr.Gallery(label="Content reconstructions: relu1 → relu5 (caption: PSNR against the content image)",
                             elem_id="lab-content-row", **gallery)
    style_row = gr.Gallery(label="Style reconstructions: relu1_1 → relu1_1 … relu5_1 (caption: PSNR against the "
                                 "style image)", elem_id="lab-style-row", **gallery)
    gr.Markdown(PRIOR_SENTENCE)
    table = gr.Markdown(layer_table(default.sublayer))
    gr.Markdown(FORMULAS, latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                            {"left": "$", "right": "$", "display": False}])
    form = [content, style, size, steps, sublayer, seed]
    link.wire(links.lab_link, form)
    names = ("content", "style", *(f.name for f in dataclasses.fields(LabSettings)))  # the form's, in order
    links.on_load(TAB, lambda values: [values.get(name, gr.skip()) for name in names], form)
    outputs = [content_row, style_row, status]
    sublayer.change(layer_table, sublayer, table, queue=False, api_visibility="private")
    asked = run.click(ask_to_run_lab, None, status, queue=False, api_visibility="private")
    asked.then(run_lab, [content, style, size, steps, sublayer, seed], outputs, api_name="layer_lab",
               show_progress="minimal", **CPU_HEAVY,
               api_description="The Layer-depth lab (Gatys et al. 2015, Fig. 1): what each depth of VGG19 keeps. "
                               "From noise, the content image is rebuilt from one layer per block (relu1_k … "
                               "relu5_k) and the style image from growing sets of layers (relu1_1 … relu5_1): two "
                               "rows of five panels, each captioned with its PSNR, and a status line. Takes minutes "
                               "on a CPU at 128 px. To stylize a picture, use stylize_image instead.")
    stop_button.click(stop_lab, outputs=outputs, api_name="stop_lab", concurrency_limit=None,
                      api_visibility="undocumented")  # acts on a browser session: HTTP only, not an MCP tool
