"""Colour control (Gatys et al., 2017, *Controlling Perceptual Factors in Neural Style Transfer*, §5).

Luminance-only transfer: the style image is turned into its luminance, matched in mean and spread to the content's
luminance; the result keeps the stylized luminance and takes the content's chroma (YCbCr, ITU-R BT.601).

Colour matching: the linear Monge–Kantorovich mapping (Pitié & Kokaram, 2007) moves one image's colours to another's
mean and covariance; "palette only" gives the content the style's colours, and the second method of Gatys et al.
gives the style the content's colours before stylizing.
"""
from __future__ import annotations

import torch

_Y = torch.tensor([0.299, 0.587, 0.114])


def luminance(rgb01: torch.Tensor) -> torch.Tensor:
    """Y = 0.299 R + 0.587 G + 0.114 B of a batch ``(N, 3, H, W)`` -> ``(N, 1, H, W)``."""
    return (rgb01 * _Y.to(rgb01).view(1, 3, 1, 1)).sum(1, keepdim=True)


def match_luminance(style01: torch.Tensor, content01: torch.Tensor) -> torch.Tensor:
    """The style as a grey RGB image whose luminance has the content's mean and standard deviation."""
    y_s, y_c = luminance(style01), luminance(content01)
    y = (y_s - y_s.mean()) / (y_s.std() + 1e-6) * y_c.std() + y_c.mean()
    return y.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()


def keep_content_colors(generated01: torch.Tensor, content01: torch.Tensor) -> torch.Tensor:
    """The generated luminance with the content's chroma: RGB = Y_G + (content RGB - Y_C)."""
    return (luminance(generated01) + content01 - luminance(content01)).clamp(0, 1)


def _sqrtm(m: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric positive semi-definite 3 x 3 matrix (eigenvalues below 0 -> 0)."""
    values, vectors = torch.linalg.eigh(m)
    return vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T


STATISTICS_CHUNK = 1 << 20  # pixels summed at a time: a print's statistics need no float64 copy of it


def colour_statistics(rgb01: torch.Tensor, weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean mu (3,) and covariance Sigma = E[x x^T] - mu mu^T (3 x 3) of the pixels of ``(1, 3, H, W)``, each pixel
    counted with its ``weights`` (``(H, W)``, e.g. a region's share of it; default 1), summed in float64 a chunk of
    pixels at a time."""
    x = rgb01.detach().reshape(3, -1)
    w = (torch.ones(x.shape[1], dtype=x.dtype, device=x.device) if weights is None
         else weights.detach().reshape(-1).to(x))
    total = torch.zeros(3, dtype=torch.float64, device=x.device)
    outer = torch.zeros(3, 3, dtype=torch.float64, device=x.device)
    for chunk, w_chunk in zip(x.split(STATISTICS_CHUNK, dim=1), w.split(STATISTICS_CHUNK)):
        chunk = chunk.double()
        weighted = chunk * w_chunk.double()
        total += weighted.sum(1)
        outer += weighted @ chunk.T
    n = float(w.double().sum())
    mu = total / n
    return mu, outer / n - torch.outer(mu, mu)


def match_colors(source01: torch.Tensor, target01: torch.Tensor, rounds: int = 3,
                 weights: torch.Tensor | None = None) -> torch.Tensor:
    """``source`` with the colour mean and covariance of ``target``: ``monge_kantorovich`` then clipping to [0, 1],
    ``rounds`` times (clipping pulls the statistics back a little; mapping the clipped image again restores them).
    With ``weights`` the source's statistics are those of the pixels weighted so (a region)."""
    out = source01
    for _ in range(rounds):
        out = monge_kantorovich(out, target01, weights=weights).clamp_(0, 1)
    return out.to(source01.dtype)


def monge_kantorovich(source01: torch.Tensor, target01: torch.Tensor, eps: float = 1e-5,
                      weights: torch.Tensor | None = None) -> torch.Tensor:
    """The linear Monge–Kantorovich colour map of ``source`` onto ``target``'s statistics (not clipped):

        x' = A (x - mu_s) + mu_t,   A = Sigma_s^-1/2 (Sigma_s^1/2 Sigma_t Sigma_s^1/2)^1/2 Sigma_s^-1/2,

    the affine map with A Sigma_s A = Sigma_t that moves the pixels least (Pitié & Kokaram, 2007); ``eps`` I is added
    to Sigma_s so a flat source stays invertible. ``weights``: the source pixels' weights in its statistics. A is
    found in float64 and applied in float32."""
    mu_s, sigma_s = colour_statistics(source01, weights)
    mu_t, sigma_t = (v.to(mu_s.device) for v in colour_statistics(target01))
    sigma_s = sigma_s + eps * torch.eye(3, dtype=sigma_s.dtype, device=sigma_s.device)
    root = _sqrtm(sigma_s)
    inv_root = torch.linalg.inv(root)
    A = inv_root @ _sqrtm(root @ sigma_t @ root) @ inv_root
    x = source01.float().reshape(3, -1)
    return (A.float() @ x).add_((mu_t - A @ mu_s).float()[:, None]).reshape(source01.shape)
