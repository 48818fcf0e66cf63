"""The Video tab's handlers and the stylize_video tool, in process: the estimate before the start, bad clips as one
sentence (gr.Error), a clip too long for the job budget refused naming the length that fits, and the tool's MP4."""
import re

import gradio as gr
import pytest
from PIL import Image

from nst_core.video.frames import read_clip
from nst_studio import tools, video_tab
from video_clips import write_pan


@pytest.fixture
def inputs(tmp_path, tiny_pair):
    write_pan(tmp_path / "clip.mp4", tiny_pair[0], 4, fps=10)
    Image.fromarray(tiny_pair[1]).save(tmp_path / "style.png")
    return str(tmp_path / "clip.mp4"), str(tmp_path / "style.png")


def test_the_status_says_how_long_before_it_starts(inputs):
    text = video_tab.estimate(*inputs, "Quick", 48, 2.0, 10, 1e10)
    assert re.match(r"Starting: 4 frames at 48×32 px: (about|under) \d+ s \(frame 1 (about|under) \d+ s, then ", text)


def test_bad_clips_are_one_sentence(inputs, tmp_path):
    (tmp_path / "notes.mp4").write_text("hello")
    for video, message in ((str(tmp_path / "notes.mp4"), "notes.mp4: not a video file PyAV can read"),
                           (None, "Please give a video clip")):
        with pytest.raises(gr.Error, match=message):
            list(video_tab.stylize_clip(video, inputs[1], "Quick", 48, 2.0, 10, 1e10))


def test_a_clip_too_long_for_the_budget_names_what_fits(inputs, monkeypatch):
    monkeypatch.setattr(video_tab, "JOB_BUDGET_S", 1e-6)
    with pytest.raises(gr.Error) as refused:
        list(video_tab.stylize_clip(*inputs, "Quick", 48, 2.0, 10, 1e10))
    assert re.fullmatch(r"this clip would take about \d+ s here \(4 frames\), more than the 0 s a job may take; "
                        r"choose at most 0\.1 s, a lower frame rate or a smaller size\.", refused.value.message)


def test_the_tool_returns_the_stylized_mp4(inputs):
    path = tools.stylize_video(*inputs, "Quick", 48, 0.3, 10)
    clip = read_clip(path, 48)
    assert path.endswith(".mp4") and len(clip.frames) == 3 and clip.fps == 10
    assert "stylize_image" in tools.stylize_video.__doc__  # tells an agent when to use which
