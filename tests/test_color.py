"""Colour-only transfer: the linear Monge–Kantorovich map gives the style's colour mean and covariance and keeps the
content's luminance structure; as a start of stylization (Gatys et al. 2017) the style takes the content's colours."""
import os

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from nst_core import StyleOptions, StyleTransfer, load_image
from nst_core.cli import main
from nst_core.color import colour_statistics, luminance, match_colors
from nst_core.images import resize_long_edge
from nst_core.vgg import rgb_to_tensor


@pytest.mark.parametrize("content_name, style_name", [("chelsea.png", "ihc.png"), ("coffee.png", "chelsea.png")])
def test_palette_matches_mean_and_covariance_and_keeps_structure(skimage_dir, content_name, style_name):
    content = rgb_to_tensor(resize_long_edge(load_image(os.path.join(skimage_dir, content_name)), 128))
    style = rgb_to_tensor(resize_long_edge(load_image(os.path.join(skimage_dir, style_name)), 128))
    out = match_colors(content, style)
    (mu_o, cov_o), (mu_s, cov_s) = colour_statistics(out), colour_statistics(style)
    assert torch.abs(mu_o - mu_s).max() < 0.02  # means within 2 % of the range
    assert torch.linalg.norm(cov_o - cov_s) / torch.linalg.norm(cov_s) < 0.1  # covariance within 10 % (Frobenius)
    y_out, y_content = luminance(out)[0, 0].numpy(), luminance(content)[0, 0].numpy()
    assert structural_similarity(y_out, y_content, data_range=1.0) >= 0.8


def test_palette_only_is_the_colour_map_at_the_output_size(tiny_pair):
    content, style = tiny_pair
    out = StyleTransfer(StyleOptions(size=64, palette_only=True)).stylize(content, [style])
    expected = match_colors(rgb_to_tensor(content), rgb_to_tensor(style))
    assert out.shape == content.shape
    assert np.abs(out.astype(int) - (expected[0].permute(1, 2, 0).numpy() * 255).round().astype(int)).max() <= 1


def test_match_style_colors_gives_the_styles_the_contents_palette(tiny_pair):
    content, style = tiny_pair
    st = StyleTransfer(StyleOptions(size=64, match_style_colors=True))
    c, (s,) = st._stage_images(content, [style], 64)
    assert torch.abs(colour_statistics(s)[0] - colour_statistics(c)[0]).max() < 0.04  # 4 % of the range


def test_cli_palette_only(tmp_path, pair, capsys):
    out = tmp_path / "palette.png"
    assert main([*pair, "--palette-only", "--size", "64", "-o", str(out)]) == 0
    assert "the content in the style's colours" in capsys.readouterr().err and out.exists()
    assert main([*pair, "--palette-only", "--preserve-color", "--match-style-colors", "-o", str(out)]) == 2
    assert "choose one" in capsys.readouterr().err


def test_weighted_statistics_are_those_of_the_weighted_pixels():
    """A 0/1 weight map gives the statistics of the pixels it covers; chunking does not change them."""
    import nst_core.color as color
    image = torch.rand(1, 3, 40, 30, generator=torch.Generator().manual_seed(0))
    weights = torch.zeros(40, 30)
    weights[:, :10] = 1
    mu, cov = colour_statistics(image, weights)
    sub = image[..., :10].reshape(3, -1).double()
    assert torch.allclose(mu, sub.mean(1), atol=1e-9)
    assert torch.allclose(cov, torch.cov(sub, correction=0), atol=1e-9)
    chunk, color.STATISTICS_CHUNK = color.STATISTICS_CHUNK, 7
    try:
        assert torch.allclose(colour_statistics(image)[1], torch.cov(image.reshape(3, -1).double(), correction=0))
    finally:
        color.STATISTICS_CHUNK = chunk
