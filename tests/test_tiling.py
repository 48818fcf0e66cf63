"""Tiled evaluation of J and dJ/dG: exact against the untiled one; the plan before a run; the CLI's --dry-run,
--max-memory, --tile and checkpoints."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

import nst_core.cli as cli
from nst_core import StyleOptions, StyleTransfer
from nst_core.checks import InputError
from nst_core.estimate import plan
from nst_core.metadata import save_png
from nst_core.receptive_field import receptive_field
from nst_core.losses import total_variation
from nst_core.tiling import halo_for, split, strip_total_variation

LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]


@pytest.mark.parametrize("keep", [0, 2, 4])  # tiles whose pass-1 graph serves pass 2 (of 4)
def test_one_tiled_evaluation_equals_the_untiled_one(keep):
    st = StyleTransfer(StyleOptions(size=192, precision="fp32"))
    gen = torch.Generator().manual_seed(0)
    C, S = torch.rand(1, 3, 176, 192, generator=gen), torch.rand(1, 3, 96, 80, generator=gen)
    a_C, grams = st.targets(C, [S])
    a_Ct, grams_t = st.targets(C, [S], tile=96)
    assert torch.allclose(a_C, a_Ct, rtol=1e-5, atol=1e-4 * float(a_C.abs().max()))
    G = torch.rand(1, 3, 176, 192, generator=gen).requires_grad_(True)
    costs = st.costs(G, a_C, grams, [1.0])
    costs["J"].backward()
    exact = G.grad.clone()
    G.grad = None
    tiled = st.tiled_costs(G, a_C, grams, [1.0], tile=96, keep=keep)
    assert tiled["J"] == pytest.approx(float(costs["J"].detach()), rel=1e-4)
    assert tiled["J_content"] == pytest.approx(float(costs["J_content"].detach()), rel=1e-4)
    assert float((G.grad - exact).abs().max() / exact.abs().max()) < 1e-3


@pytest.mark.parametrize("rows", [1, 4, 7, 64])
def test_total_variation_by_strips_equals_the_whole_picture_s(rows):
    G = torch.rand(1, 3, 17, 11, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
    total_variation(G).mul(0.3).backward()
    grad = torch.ones_like(G)  # the strips add to what is there
    tv = strip_total_variation(G.detach(), grad, 0.3, rows=rows)
    assert tv == pytest.approx(float(total_variation(G.detach())), rel=1e-5)
    assert torch.allclose(grad - 1, G.grad, atol=1e-5)


def test_cores_cover_the_picture_once_on_the_16_px_grid():
    halo = halo_for(LAYERS)
    assert halo % 16 == 0 and all(halo >= f.size - f.padding - f.jump for f in map(receptive_field, LAYERS))
    covered = np.zeros((300, 410), int)
    for t in split(300, 410, 128, halo):
        covered[t.top:t.bottom, t.left:t.right] += 1
        assert t.top % 16 == 0 and t.left % 16 == 0 and t.in_top % 16 == 0 and t.in_left % 16 == 0
        assert 0 <= t.in_top <= t.top and t.bottom <= t.in_bottom <= 300 and t.in_bottom - t.bottom <= halo
    assert (covered == 1).all()


def test_the_plan_tiles_when_the_budget_needs_it_and_names_the_size_that_fits():
    o = StyleOptions(size=2048, steps=2, scales=3)
    untiled = plan(o, (1365, 2048), (0.01, 1e-6), 64 * 2**30, "fp32")
    assert untiled.tile is None and untiled.tiles == 1 and untiled.text().startswith("about ")
    tiled = plan(o, (1365, 2048), (0.01, 1e-6), 3 * 2**30, "fp32")
    assert tiled.tile and tiled.tiles > 1 and tiled.peak_bytes <= 3 * 2**30 and "tiled in" in tiled.text()
    assert tiled.seconds > untiled.seconds  # the halos and the second forward pass cost time
    with pytest.raises(InputError, match=r"even tiled; choose a size up to \d+ px"):
        plan(o, (1365, 2048), (0.01, 1e-6), 2**29, "fp32")
    with pytest.raises(InputError, match="smaller than the halo of 80 px"):
        plan(StyleOptions(size=512, tile=48), (512, 512), (0.01, 1e-6), 2**33, "fp32")


def test_dry_run_prints_the_estimate_and_writes_nothing(pair, tmp_path, capsys):
    out = tmp_path / "print.png"
    assert cli.main([*pair, "-o", str(out), "--size", "2048", "--max-memory", "2G", "--dry-run"]) == 0
    said = capsys.readouterr().out
    assert said.startswith("2048x1357 px: about ") and " GB (tiled in " in said and not out.exists()


@pytest.mark.parametrize("flags, said", [
    (["--size", "4096", "--max-memory", "200M"], "choose a size up to"),
    (["--size", "512", "--tile", "64"], "smaller than the halo"),
    (["--size", "512", "--tile", "100"], "multiple of 16"),
    (["--size", "512", "--max-memory", "four gigs"], "max memory must be a size such as 4G"),
])
def test_bad_memory_and_tile_flags_are_one_sentence(pair, tmp_path, capsys, flags, said):
    assert cli.main([*pair, "-o", str(tmp_path / "x.png"), "--dry-run", *flags]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_checkpoint_is_written_and_the_same_command_continues_from_it(pair, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out.png"
    argv = [*pair, "-o", str(out), "--size", "64", "--steps", "3", "--scales", "2", "--tile", "0", "--quiet"]
    argv[-2] = "0"
    monkeypatch.setattr(cli, "CHECKPOINT_EVERY_S", 0.0)
    monkeypatch.setattr(cli.os, "unlink", lambda path: None)  # keep the checkpoint a finished run removes
    assert cli.main(argv) == 0
    partial = tmp_path / "out.partial.png"
    stage, done = json.loads(Image.open(partial).text[cli.CHECKPOINT_KEY])
    assert (stage, done) == (1, 3)  # the last step of the second stage
    monkeypatch.undo()
    options = cli.options_from_args(cli.build_parser().parse_args(argv))
    picture = np.asarray(Image.open(out))
    extra = {"nst:content": "chelsea.png", "nst:styles": "ihc.png", cli.CHECKPOINT_KEY: json.dumps([1, 1])}
    save_png(partial, picture, options, StyleTransfer(options).model.identity, extra=extra)
    assert cli.main([a for a in argv if a != "--quiet"]) == 0
    assert "continuing from" in capsys.readouterr().err and not partial.exists()
    save_png(partial, picture, StyleOptions(size=64, steps=9), "x", extra=extra)  # another run's: not continued
    assert cli.read_checkpoint(str(partial), options, {k: v for k, v in extra.items() if k != cli.CHECKPOINT_KEY}) \
        is None
