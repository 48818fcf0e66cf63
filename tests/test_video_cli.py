"""The command line with a clip as the content: MP4 and GIF out, bounds, the estimate, bad clips (exit 2, one line,
nothing written), and a stopped run continued by the same command."""
import os
import signal
import subprocess
import sys

import pytest
from PIL import Image

from nst_core.cli import main
from nst_core.video.frames import read_clip
from video_clips import write_pan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = ["--size", "48", "--steps", "2", "--scales", "1"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "nst_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def clip(tmp_path, tiny_pair):
    style = tmp_path / "style.png"
    Image.fromarray(tiny_pair[1]).save(style)
    write_pan(tmp_path / "clip.mp4", tiny_pair[0], 4, fps=12)
    return str(tmp_path / "clip.mp4"), str(style)


def test_clip_to_mp4_and_gif(clip, tmp_path, capsys):
    for name in ("out.mp4", "out.gif"):
        out = tmp_path / name
        if name.endswith(".mp4"):  # the command itself, in a process of its own
            r = cli(*clip, "-o", str(out), *FAST)
            assert r.returncode == 0, r.stderr
            stderr = r.stderr
        else:
            assert main([*clip, "-o", str(out), *FAST]) == 0
            stderr = capsys.readouterr().err
        assert "frame 4/4" in stderr and "left" in stderr
        back = read_clip(str(out), 48)
        assert len(back.frames) == 4 and back.frames[0].shape == (32, 48, 3) and back.fps == pytest.approx(12, rel=0.05)  # GIF: 1/100 s steps
    assert not (tmp_path / "out.partial.npz").exists()


def test_bounds_fps_and_dry_run(clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert main([*clip, "-o", str(out), *FAST, "--max-frames", "2", "--fps", "6", "--quiet"]) == 0
    back = read_clip(str(out), 48)
    assert len(back.frames) == 2 and back.fps == pytest.approx(6)
    capsys.readouterr()
    assert main([*clip, "-o", str(tmp_path / "plan.mp4"), *FAST, "--seconds", "0.25", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("3 frames at 48×32 px: ")
    assert not (tmp_path / "plan.mp4").exists()


@pytest.mark.parametrize("make,output,message", [
    (lambda p: p.write_text("just text"), "out.mp4", "not a video file"),
    (lambda p: p.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200), "out.mp4", "corrupt or truncated"),
    (None, "out.png", "the output must be a .mp4 file"),
    (None, "out.mp4", "temporal weight must be a number from 0"),
])
def test_bad_clip_input_exits_2_with_one_line(clip, tmp_path, make, output, message):
    content = clip[0]
    if make is not None:
        content = str(tmp_path / "bad.mp4")
        make(tmp_path / "bad.mp4")
    extra = ["--temporal-weight", "-1"] if "temporal" in message else []
    r = cli(content, clip[1], "-o", str(tmp_path / output), *FAST, *extra)
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / output).exists() and not list(tmp_path.glob(".out*"))


def test_a_stopped_run_keeps_its_frames_and_continues(tmp_path, tiny_pair):
    style = tmp_path / "style.png"
    Image.fromarray(tiny_pair[1]).save(style)
    write_pan(tmp_path / "long.mp4", tiny_pair[0], 8, fps=12)
    out = tmp_path / "out.mp4"
    args = [str(tmp_path / "long.mp4"), str(style), "-o", str(out), "--size", "48", "--steps", "3", "--scales", "1",
            "--frame-steps", "6"]
    proc = subprocess.Popen([sys.executable, "-m", "nst_core", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "frame 3/8" not in seen:  # two frames done: Ctrl-C
        char = proc.stderr.read(1)
        assert char, seen
        seen += char
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=120)[1]
    assert proc.returncode == 0, rest
    assert "stopped:" in rest and "the same command continues" in rest
    done = len(read_clip(str(out), 48).frames)
    assert 2 <= done < 8 and (tmp_path / "out.partial.npz").exists()
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    assert f"continuing from {tmp_path / 'out.partial.npz'} ({done} of 8 frames done)" in r.stderr
    assert len(read_clip(str(out), 48).frames) == 8 and not (tmp_path / "out.partial.npz").exists()
