"""benchmarks/bench_quality.py's rules and pictures: the look target against the recipe before, the time to a goal
look, the contact sheet."""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_quality  # noqa: E402


def test_the_look_holds_within_five_percent_or_two_hundredths_and_jc_within_a_quarter():
    before = {"Js@1": 0.10, "Js@2": 0.50, "Js@4": 0.20, "colour": 0.30, "Jc": 100.0}
    same = bench_quality.look_holds(dict(before), before)
    assert all(same.values()) and set(same) == {"Js@1", "Js@2", "Js@4", "colour", "Jc"}
    edge = {"Js@1": 0.12, "Js@2": 0.525, "Js@4": 0.22, "colour": 0.315, "Jc": 125.0}  # + 0.02 or x 1.05, x 1.25
    assert all(bench_quality.look_holds(edge, before).values())
    worse = {"Js@1": 0.121, "Js@2": 0.53, "Js@4": 0.2, "colour": 0.3, "Jc": 126.0}
    assert bench_quality.look_holds(worse, before) == {"Js@1": False, "Js@2": False, "Js@4": True, "colour": True,
                                                      "Jc": False}


def test_the_time_to_a_look_is_the_first_snapshot_with_all_four_shares_at_or_below_it():
    goal = {"Js@1": 0.2, "Js@2": 0.2, "Js@4": 0.2, "colour": 0.2}
    trace = [{"seconds": 1.0, "Js@1": 0.1, "Js@2": 0.1, "Js@4": 0.3, "colour": 0.1},
             {"seconds": 2.0, "Js@1": 0.2, "Js@2": 0.1, "Js@4": 0.2, "colour": 0.2},
             {"seconds": 3.0, "Js@1": 0.1, "Js@2": 0.1, "Js@4": 0.1, "colour": 0.1}]
    assert bench_quality.first_reaching(trace, goal) == 2.0
    assert bench_quality.first_reaching(trace[:1], goal) is None


def test_the_contact_sheet_has_a_row_per_pair_and_a_column_per_run(tmp_path):
    red, blue = np.zeros((200, 400, 3), np.uint8), np.zeros((300, 300, 3), np.uint8)
    red[..., 0], blue[..., 2] = 255, 255
    pictures = {("a/b", "Quick before"): red, ("a/b", "Quick now"): blue, ("c/d", "Quick now"): red}
    path = tmp_path / "sheet.png"
    bench_quality.contact_sheet(pictures, path, {"a/b": [("content", blue)], "c/d": [("content", red)]})
    sheet = np.asarray(Image.open(path))
    t = bench_quality.THUMB
    assert sheet.shape == (2 * t, 3 * t, 3)
    assert tuple(sheet[t // 2, t + t // 2]) == (255, 0, 0) and tuple(sheet[t // 2, 2 * t + t // 2]) == (0, 0, 255)
    assert tuple(sheet[t + t // 2, t + t // 2]) == (255, 255, 255)  # c/d has no "Quick before": a blank tile
    assert tuple(sheet[t + t // 2, 2 * t + t // 2]) == (255, 0, 0)


def test_the_pairs_cover_pale_busy_dark_and_bright_styles_from_scikit_image(skimage_dir):
    kinds = " ".join(what for _, _, what in bench_quality.PAIRS)
    assert len(bench_quality.PAIRS) >= 8 and all(k in kinds for k in ("pale", "busy", "dark", "bright"))
    for content, style, _ in bench_quality.PAIRS:
        assert (Path(skimage_dir) / content).exists() and (Path(skimage_dir) / style).exists()


def test_a_variant_is_checked_before_any_run(capsys):
    import pytest

    for change, said in (("bogus=1", "unknown setting 'bogus'"), ("steps=x", "steps must be a whole number")):
        with pytest.raises(SystemExit) as exit_:
            bench_quality.main(["--set", change, "--out", "/nonexistent/never.json"])
        assert exit_.value.code == 2 and said in capsys.readouterr().err
    assert [bench_quality.value_of(t) for t in ("false", "12", "0.5", "relu1_1")] == [False, 12, 0.5, "relu1_1"]
