"""The Video tab: a clip and a style image in, a stylized clip out (an MP4 to play, a GIF to download), steady from
frame to frame (``nst_core.video``). Each finished frame is shown as it is done; Stop keeps the clip so far.

The clip is bounded before any work (``DEFAULT_SECONDS`` at ``DEFAULT_SIZE`` px and ``DEFAULT_FPS``), and the
status says how long it will take here before it starts; a clip whose estimate passes the job's time budget is
refused with the length that fits. ``run_clip`` is also the ``stylize_video`` tool (``tools``).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import gradio as gr
import numpy as np

from nst_core.checks import InputError
from nst_core.images import resize_long_edge
from nst_core.options import PRESETS, preset_at
from nst_core.video import ClipStylizer, read_clip, write_clip
from nst_core.video.sequence import TEMPORAL_WEIGHT, ClipPlan, ClipProgress

from . import links
from .controls import control
from .errors import explained
from .gpu import on_gpu
from .images import SKIMAGE_DATA, image_input, load_input, result_path
from .jobs import CPU_HEAVY, JOB_BUDGET_S, Job, JobBoard, session_key
from .video_settings import TEMPORAL_WEIGHTS, VideoSettings

SAMPLE_CLIP = Path(gr.__file__).parent / "media_assets" / "videos" / "b.mp4"  # Gradio's sample clip, 480×270, 5 s
DEFAULTS = VideoSettings()
DEFAULT_SIZE, DEFAULT_SECONDS, DEFAULT_FPS = DEFAULTS.size, DEFAULTS.seconds, DEFAULTS.fps
TAB = links.tab_id(__name__)
STATUS_EVERY_S = 0.5
PREVIEW_EDGE = 400  # px: a finished frame is shown at least this large (the clip itself keeps its size)
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def weight_label(w: float) -> str:
    """0 -> "off", 1e10 -> "10¹⁰ (default)"."""
    if w == 0:
        return "off"
    return f"10{str(round(math.log10(w))).translate(SUPERSCRIPT)}" + " (default)" * (w == TEMPORAL_WEIGHT)


WEIGHT_CHOICES = [(weight_label(w), w) for w in TEMPORAL_WEIGHTS]
JOBS = JobBoard()


def read_inputs(video: str | None, style: str | None, preset: str, size: int, seconds: float, fps: float,
                temporal_weight: float):
    """The inputs checked and read: (stylizer, clip, style image, plan); ``InputError`` for bad ones, and for a clip
    whose estimate passes the job's time budget (naming the length that fits)."""
    if not video:
        raise InputError("Please give a video clip (MP4, WebM, MOV or GIF).")
    s = VideoSettings(preset, size, seconds, fps, temporal_weight).validate()
    style_rgb = load_input(style, "style image")
    clip = read_clip(video, s.size, seconds=s.seconds, fps=s.fps)
    stylizer = ClipStylizer(preset_at(s.preset, s.size), s.temporal_weight)
    plan = stylizer.plan(clip.frames[0].shape[:2], len(clip.frames))
    if plan.seconds > JOB_BUDGET_S:
        fits = max(1, int((JOB_BUDGET_S - plan.first.seconds) / max(plan.later.seconds, 1e-3)) + 1)
        raise InputError(f"this clip would take about {plan.seconds:.0f} s here ({len(clip.frames)} frames), more "
                         f"than the {JOB_BUDGET_S:.0f} s a job may take; choose at most {fits / clip.fps:.1f} s, a "
                         "lower frame rate or a smaller size.")
    return stylizer, clip, style_rgb, plan


def clip_status(p: ClipProgress) -> str:
    """'Frame 7/20 · 6 done · 31 s elapsed · about 40 s left'."""
    return (f"Frame {p.frame + 1}/{p.frames} · {len(p.results)} done · {p.elapsed:.0f} s elapsed · "
            f"about {p.remaining:.0f} s left")


def shown(frame: np.ndarray) -> np.ndarray:
    """A finished frame as the preview shows it: its long edge at least ``PREVIEW_EDGE``."""
    return frame if max(frame.shape[:2]) >= PREVIEW_EDGE else resize_long_edge(frame, PREVIEW_EDGE)


def write_results(frames: list[np.ndarray], fps: float) -> tuple[str, str]:
    """The clip as an MP4 (to play) and a GIF (to download), beside the app's other results."""
    stem = result_path("video")
    mp4, gif = stem.with_suffix(".mp4"), stem.with_suffix(".gif")
    write_clip(str(mp4), frames, fps)
    write_clip(str(gif), frames, fps)
    return str(mp4), str(gif)


def clip_work(stylizer: ClipStylizer, clip, style: np.ndarray, plan: ClipPlan):
    """The job: items (latest frame, MP4, GIF, status), ``gr.skip()`` where nothing changed; the last one holds the
    clip (all frames, or after a Stop those finished)."""
    def work(job: Job):
        last_sent = 0.0
        for p in stylizer.iter_stylize(clip.frames, [style], stop=job.stop_event, estimate=plan):
            now = time.monotonic()
            if p.done:
                frames = p.results or [p.result]  # stopped during frame 1: its best picture so far
                mp4, gif = write_results(frames, clip.fps)
                h, w = frames[0].shape[:2]
                how = ("Time budget reached" if job.over_budget else "Stopped") if p.stopped else "Done"
                yield (shown(frames[-1]), mp4, gif, f"{how}: {len(frames)} of {p.frames} frames, {w}×{h} px at "
                       f"{clip.fps:g} fps, in {p.elapsed:.0f} s.")
                return
            if p.result is not None or now - last_sent >= STATUS_EVERY_S:
                yield (gr.skip() if p.result is None else shown(p.result), gr.skip(), gr.skip(), clip_status(p))
                last_sent = now
    return work


