"""J(G) and its gradient, exact, one tile of the picture at a time: memory bounded by the tile, not the picture.

Why it is exact. A feature a_l(y, x) of layer l depends only on the input pixels in its receptive field, rows
y J_l - P_l ... y J_l - P_l + R_l - 1 (``receptive_field``). Cut the picture into cores on the 16 px grid of VGG19's
four poolings and give each core a halo of ``halo`` >= R - P - J pixels (rounded up to 16) on every side that is
not the picture's edge: every feature of the core then sees exactly the pixels it sees in the whole picture, and
zero padding at the halo's outer edge reaches no core feature. Grid alignment keeps every 2 x 2 max pool's windows
where they are in the whole picture. So the core features of all tiles are the untiled features, each exactly once.

The costs are sums over positions, so they add up over the cores:

    G_l = sum_tiles F_core F_core^T                       (each style layer's Gram, pass 1)
    J_content = sum_tiles 1/2 ||a^(C)_core - a^(G)_core||^2

and J_style^[l] = c_l ||G^(S)_l - G_l||_F^2 with c_l = 1 / (2 n_H n_W n_C)^2 needs only the whole Gram. Its gradient
with respect to the core features is local once G_l is known (pass 2):

    dJ_style^[l] / dF_core = 4 c_l (G_l - G^(S)_l) F_core,     dJ_content / da_core = a^(G)_core - a^(C)_core,

so each tile runs forward and backward on its own with these gradients fed in at its core features (zero on the
halo's), and the image gradients of all tiles, halos included, add up to dJ/dG of the whole picture.

Pass 2 needs each tile's forward graph. Where the memory budget holds the graphs of ``keep`` tiles, pass 1 runs
those tiles with gradients and keeps their graphs, so pass 2 runs only the backward for them; the other tiles run
forward twice. The TV term and its gradient are summed over strips of rows (``strip_total_variation``), so no
whole-picture temporary is made.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from .losses import unrolled
from .receptive_field import receptive_field

GRID = 16  # VGG19's four 2 x 2 poolings: tiles start on multiples of 16 px


@dataclass(frozen=True)
class Tile:
    """A core ``[top, bottom) x [left, right)`` of the picture and the input window around it (core + halo, clipped
    to the picture), in picture pixels."""

    top: int
    bottom: int
    left: int
    right: int
    in_top: int
    in_bottom: int
    in_left: int
    in_right: int

    def window(self, image: torch.Tensor) -> torch.Tensor:
        return image[..., self.in_top:self.in_bottom, self.in_left:self.in_right]

    def core(self, a: torch.Tensor, jump: int, last_row: bool, last_col: bool) -> tuple[slice, slice]:
        """The core's rows and columns in a feature map of the window with stride ``jump`` (to the map's end for a
        core on the picture's bottom or right edge, where the poolings floor as in the whole picture)."""
        r0, c0 = (self.top - self.in_top) // jump, (self.left - self.in_left) // jump
        r1 = a.shape[-2] if last_row else (self.bottom - self.in_top) // jump
        c1 = a.shape[-1] if last_col else (self.right - self.in_left) // jump
        return slice(r0, r1), slice(c0, c1)


def halo_for(layers: Sequence[str]) -> int:
    """The halo the deepest of ``layers`` needs: max over layers of R - P - J and P, rounded up to the 16 px grid."""
    need = max(max(f.size - f.padding - f.jump, f.padding) for f in map(receptive_field, layers))
    return GRID * math.ceil(need / GRID)


def split(height: int, width: int, tile: int, halo: int) -> list[Tile]:
    """Cores of at most ``tile`` px (a multiple of 16) covering ``height x width``, each with its window."""
    def spans(n: int) -> list[tuple[int, int]]:
        edges = list(range(0, n, tile)) + [n]
        return list(zip(edges[:-1], edges[1:]))
    return [Tile(t, b, l, r, max(0, t - halo), min(height, b + halo), max(0, l - halo), min(width, r + halo))
            for t, b in spans(height) for l, r in spans(width)]


