"""The app's handlers called directly: inputs -> outputs, one-line errors, Stop, time budget, settings round trip."""
import inspect
import os
import time

import gradio as gr
import numpy as np
import pytest
from gradio.data_classes import ImageData
from PIL import Image

from gradio_calls import first_error, request
from nst_core import StyleOptions
from nst_core.metadata import read_settings, save_png
from nst_core.options import PRESETS
from nst_core.vgg import load_vgg19
from nst_studio import images, jobs, stylize_tab
from nst_studio.errors import explained
from nst_studio.images import image_input
from nst_studio.plots import CostHistory, cost_figure
from nst_studio.stylize_settings import build_options

TINY = dict(size=32, steps=2, scales=1)


def test_stylize_streams_previews_and_status_then_a_png_carrying_its_settings(pair):
    items = list(stylize_tab.stylize(*pair, size=64, steps=5, scales=2, content_layer="relu3_2",
                                     style_layers="relu1_1: 0.5, relu3_1: 0.5", request=request("run")))
    *progress, final = items
    statuses = [status for _, _, status, _, _ in progress]
    assert statuses[0].startswith("Step 1/15 · stage 1/2 at 32×21 px")
    assert any(s.startswith("Step 11/15 · stage 2/2 at 64×42 px") for s in statuses)  # each stage's first step
    previews = [image for image, *_ in progress if isinstance(image, np.ndarray)]
    assert previews and all(p.shape[2] == 3 for p in previews)
    path, figure, status, download, (before, after) = final
    assert status.startswith("Done: 15 steps") and path == download
    assert (before, after) == (pair[0], path)  # the before/after slider: content against the result
    assert Image.open(path).size == (64, 42)
    options, identity = read_settings(path)
    assert (options.size, options.steps, options.scales, options.content_layer) == (64, 5, 2, "relu3_2")
    assert options.style_layers == {"relu1_1": 0.5, "relu3_1": 0.5}
    assert identity == load_vgg19().identity
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == [r"$\alpha J_{content}$", r"$\beta J_{style}$", r"$J$"]


def test_several_style_images_are_blended_with_their_weights(pair):
    *_, (path, _, status, _, _) = stylize_tab.stylize(pair[0], pair[1], pair[1], None, 0.25, 0.75, 1.0, **TINY,
                                                   request=request("blend"))
    assert read_settings(path)[0].style_blend == (0.25, 0.75)


@pytest.mark.parametrize("change, message", [
    (dict(content=None), "Please give a content image."),
    (dict(style=None), "Please give at least one style image."),
    (dict(size=10), "size must be a whole number from 32 to 4096; got 10."),
    (dict(steps=2.5), "steps must be a whole number from 0 to 100,000; got 2.5."),
    (dict(steps=float("nan")), "steps must be a whole number from 0 to 100,000; got nan."),
    (dict(seed=10**30), "seed must be a whole number from 0 to 9,223,372,036,854,775,807; got 1000000000000000000000000000000."),
    (dict(tv_weight=float("inf")), "TV weight must be a number from 0 to 1e+12; got inf."),
    (dict(learning_rate="fast"), "learning rate must be a number from 0.0001 to 1; got 'fast'."),
    (dict(style_layers="relu9_9: 1"), "style layer must be a conv or relu layer of VGG19"),
    (dict(style_layers="relu1_1: -3"), "style layer weight λ of relu1_1 must be a number from 0 to 1e+12; got -3.0."),
    (dict(style_layers="relu1_1: lots"), "style layers: 'relu1_1: lots' is not 'layer: weight'"),
    (dict(content_layer="pool2"), "content layer must be a conv or relu layer of VGG19"),
    (dict(strength=12), "style strength log10(beta/alpha) must be a number from -2 to 8; got 12."),
    (dict(init="sideways"), "init must be one of content+palette, content, noise, style, content+noise; got 'sideways'."),
    (dict(style_weight=0), "style blend weights can't all be 0"),
])
def test_missing_inputs_and_nonsense_settings_give_one_line_errors(pair, change, message):
    kwargs = dict(content=pair[0], style=pair[1], **TINY) | change
    error = first_error(stylize_tab.stylize(**kwargs, request=request("bad")))
    assert message in error and "\n" not in error


