"""The Layer-depth lab: what one VGG19 layer keeps of an image (Gatys et al. 2015, Fig. 1).

Content reconstructions start from noise and minimise only J_content at one layer per
block; style reconstructions minimise only J_style over growing layer sets. Both
rows fill in panel by panel, each labelled with its layer(s), receptive field and
what it shows: shallow layers keep pixels, deep layers keep concepts.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import numpy as np

from explorer.units.receptive_field import receptive_field
from nst_core import StyleOptions, StyleTransfer

from .images import SKIMAGE_DATA, image_input, load_input
from .jobs import CPU_HEAVY, Job, JobBoard, session_key

BLOCKS = (1, 2, 3, 4, 5)
LAB_SIZE, LAB_STEPS = 128, 60  # per panel: about two minutes for all ten panels on 2 CPU cores
LAB_PREVIEW_EVERY = 10
CONTENT_SAYS = {  # by block: what a content reconstruction from that block keeps
    1: "Almost a copy: units see a few pixels, so matching them pins down every pixel.",
    2: "Still nearly exact: edges and colours are fixed, with faint noise.",
    3: "The layout holds; exact colours and fine detail start to drift.",
    4: "Objects and their arrangement remain, but pixels and textures are free to change.",
    5: "Only coarse concepts survive: the network no longer cares about the exact pixels.",
}
STYLE_SAYS = {  # by the deepest layer of the set: what a style reconstruction shows
    1: "Colours and the finest grain only: the style's palette as noise.",
    2: "Small strokes and blobs appear.",
    3: "The style's textures emerge at a larger scale.",
    4: "Larger motifs repeat across the picture, but with no layout.",
    5: "The largest texture elements, still scrambled in place: style has no arrangement.",
}
FORMULAS = r"""
**Content reconstruction** from noise, at one layer $l$: minimise only
$$J_{content}(C,G) = \frac{1}{2} \left\| a^{[l](C)} - a^{[l](G)} \right\|^2$$