def stride_of(layer: str) -> int:
    return receptive_field(layer).jump


FeatureFn = Callable[[torch.Tensor, list[str]], dict[str, torch.Tensor]]


def tiled_targets(features: FeatureFn, image: torch.Tensor, layers: Sequence[str], gram_layers: Sequence[str],
                  tile: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Pass 1 over ``image`` without gradients: the whole picture's Gram matrices at ``gram_layers`` (sums over the
    tiles' cores, float32) and the whole feature maps of ``layers`` (pasted together from the cores, in the features'
    precision)."""
    wanted = sorted(set(layers) | set(gram_layers))
    H, W = image.shape[-2:]
    tiles = split(H, W, tile, halo_for(wanted))
    grams: dict[str, torch.Tensor] = {}
    maps: dict[str, list[list[torch.Tensor]]] = {l: [] for l in layers}
    with torch.no_grad():
        for t in tiles:
            acts = features(t.window(image), wanted)
            for l in wanted:
                rs, cs = t.core(acts[l], stride_of(l), t.bottom == H, t.right == W)
                core = acts[l][..., rs, cs]
                if l in gram_layers:
                    F = unrolled(core.float())
                    grams[l] = grams.get(l, 0) + F @ F.T
                if l in maps:
                    if t.left == 0:  # tiles come row by row: a new row of cores
                        maps[l].append([])
                    maps[l][-1].append(core)
    return grams, {l: torch.cat([torch.cat(row, dim=-1) for row in v], dim=-2) for l, v in maps.items()}


def tiled_costs(features: FeatureFn, G: torch.Tensor, a_C: torch.Tensor, content_layer: str,
                style_grams: Sequence[dict], blend: Sequence[float], style_layers: dict[str, float],
                alpha: float, beta: float, tv_weight: float, tile: int,
                progress: Callable[[str], None] | None = None, keep: int = 0) -> dict[str, float]:
    """J_content, J_style, TV and J of the whole picture ``G`` with dJ/dG left in ``G.grad``, one tile at a time
    (pass 1: the Grams and J_content; pass 2: each tile's backward with the global Gram differences). The first
    ``keep`` tiles keep their pass-1 graph for pass 2; the others run forward again. ``progress(text)`` hears which
    pass and tile is running."""
    layers = sorted({content_layer, *style_layers})
    H, W = G.shape[-2:]
    tiles = split(H, W, tile, halo_for(layers))
    grams: dict[str, torch.Tensor] = {}
    kept: dict[int, tuple[torch.Tensor, dict[str, torch.Tensor]]] = {}
    J_content = 0.0
    for i, t in enumerate(tiles):
        if progress is not None:
            progress(f"pass 1, tile {i + 1}/{len(tiles)}")
        window = t.window(G).detach().requires_grad_(i < keep)
        with torch.set_grad_enabled(i < keep):
            acts = features(window, layers)
        if i < keep:
            kept[i] = window, acts
        with torch.no_grad():
            for l in layers:
                rs, cs = t.core(acts[l], stride_of(l), t.bottom == H, t.right == W)
                core = acts[l][..., rs, cs].float()
                if l in style_layers:
                    F = unrolled(core)
                    grams[l] = grams.get(l, 0) + F @ F.T
                if l == content_layer:
                    rs_c, cs_c = content_slices(t, a_C, core, stride_of(l))
                    J_content += 0.5 * float((a_C[..., rs_c, cs_c] - core).pow(2).sum())
        del acts
    # dJ/dG_l of J = alpha J_content + beta sum_S w_S sum_l lambda_l c_l ||G_S - G_l||^2
    J_style, dG = 0.0, {}
    for l, lam in style_layers.items():
        c = 1.0 / (2.0 * sizes_of(l, H, W) * grams[l].shape[0]) ** 2
        diff = sum(w * (grams[l] - s[l].float()) for w, s in zip(blend, style_grams))
        J_style += lam * c * sum(w * float((s[l].float() - grams[l]).pow(2).sum()) for w, s in zip(blend, style_grams))
        dG[l] = beta * lam * c * 4.0 * diff  # dJ/dF_core = dG[l] @ F_core
    grad = torch.zeros_like(G)
    for i, t in enumerate(tiles):
        if progress is not None:
            progress(f"pass 2, tile {i + 1}/{len(tiles)}")
        if i in kept:
            window, acts = kept.pop(i)
        else:
            window = t.window(G).detach().requires_grad_(True)
            acts = features(window, layers)
        outs, grads = [], []
        for l in layers:
            a = acts[l]
            rs, cs = t.core(a, stride_of(l), t.bottom == H, t.right == W)
            core = a[..., rs, cs].float()
            g_core = torch.zeros_like(core)
            if l in dG:
                _, n_C, h, w = core.shape
                g_core += (dG[l] @ core.reshape(n_C, h * w)).reshape(1, n_C, h, w)
            if l == content_layer:
                rs_c, cs_c = content_slices(t, a_C, core, stride_of(l))
                g_core += alpha * (core - a_C[..., rs_c, cs_c])
            g = torch.zeros_like(a)  # in a's precision and layout: no float32 map of the whole window
            g[..., rs, cs] = g_core
            outs.append(a)
            grads.append(g)
        torch.autograd.backward(outs, grads)
        del outs, grads, acts
        grad[..., t.in_top:t.in_bottom, t.in_left:t.in_right] += window.grad
    J_tv = strip_total_variation(G.detach(), grad, tv_weight)
    G.grad = grad
    J = alpha * J_content + beta * J_style + tv_weight * J_tv
    return {"J_content": J_content, "J_style": J_style, "J_tv": J_tv, "J": J}


def strip_total_variation(G: torch.Tensor, grad: torch.Tensor, weight: float, rows: int = 256) -> float:
    """TV(G) = sum_ij (G_i+1,j - G_i,j)^2 + (G_i,j+1 - G_i,j)^2 (``losses.total_variation``), ``rows`` rows at a
    time, adding weight dTV/dG into ``grad``: with d = G_i+1,j - G_i,j, dTV/dG_i+1,j += 2 d and dTV/dG_i,j -= 2 d
    (and so along j)."""
    H = G.shape[-2]
    tv = 0.0
    for r0 in range(0, H, rows):
        r1 = min(H, r0 + rows)
        x = G[..., r0:r1, :].float()
        dx = x[..., :, 1:] - x[..., :, :-1]
        tv += float(dx.pow(2).sum())
        grad[..., r0:r1, 1:] += 2 * weight * dx
        grad[..., r0:r1, :-1] -= 2 * weight * dx
        below = min(r1 + 1, H)  # vertical differences: each row of the strip to the row below it
        y = G[..., r0:below, :].float()
        dy = y[..., 1:, :] - y[..., :-1, :]
        tv += float(dy.pow(2).sum())
        grad[..., r0 + 1:below, :] += 2 * weight * dy
        grad[..., r0:below - 1, :] -= 2 * weight * dy
    return tv


def content_slices(t: Tile, a_C: torch.Tensor, core: torch.Tensor, jump: int) -> tuple[slice, slice]:
    """Where a tile's core sits in the whole picture's content-layer map ``a_C``."""
    r0, c0 = t.top // jump, t.left // jump
    return slice(r0, r0 + core.shape[-2]), slice(c0, c0 + core.shape[-1])


def sizes_of(layer: str, height: int, width: int) -> int:
    """n_H n_W of ``layer`` for a ``height x width`` picture (VGG19's 2 x 2 poolings floor)."""
    h, w, jump = height, width, stride_of(layer)
    while jump > 1:
        h, w, jump = h // 2, w // 2, jump // 2
    return h * w