def test_bad_and_too_large_uploads_give_one_line_errors(pair, tmp_path):
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"this is not a picture" * 20)
    huge = tmp_path / "huge.png"
    Image.new("1", (4100, 4100)).save(huge)  # 16.8 M pixels, a few kB on disk
    assert first_error(stylize_tab.stylize(str(garbage), pair[1], **TINY, request=request("x"))) == \
        "content image: garbage.png: not an image file Pillow can read; choose another image, or save this one again " \
        "as PNG or JPEG."
    # a 1-pixel sliver and a 1 x 1 image follow the one rule: enlarged to a 16 px side, never a crash
    sliver, dot = tmp_path / "sliver.png", tmp_path / "dot.png"
    Image.new("RGB", (300, 1), "red").save(sliver)
    Image.new("RGB", (1, 1), "blue").save(dot)
    *_, (path, *_) = stylize_tab.stylize(str(sliver), str(dot), size=64, steps=1, scales=2, request=request("thin"))
    assert Image.open(path).size == (64, 16)
    error = first_error(stylize_tab.stylize(pair[0], str(huge), **TINY, request=request("x")))
    assert error.startswith("style image: huge.png: the image is too large (4100x4100")
    # the widget itself turns what Gradio can't open into a one-line error naming the input
    with pytest.raises(gr.Error) as info:
        image_input(label="Content image", render=False).preprocess(ImageData(path=str(garbage),
                                                                               orig_name="garbage.png"))
    assert info.value.message == ("Content image: garbage.png is not an image file Pillow can read; give a PNG, JPEG, "
                                  "WebP, GIF, BMP or TIFF.")


def test_stop_ends_the_job_at_once_and_shows_the_best_image(pair):
    gen = stylize_tab.stylize(*pair, size=64, steps=500, scales=1, request=request("stopper"))
    next(gen)  # the job is running
    started = time.monotonic()
    path, _, status, download, _ = stylize_tab.stop(request("stopper"))
    assert time.monotonic() - started < 20
    assert status.startswith("Stopped at step ") and "best image so far" in status
    assert Image.open(path).size == (64, 42) and download == path
    job = stylize_tab.JOBS._jobs["stopper:stylize"]
    assert job.finished.is_set() and not job._thread.is_alive()
    gen.close()


def test_stop_with_nothing_running_leaves_the_outputs_alone():
    assert stylize_tab.stop(request("idle"))[2] == "Nothing to stop: no stylization is running."


def test_a_run_refused_by_its_checks_leaves_nothing_for_stop(pair):
    stylize_tab.ask_to_stylize(request("refused"))  # Stylize pressed with no content image
    with pytest.raises(gr.Error, match="Please give a content image"):
        list(stylize_tab.stylize(None, pair[1], request=request("refused")))
    assert stylize_tab.stop(request("refused"))[2] == "Nothing to stop: no stylization is running."


def test_stop_while_the_job_waits_in_the_queue_cancels_it_and_says_so(pair):
    *_, done = stylize_tab.stylize(*pair, **TINY, request=request("queued"))  # an earlier result exists
    stylize_tab.ask_to_stylize(request("queued"))  # Stylize pressed; the queue hasn't started it yet
    image, plot, status, download, compare = stylize_tab.stop(request("queued"))
    assert status == "Stopped before it started: the job was still waiting for its turn."
    assert image is not done[0] and isinstance(image, type(gr.skip()))  # the old result is not shown again
    assert list(stylize_tab.stylize(*pair, **TINY, request=request("queued"))) == []  # when its turn came: nothing ran


def test_closing_the_handler_stops_its_job(pair):
    """What Gradio does on cancel or disconnect: the job must not keep the CPU busy."""
    gen = stylize_tab.stylize(*pair, size=64, steps=500, scales=1, request=request("closer"))
    next(gen)
    gen.close()
    job = stylize_tab.JOBS._jobs["closer:stylize"]
    assert job.finished.wait(20) and job.last[2].startswith("Stopped at step ")


def test_a_job_over_its_time_budget_ends_with_its_best_image(pair, monkeypatch):
    monkeypatch.setattr(jobs, "JOB_BUDGET_S", 0.0)
    *_, (path, _, status, _, _) = stylize_tab.stylize(*pair, size=32, steps=200, scales=1, request=request("slow"))
    assert status.startswith("Time budget reached: stopped at step 1/200")
    assert Image.open(path).size == (32, 21)


def test_restoring_a_png_puts_its_settings_back_into_the_controls(tmp_path):
    options = StyleOptions(size=96, steps=7, scales=2, content_layer="relu3_2",
                           style_layers={"relu2_1": 0.5, "relu4_1": 1.0}, beta=1e6, tv_weight=0.5, init="noise",
                           optimizer="adam", learning_rate=0.05, style_scale=0.5, preserve_color=True, seed=7,
                           style_blend=(0.25, 0.75))
    path = save_png(tmp_path / "made.png", np.zeros((8, 8, 3), np.uint8), options, load_vgg19().identity)
    *values, preset, message = stylize_tab.restore_settings(str(path))
    controls = dict(zip(stylize_tab.SETTING_NAMES, values))
    assert message == "Restored the settings of made.png." and preset == "Custom"
    blend = [controls.pop(k) for k in ("style_weight", "style_2_weight", "style_3_weight")]
    assert blend == [0.25, 0.75, 1.0]
    rebuilt = build_options(**{("style_strength" if k == "strength" else k): v for k, v in controls.items()},
                            blend=blend[:2])
    assert rebuilt.to_dict() == options.to_dict()