def run_clip(video: str, style: str, preset: str = "Quick", size: int = DEFAULT_SIZE,
             seconds: float = DEFAULT_SECONDS, fps: float = DEFAULT_FPS) -> str:
    """Stylize the clip to the end (past the job's time budget: the frames done by then) and return the MP4."""
    stylizer, clip, style_rgb, plan = read_inputs(video, style, preset, size, seconds, fps, TEMPORAL_WEIGHT)
    job = Job(clip_work(stylizer, clip, style_rgb, plan), JOB_BUDGET_S)
    *_, (_, mp4, _, _) = job.stream()
    return mp4


@on_gpu
@explained("stylizing the clip")
def stylize_clip(video, style, preset="Quick", size=DEFAULT_SIZE, seconds=DEFAULT_SECONDS, fps=DEFAULT_FPS,
                 temporal_weight=TEMPORAL_WEIGHT, request: gr.Request = None):
    """The tab's run: yields (latest frame, MP4, GIF, status) as the frames are done."""
    key = session_key(request, "video")
    with JOBS.preparing(key):
        stylizer, clip, style_rgb, plan = read_inputs(video, style, preset, size, seconds, fps, temporal_weight)
    yield from JOBS.run(key, clip_work(stylizer, clip, style_rgb, plan))


def estimate(*inputs) -> str:
    """The status the moment Stylize is pressed: frames, size and the time it will take here. Bad input is left to
    the run, which says what is wrong in one sentence."""
    try:
        _, clip, _, plan = read_inputs(*inputs)
    except InputError:
        return ""  # no run's status: the run's error says what is wrong
    return f"Starting: {plan.text()}, at {clip.fps:g} fps."


def ask(request: gr.Request = None) -> None:
    JOBS.wait(session_key(request, "video"))


def stop(request: gr.Request = None):
    """End this session's clip now: the frames done so far become the clip."""
    item = JOBS.stop(session_key(request, "video"))
    if item is JOBS.QUEUED:
        return gr.skip(), gr.skip(), gr.skip(), "Stopped before it started: the job was still waiting for its turn."
    if item is None:
        return gr.skip(), gr.skip(), gr.skip(), "Nothing to stop: no clip is being stylized."
    return item


def build():
    """The tab's widgets and events (inside the current Blocks/Tab)."""
    gr.Markdown("A clip in, a stylized clip out, steady from frame to frame: each frame starts from the previous "
                "stylized frame carried along the optical flow of the clip, and a temporal cost keeps it there where "
                "the flow is trusted. Finished frames appear on the right as they are done; Stop keeps the clip so far.")
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Row():
                video = gr.Video(label="Clip (MP4, WebM, MOV or GIF)", sources=["upload"], height=240,
                                 elem_id="video-input")
                style = image_input(label="Style image", height=240, elem_id="video-style")
            preset = gr.Radio(list(PRESETS), value="Quick", label="Preset", elem_id="video-preset",
                              info="Frame 1 runs the preset's full schedule; each later frame starts from the previous "
                                   "result carried along the motion and takes half the final steps.")
            with gr.Row():
                size = control(VideoSettings, "size", step=16, label="Size (px)", info=None,
                               elem_id="video-size")
                seconds = control(VideoSettings, "seconds", step=0.1, label="Length (s)", info=None,
                                  elem_id="video-seconds")
                fps = control(VideoSettings, "fps", step=1, label="Frames/s", info=None, elem_id="video-fps")
            temporal_weight = gr.Dropdown(WEIGHT_CHOICES, value=TEMPORAL_WEIGHT, label="Temporal weight γ",
                                          elem_id="video-temporal",
                                          info="How strongly each frame keeps to the previous one carried along the "
                                               "motion (Ruder et al. 2016); off: only the warm start.")
            with gr.Row():
                run = gr.Button("Stylize the clip", variant="primary", elem_id="video-run")
                stop_button = gr.Button("Stop", variant="stop", elem_id="video-stop")
            status = gr.Textbox(label="Status", interactive=False, elem_id="video-status")
            link = links.copy_link(TAB)  # the style (a scikit-image sample), the preset and the bounds
        with gr.Column(scale=1):
            frame = gr.Image(label="Latest finished frame", type="numpy", interactive=False, height=240,
                             elem_id="video-frame")
            result = gr.Video(label="Stylized clip", interactive=False, height=240, elem_id="video-result")
            gif = gr.DownloadButton("Download the GIF", elem_id="video-gif")
    gr.Examples([[str(SAMPLE_CLIP), str(SKIMAGE_DATA / "hubble_deep_field.jpg")]], inputs=[video, style],
                label="Example (Gradio's sample clip, scikit-image's Hubble photo)", cache_examples=False)
    inputs = [video, style, preset, size, seconds, fps, temporal_weight]
    outputs = [frame, result, gif, status]
    form = [style, preset, size, seconds, fps, temporal_weight]
    link.wire(links.video_link, [video, *form])
    links.on_load(TAB, lambda values: [values.get(name, gr.skip()) for name in links.VIDEO_FORM], form)
    # queued (no limit): a control refused by its check is one toast, and the job is not asked for
    estimated = run.click(estimate, inputs, status, api_visibility="private", show_progress="hidden",
                          concurrency_limit=None)
    estimated.success(ask, queue=False, api_visibility="private").then(
        stylize_clip, inputs, outputs, api_visibility="private", show_progress="minimal", **CPU_HEAVY)
    stop_button.click(stop, outputs=outputs, concurrency_limit=None, api_visibility="private")
