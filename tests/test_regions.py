"""Regional style (Gatys et al. 2017, §4): the mask format, the guided Gram cost, and a left/right stylization whose
halves take their own styles; the path without regions is the seeds' cost, unchanged."""
import numpy as np
import pytest
import torch
from PIL import Image

from nst_core import StyleOptions, StyleTransfer
from nst_core.checks import InputError
from nst_core.cli import main
from nst_core.losses import guided_layer_style_cost, layer_style_cost, gram_matrix
from nst_core.metadata import read_regions, read_settings
from nst_core.regions import check_regions, fit_labels, guidance, labels_from_png_text, labels_to_png_text, mask_labels

H = W = 96


def synthetic():
    """A grey-ramp content, red stripes, blue dots and a left (red) / right (blue) mask."""
    y, x = np.mgrid[:H, :W]
    content = np.stack([100 + x, np.full_like(x, 128), 100 + y], axis=2).astype(np.uint8)
    stripes = np.full((H, W, 3), 255, np.uint8)
    stripes[(x // 6) % 2 == 0] = (220, 20, 20)
    dots = np.full((H, W, 3), 255, np.uint8)
    dots[(x % 12 - 6) ** 2 + (y % 12 - 6) ** 2 < 12] = (20, 20, 220)
    mask = np.zeros((H, W, 3), np.uint8)
    mask[:, :W // 2] = (255, 0, 0)
    mask[:, W // 2:] = (0, 0, 255)
    return content, stripes, dots, mask


def red_minus_blue(rgb):
    return float(rgb[..., 0].astype(float).mean() - rgb[..., 2].astype(float).mean())


def test_each_half_takes_its_own_style():
    content, stripes, dots, mask = synthetic()
    options = StyleOptions(size=96, steps=15, scales=1, beta=1e4, region_styles=(1, 0, 2))  # 4 x 15 steps: a strong style
    out = StyleTransfer(options).stylize(content, [stripes, dots], regions=mask_labels(mask))
    left, right = red_minus_blue(out[:, :W // 2]), red_minus_blue(out[:, W // 2:])
    # the content is bluer on the left (-24) and redder on the right (+24): the styles must turn that round (G is
    # kept in [0, 1] while it is optimised, so the swing is of colours a picture can show)
    assert left - right >= 20, (left, right)
    assert left > 10 and right < -5, (left, right)


def test_one_region_covering_everything_is_the_seeds_cost():
    gen = torch.Generator().manual_seed(0)
    a_G, a_S = torch.rand(1, 8, 6, 5, generator=gen), torch.rand(1, 8, 6, 5, generator=gen)
    masks = torch.zeros(4, 6, 5)
    masks[2] = 1.0  # all of G is region 2
    targets = [[], [], [(1.0, gram_matrix(a_S))], []]
    assert float(guided_layer_style_cost(targets, a_G, masks)) == pytest.approx(float(layer_style_cost(a_S, a_G)),
                                                                                  rel=1e-5)


def test_without_regions_the_pixels_are_the_plain_costs(tiny_pair):
    content, style = tiny_pair
    options = StyleOptions(size=48, steps=3, scales=1)
    plain = StyleTransfer(options).stylize(content, [style])
    everywhere = np.ones(content.shape[:2], np.uint8)  # region 1 (red) covers all, taking the one style
    guided = StyleTransfer(StyleOptions(size=48, steps=3, scales=1, region_styles=(1,))).stylize(
        content, [style], regions=everywhere)
    again = StyleTransfer(options).stylize(content, [style])
    assert np.array_equal(plain, again)  # deterministic
    assert np.abs(plain.astype(int) - guided.astype(int)).mean() < 1.0  # the same cost, another summation order


def test_mask_format_and_its_errors():
    mask = np.zeros((4, 6, 4), np.uint8)
    mask[0, :2] = (250, 10, 0, 255)   # red, a soft edge still counts
    mask[1, :2] = (0, 200, 0, 255)    # green
    mask[2, :2] = (0, 0, 255, 255)    # blue
    mask[3, :2] = (255, 0, 0, 0)      # transparent red: the rest
    mask[:, 2:] = (255, 255, 255, 255)  # white: the rest
    assert mask_labels(mask)[:, 0].tolist() == [1, 2, 3, 0] and not mask_labels(mask)[:, 2:].any()
    mask[0, 5] = (255, 255, 0, 255)
    with pytest.raises(InputError, match="yellow pixels .* in red, green and blue only"):
        mask_labels(mask)
    labels = np.zeros((10, 10), np.uint8)
    labels[:, :5] = 2
    with pytest.raises(InputError, match="green region is painted but has no style image"):
        check_regions(labels, (1, 0, 0), 2)
    with pytest.raises(InputError, match="green region has no style image .* takes style image 2, and 1 was given"):
        check_regions(labels, (), 1)
    with pytest.raises(InputError, match="red region has a style image but no painted pixels"):
        check_regions(labels, (1, 2), 2)
    resized, said = fit_labels(labels, 20, 30)
    assert resized.shape == (20, 30) and set(np.unique(resized)) == {0, 2} and "resized" in said
    assert np.array_equal(labels_from_png_text(labels_to_png_text(labels), 10_000), labels)
    with pytest.raises(InputError, match="damaged"):
        labels_from_png_text("bm90IGEgcG5n", 10_000)
    g = guidance(labels, 5, 5)
    assert g.shape == (4, 5, 5) and torch.allclose(g.sum(0), torch.ones(5, 5))


def test_cli_regions_mask_resized_stored_and_bad_masks(tmp_path, pair, capsys):
    content, style = pair
    mask = np.zeros((20, 30, 3), np.uint8)
    mask[:, :15] = (255, 0, 0)
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out.png"
    assert main([content, style, style, "--regions", str(tmp_path / "mask.png"), "--size", "48", "--steps", "2",
                 "--scales", "1", "-o", str(out), "--quiet"]) == 0
    assert "was resized to the content's 80×53 px" in capsys.readouterr().err
    labels = read_regions(out)
    assert labels.shape == (53, 80) and set(np.unique(labels)) == {0, 1}
    assert read_settings(out)[0].region_styles == ()
    (tmp_path / "bad.png").write_text("no image")
    mask[0, 0] = (0, 255, 255)
    Image.fromarray(mask).save(tmp_path / "cyan.png")
    for bad, said in (("bad.png", "not an image"), ("cyan.png", "cyan pixels")):
        assert main([content, style, "--regions", str(tmp_path / bad), "--size", "48", "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err


def test_reproduce_paints_the_stored_regions_back(tmp_path, pair):
    from nst_studio.stylize_settings import painted_labels
    from nst_studio.stylize_tab import regions_view, restore_regions
    content, style = pair
    mask = np.zeros((53, 80, 3), np.uint8)
    mask[:20] = (0, 255, 0)
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out.png"
    assert main([content, style, style, "--regions", str(tmp_path / "mask.png"), "--size", "32", "--steps", "1",
                 "--scales", "1", "-o", str(out), "--quiet"]) == 0
    editor, restored = restore_regions(str(out), content)
    assert editor["background"].shape == (53, 80, 3) and editor["layers"] == []
    assert np.array_equal(painted_labels(editor, restored), mask_labels(mask))
    more = np.zeros((53, 80, 4), np.uint8)
    more[-5:, -5:] = (255, 0, 0, 255)  # red painted over the rest
    again = painted_labels({"layers": [more]}, restored)
    assert again[-1, -1] == 1 and np.array_equal(again[:20], mask_labels(mask)[:20])
    seen = regions_view(editor, restored)
    assert seen.shape == (53, 80, 3) and tuple(seen[0, 0]) != tuple(seen[-1, -1])  # green region vs grey rest


def test_each_region_starts_in_its_own_styles_colours():
    """The palette start (the default init) gives each painted region its own style's colours, the rest the blend's
    (all the way: the start as given, without the balance's palette weight)."""
    content, stripes, dots, mask = synthetic()
    options = StyleOptions(size=96, steps=0, scales=1, region_styles=(1, 0, 2), palette_start=1.0,
                           near_style_gain=False)
    out = StyleTransfer(options).stylize(content, [stripes, dots], regions=mask_labels(mask))
    colours = [stripes.reshape(-1, 3).mean(0), dots.reshape(-1, 3).mean(0)]
    for half, own in ((out[:, :W // 2], 0), (out[:, W // 2:], 1)):
        mean = half.reshape(-1, 3).mean(0)
        near, other = (np.abs(mean - colours[i]).max() for i in (own, 1 - own))
        assert near < 15 and near < other / 3, (mean, colours)