def test_restoring_notes_what_the_app_cannot_reproduce_and_refuses_plain_pngs(tmp_path):
    options = StyleOptions(pooling="avg", size=3000, steps=0, style_blend=(2.0, 6.0), step_ratio=0.5)
    odd = save_png(tmp_path / "odd.png", np.zeros((8, 8, 3), np.uint8), options, "other-weights")
    *values, preset, message = stylize_tab.restore_settings(str(odd))
    controls = dict(zip(stylize_tab.SETTING_NAMES, values))
    assert "pooling='avg' is fixed to 'max' here" in message and "other VGG19 weights (other-weights)" in message
    assert "step_ratio=0.5 is fixed to 2.0 here" in message
    assert "size=3000 is outside the app's 32–2048" in message and "steps=0 is outside the app's 1–1000" in message
    assert (controls["size"], controls["steps"]) == (2048, 1)
    assert [controls[k] for k in ("style_weight", "style_2_weight", "style_3_weight")] == [0.25, 0.75, 1.0]
    plain, broken = tmp_path / "plain.png", tmp_path / "broken.png"
    Image.new("RGB", (8, 8)).save(plain)
    broken.write_bytes(b"not a png")
    for path, expected in ((plain, "plain.png carries no settings"),
                           (broken, "broken.png: not a PNG whose settings can be read")):
        with pytest.raises(gr.Error) as info:
            stylize_tab.restore_settings(str(path))
        assert info.value.message.startswith(expected)


def test_presets_set_size_steps_and_scales_and_the_radio_follows_them(tmp_path):
    for name, preset in PRESETS.items():
        assert stylize_tab.preset_values(name) == (preset["size"], preset["steps"], preset["scales"])
        assert stylize_tab.preset_of(preset["size"], preset["steps"], preset["scales"]) == name
    assert stylize_tab.preset_of(512, 13, 4) == "Custom"
    balanced = save_png(tmp_path / "b.png", np.zeros((8, 8, 3), np.uint8), StyleOptions(**PRESETS["Balanced"]),
                        load_vgg19().identity)
    assert stylize_tab.restore_settings(str(balanced))[-2] == "Balanced"


def test_the_default_style_strength_gives_back_the_default_beta_exactly():
    strength = inspect.signature(stylize_tab.stylize).parameters["strength"].default  # the slider's start too
    options = build_options(size=64, steps=1, scales=1, content_layer="relu4_2", style_layers="relu1_1",
                            style_strength=strength, tv_weight=0, init="content", optimizer="lbfgs",
                            learning_rate=0.02, style_scale=1, preserve_color=False, seed=0, blend=[1.0])
    assert (options.alpha, options.beta) == (StyleOptions().alpha, StyleOptions().beta)




def test_cost_plot_marks_stages_and_skips_zeros_and_diverged_steps():
    history = CostHistory()
    for step, stage in ((1, 0), (2, 0), (3, 1), (4, 1)):
        J = float("nan") if step == 4 else 5.0
        history.add(step, stage, J_content=2.0, J_style=0.0 if step == 1 else 3.0, J=J, alpha=1.0, beta=10.0)
    assert history.stage_starts == [3] and history.style == [0.0, 30.0, 30.0, 30.0]
    ax = cost_figure(history).axes[0]
    assert ax.get_yscale() == "log"
    assert [list(line.get_xdata()) for line in ax.lines[:3]] == [[1, 2, 3, 4], [2, 3, 4], [1, 2, 3]]
    assert list(ax.lines[3].get_xdata()) == [3, 3]  # the stage marker


def test_job_errors_become_sentences_and_a_new_job_stops_the_old(caplog):
    board = jobs.JobBoard()

    def failing(job):
        yield "first"
        raise RuntimeError("CUDA error: illegal memory access at /srv/app/nst_core/vgg.py:88")

    relay = explained("stylizing")(board.run)("k", failing)
    assert next(relay) == "first"
    with pytest.raises(gr.Error) as info:
        next(relay)
    message = info.value.message
    assert message.startswith("Something went wrong while stylizing; it has been logged on the server.")
    assert "RuntimeError" not in message and "/srv" not in message and "CUDA" not in message
    assert "CUDA error" in caplog.text and "Traceback" in caplog.text  # the detail is in the server log

    def endless(job):
        while not job.stop_event.is_set():
            yield "tick"
            time.sleep(0.01)

    first = board.run("k", endless)
    next(first)
    old = board._jobs["k"]
    second = board.run("k", endless)
    next(second)
    assert old.finished.wait(5) and not board._jobs["k"].finished.is_set()
    first.close()
    second.close()


def test_result_files_older_than_an_hour_are_deleted_when_a_new_one_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "RESULTS_DIR", tmp_path / "results")
    first = images.result_path("stylized")
    first.write_bytes(b"png")
    old = images.RESULTS_DIR / "conv1_1-unit0-00000000.png"
    old.write_bytes(b"png")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old, (two_hours_ago, two_hours_ago))
    second = images.result_path("conv3_1-unit7")
    assert second.parent == first.parent and second.name.startswith("conv3_1-unit7-") and second != first
    assert first.exists() and not old.exists()  # an hour's results stay, older ones of any kind go