**Style reconstruction** from noise: minimise only the style cost over a set of layers, built from Gram matrices
$$G^{[l]}_{kk'} = \sum_{i=1}^{n_H^{[l]}} \sum_{j=1}^{n_W^{[l]}} a^{[l]}_{ijk}\, a^{[l]}_{ijk'}
\qquad
J^{[l]}_{style}(S,G) = \frac{1}{\left(2 n_H^{[l]} n_W^{[l]} n_C^{[l]}\right)^2} \sum_{k} \sum_{k'}
\left(G^{[l](S)}_{kk'} - G^{[l](G)}_{kk'}\right)^2
\qquad
J_{style}(S,G) = \sum_{l} \lambda^{[l]} J^{[l]}_{style}(S,G)$$
with equal $\lambda^{[l]}$ over the set. Stylization minimises both: $J(G) = \alpha J_{content}(C,G) + \beta J_{style}(S,G)$.

The *receptive field* is the square of input pixels one unit of the layer sees: shallow layers see a few pixels, deep
layers most of the picture.
"""
LAB = JobBoard()


@dataclass(frozen=True)
class Panel:
    """One reconstruction: its row ("content" or "style"), settings, target image, layer label and sentence."""

    row: str
    options: StyleOptions
    target: np.ndarray
    label: str  # the layer(s)
    says: str  # one sentence on what it shows

    @property
    def caption(self) -> str:
        r = receptive_field(self.label.split(" + ")[-1]).size
        return f"{self.label} · receptive field {r}×{r} px · {self.says}"


def content_panel(layer: str, content: np.ndarray, size: int, steps: int, seed: int) -> Panel:
    """Minimise J_content at ``layer`` from noise; the style term is off (beta = 0, its layer weight 0)."""
    options = StyleOptions(size=size, steps=steps, scales=1, content_layer=layer, style_layers={layer: 0.0},
                           alpha=1.0, beta=0.0, init="noise", seed=seed, preview_every=LAB_PREVIEW_EVERY)
    return Panel("content", options, content, layer, CONTENT_SAYS[int(layer[4])])


def style_panel(layers: list[str], style: np.ndarray, size: int, steps: int, seed: int) -> Panel:
    """Minimise J_style over ``layers`` (equal lambda) from noise; the content term is off (alpha = 0)."""
    options = StyleOptions(size=size, steps=steps, scales=1, content_layer=layers[0],
                           style_layers={layer: 1.0 / len(layers) for layer in layers}, alpha=0.0, beta=1.0,
                           init="noise", seed=seed, preview_every=LAB_PREVIEW_EVERY)
    return Panel("style", options, style, " + ".join(layers), STYLE_SAYS[int(layers[-1][4])])


def lab_panels(content: np.ndarray, style: np.ndarray, size: int, steps: int, sublayer: int, seed: int) -> list[Panel]:
    """Five content reconstructions (relu1_k … relu5_k) then five style ones (relu1_1; relu1_1 + relu2_1; …)."""
    style_layers = [f"relu{b}_1" for b in BLOCKS]
    return ([content_panel(f"relu{b}_{sublayer}", content, size, steps, seed) for b in BLOCKS]
            + [style_panel(style_layers[:n], style, size, steps, seed) for n in range(1, len(BLOCKS) + 1)])


def lab_work(panels: list[Panel]):
    """The job: each item is (content gallery, style gallery, status); panels fill in one by one."""
    def work(job: Job):
        done: dict[str, list] = {"content": [], "style": []}
        elapsed = 0.0
        for i, panel in enumerate(panels, start=1):
            st = StyleTransfer(panel.options)
            for p in st.iter_stylize(panel.target, [panel.target], stop=job.stop_event):
                if p.image is None:
                    continue
                if p.done:
                    stopped = f" (stopped at step {p.step}/{p.total_steps})" if p.stopped else ""
                    done[panel.row].append((p.image, panel.caption + stopped))
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


def run_lab(content: str | None, style: str | None, size: int = LAB_SIZE, steps: int = LAB_STEPS,
            sublayer: int = 1, seed: int = 0, request: gr.Request = None):
    """Fill both rows of reconstructions; yields (content gallery, style gallery, status)."""
    content_rgb, style_rgb = load_input(content, "content image"), load_input(style, "style image")
    try:
        panels = lab_panels(content_rgb, style_rgb, int(size), int(steps), int(sublayer), int(seed))
    except (TypeError, ValueError) as e:
        raise gr.Error(str(e)) from None
    yield from LAB.run(session_key(request, "lab"), lab_work(panels))


def stop_lab(request: gr.Request = None):
    """End this session's lab run now, keeping the panels finished so far."""
    item = LAB.stop(session_key(request, "lab"))
    return item if item is not None else (gr.skip(), gr.skip(), "Stopped.")


def build():
    """The tab's widgets and events (inside the current Blocks/Tab)."""
    gr.Markdown("### What does one layer keep?\nShallow layers keep pixels, deep layers keep concepts. "
                "Each panel starts from noise and matches a single layer (top row) or a set of layers' "
                "Gram matrices (bottom row).")
    with gr.Row():
        content = image_input(str(SKIMAGE_DATA / "chelsea.png"), label="Content image", height=200)
        style = image_input(str(SKIMAGE_DATA / "ihc.png"), label="Style image", height=200)
        with gr.Column():
            size = gr.Slider(32, 192, value=LAB_SIZE, step=1, label="Size (px)")
            steps = gr.Slider(1, 300, value=LAB_STEPS, step=1, label="Steps per panel")
            sublayer = gr.Radio([("relu1_1 … relu5_1", 1), ("relu1_2 … relu5_2", 2)], value=1,
                                label="Content layers")
            seed = gr.Number(0, precision=0, label="Seed")
            with gr.Row():
                run = gr.Button("Run the lab", variant="primary")
                stop_button = gr.Button("Stop", variant="stop")
    status = gr.Textbox(label="Status", interactive=False)
    content_row = gr.Gallery(label="Content reconstructions: relu1 → relu5", columns=5, height="auto",
                             object_fit="contain")
    style_row = gr.Gallery(label="Style reconstructions: relu1_1 → relu1_1 + … + relu5_1", columns=5,
                           height="auto", object_fit="contain")
    gr.Markdown(FORMULAS, latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                            {"left": "$", "right": "$", "display": False}])
    outputs = [content_row, style_row, status]
    running = run.click(run_lab, [content, style, size, steps, sublayer, seed], outputs, api_name="layer_lab",
                        show_progress="minimal", **CPU_HEAVY,
                        api_description="Gatys et al.'s Fig. 1: reconstruct the content image from relu1_1 ... "
                                        "relu5_1 and the style from growing sets of layers; streams both rows.")
    stop_button.click(stop_lab, outputs=outputs, cancels=[running], api_name="stop_lab", concurrency_limit=None,
                      api_description="Stop this session's lab run, keeping the panels finished so far.")
