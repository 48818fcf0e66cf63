"""Minimise J(G) = alpha J_content + beta J_style (+ tv TV) over the pixels of G.

``StyleTransfer(options).iter_stylize(content, styles)`` yields a ``Progress`` per
optimizer step (and the current image every ``preview_every`` steps); the last
one has ``done=True`` and the best image found. ``stylize`` runs it to the end
and returns that. Set the ``stop`` event to end early with the best image so far.
"""
from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .checks import InputError
from .device import autocast_for, pick_device, platform_cpu, resolve_precision
from .color import keep_content_colors, match_colors, match_luminance
from .estimate import CALIBRATION_SIZES, EvaluationCost, Plan, cached_evaluation_cost, store_evaluation_cost
from .estimate import plan as cost_plan
from .images import resize_long_edge
from .losses import content_cost, gram_matrix, guided_style_cost, style_cost, total_cost, total_variation
from .memory import memory_budget
from .options import (FULL_GAIN_STEPS, GAIN_EDGE, MAX_STYLE_GAIN, NEAR_STYLE_RHO, PALETTE_CARRIES, PALETTE_EDGE,
                      StyleOptions)
from .regions import MAX_REGIONS, check_regions, guidance
from .tiling import stride_of, tiled_costs, tiled_targets
from .vgg import VGG19, load_vgg19, rgb_to_tensor, tensor_to_rgb


@dataclass
class Progress:
    """One optimizer step. ``image`` is set every ``preview_every`` steps and on the last report."""

    step: int  # steps done so far, over all stages
    total_steps: int
    stage: int  # 0-based index into options.schedule()
    size: tuple[int, int]  # (height, width) of this stage
    J_content: float
    J_style: float
    J_tv: float
    J: float
    elapsed: float  # seconds since the start
    image: np.ndarray | None = None
    done: bool = False
    stopped: bool = False  # ended early by the stop event
    tiles: int = 1  # tiles of this stage's evaluations (1: the whole picture at once)

    @property
    def remaining(self) -> float:
        """Estimated seconds left, from the mean time per step so far (later stages are slower)."""
        return self.elapsed / self.step * (self.total_steps - self.step) if self.step else float("nan")


def positions(layer: str, shape: Sequence[int]) -> int:
    """n_H n_W of ``layer``'s activations for a picture of ``shape`` (..., H, W): each 2 x 2 pooling halves a side,
    rounding down."""
    stride = stride_of(layer)
    return (shape[-2] // stride) * (shape[-1] // stride)


def balance_terms(energy: float, J_style: float, J_sums: float) -> tuple[float, float]:
    """(g, r) of ``style_balance`` for the content C: g = max(1, rho / NEAR_STYLE_RHO), rho = ``energy`` / ``J_style``
    (mean(1/2 (a^(C))^2) over J_style(C)); r = ``J_sums`` / ``J_style``, J_style(C) with the style's Gram sums as
    targets over that with the Grams on G's count of positions. A style so near the content that g reaches
    MAX_STYLE_GAIN (J_style(C) = 0 included) takes g = MAX_STYLE_GAIN, r = 1: there r would be a ratio of two costs
    near zero."""
    g = energy / J_style / NEAR_STYLE_RHO if J_style > 0 else math.inf
    if g >= MAX_STYLE_GAIN:
        return MAX_STYLE_GAIN, 1.0
    return max(1.0, g), J_sums / J_style


def style_balance(g: float, r: float, cap: float = MAX_STYLE_GAIN) -> float:
    """The factor m on beta: m = g r, within [1 / MAX_STYLE_GAIN, ``cap``] (``balance_terms``, ``gain_cap``).

    - g lifts a style near the photo: J_style(C) is small where the style's statistics are near the photo's (a pale,
      low-contrast or photo-like style), and there the same beta is a weak pull.
    - r keeps the seeds' pull. The seeds' formula compares Gram sums, as for S and G of one size: a style image with
      more positions than G pulls harder under the sums, one with fewer less. The targets are the style's own
      statistics (``targets``); r > 1 raises beta, r < 1 lowers it.

    benchmarks/bench_quality.py measures the presets with it against the recipe of 5b7ffa8 (the sums, beta as given)
    on eight pairs (docs/performance.md, "The look")."""
    return min(cap, max(1.0 / MAX_STYLE_GAIN, g * r))


def gain_cap(steps: int) -> float:
    """The most that ``style_balance`` raises beta in a run of ``steps`` at the final size: MAX_STYLE_GAIN x
    min(1, steps / FULL_GAIN_STEPS)^(1/4). A stronger pull is a harder problem, and a short run leaves it
    unconverged: further from the content without being nearer the style."""
    return MAX_STYLE_GAIN * min(1.0, steps / FULL_GAIN_STEPS) ** 0.25


def palette_weight(share: float) -> float:
    """w, the share of the way to the style's palette that the start takes (times ``options.palette_start``), from
    ``share`` = J_style(M(C)) / J_style(C) at PALETTE_EDGE px, M(C) the content in the style's colour mean and
    covariance: 1 where the palette carries the style (share <= PALETTE_CARRIES[0]), 1/2 where it carries little
    of it (share >= PALETTE_CARRIES[1]), linear between. Where the colours are most of the style's cost the start
    in its palette lays the style's large-scale look at once; where they are not, the palette moves the photo away
    from its content (a dark style darkens it) without the style's marks, and a short run can't bring it back."""
    low, high = PALETTE_CARRIES
    return 1.0 - 0.5 * min(1.0, max(0.0, (share - low) / (high - low)))


class Balance(NamedTuple):
    """The style's balance in a run: beta x ``style_balance(g, r, cap)`` (``balance_terms``, ``gain_cap``); the
    start's palette weight (``palette_weight``)."""

    g: float = 1.0
    r: float = 1.0
    palette: float = 1.0
    cap: float = MAX_STYLE_GAIN

    @property
    def beta_factor(self) -> float:
        return style_balance(self.g, self.r, self.cap)


def balance_note(balance: Balance, beta: str = "beta", times: str = "x") -> str:
    """What the style's balance did, in words: to beta (``style_balance``), where it left beta more than 5 % from the
    given one, and to the start (``palette_weight``), where it took less than the whole way to the style's palette."""
    m = balance.beta_factor
    summed = "as its Gram matrices, summed over the style image's positions, weigh {} in the course's cost"
    parts = []
    if m >= 1.05:
        why = ([" for a style near the content"] * (balance.g > 1.02)
               + [", " + summed.format("more")] * (balance.r > 1.02))
        parts.append(f"{beta} raised {m:.2g}{times}{''.join(why)}")
    elif m <= 0.95:
        parts.append(f"{beta} lowered to {m:.2g}{times}, {summed.format('less')}")
    if balance.palette < 0.995:
        parts.append(f"the start went {balance.palette:.0%} of the way to the style's colours, as they carry little of "
                     "its look")
    return "; ".join(parts)


MAX_BACKTRACKS = 10  # a step that raised J is shortened at most this many times


def backtrack_factor(J_before: float, J_after: float, slope: float) -> float:
    """How much of a step that raised J to keep: the minimum of the parabola through J(0) = ``J_before``,
    J'(0) = ``slope`` and J(1) = ``J_after``, kept within [0.01, 0.5] (0.01 when J(1) is not finite)."""
    if not math.isfinite(J_after) or slope >= 0:
        return 0.01
    return min(0.5, max(0.01, -slope / (2 * (J_after - J_before - slope))))


class Stage:
    """One size of the coarse-to-fine schedule: G, its optimizer, the best G so far and its costs. ``step`` moves G
    once (evaluating J and dJ/dG, shortening a step that raised J); ``finish`` ends the stage."""

    def __init__(self, transfer: "StyleTransfer", init: torch.Tensor, costs: Callable[..., dict[str, float]],
                 history: int, pairs: dict | None):
        self.transfer, self.costs, self.history, self.pairs = transfer, costs, history, pairs
        self.G = init.detach().contiguous().requires_grad_(True)
        self.optimizer = transfer._optimizer(self.G, history)
        self.best_J, self.best_G, self.best_costs = float("inf"), self.G.detach().clone(), {}
        self.last: dict[str, float] = {}
        self.G_before, self.J_before, self.slope = None, float("inf"), 0.0  # the last step's start, J there, dJ along

    def evaluate(self) -> torch.Tensor:
        """J at G, with its gradient in G.grad."""
        self.optimizer.zero_grad(set_to_none=True)
        self.last = self.costs(self.G)
        return torch.tensor(self.last["J"])

    def keep_if_best(self) -> None:
        if self.last["J"] < self.best_J:
            self.best_J, self.best_G, self.best_costs = self.last["J"], self.G.detach().clone(), dict(self.last)

    def step(self) -> None:
        """One optimizer step. A step that raised J (or made it infinite: L-BFGS without a line search can leap far
        while its curvature estimate is young, as at the start of each stage) is shortened (``backtrack_factor``)
        until it doesn't, so J never rises within a stage."""
        t, G = self.transfer, self.G
        J = self.evaluate()
        for _ in range(MAX_BACKTRACKS):
            if self.G_before is None or self.last["J"] <= self.J_before:
                break
            factor = backtrack_factor(self.J_before, self.last["J"], self.slope)
            t._shorten_last_step(self.optimizer, G, self.G_before, factor)
            self.slope *= factor
            J = self.evaluate()
        if not math.isfinite(self.last["J"]):  # nothing left to undo: start afresh from the best G
            with torch.no_grad():
                G.copy_(self.best_G)
            self.optimizer, self.G_before = t._optimizer(G, self.history), None
            J = self.evaluate()
        self.keep_if_best()
        if self.optimizer.state.get(G, {}).get("n_iter", 0) == 0:
            t._carry_curvature(self.optimizer, G, self.pairs)
            self.pairs = None  # carried: the coarse pairs are no longer needed
        self.G_before, self.J_before = G.detach().clone(), self.last["J"]
        self.optimizer.step(lambda: J)  # J and its gradient at G are already computed
        t._keep_in_range(G)
        with torch.no_grad():  # dJ/dG at the step's start (still in G.grad) along the step taken
            self.slope = float(G.grad.flatten().dot((G - self.G_before).flatten()))

    def finish(self) -> dict | None:
        """The cost where the last step landed (kept if best); the curvature pairs to carry to the next size."""
        pairs = self.transfer._curvature_pairs(self.optimizer, self.G)
        self.last = self.costs(self.G, gradient=False)
        self.keep_if_best()
        return pairs


class StyleTransfer:
    """Holds the VGG19 (loaded once per process) and runs stylizations with given options."""

    def __init__(self, options: StyleOptions | None = None):
        self.options = (options or StyleOptions()).validate()
        self.device = pick_device(self.options.device)
        model = load_vgg19(self.options.weights, self.options.pooling)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        self.model: VGG19 = model.to(self.device, memory_format=torch.channels_last)
        self.balance = Balance()  # of the run under way (balance_and_targets)
        self.fixed_balance: Balance | None = None  # to use instead (a clip's frames share one)
        self.known_targets: dict = {}  # with fixed_balance: targets the next run (on its content) takes

    @property
    def effective_beta(self) -> float:
        """beta x ``style_balance`` of the run under way (``iter_stylize`` sets ``balance``)."""
        return self.options.beta * self.balance.beta_factor

    # --- the estimate -------------------------------------------------------------------------------
    def evaluation_precision(self) -> str:
        """The precision the evaluations' convolutions run in here: "fp32", "bf16" or "fp16" (``resolve_precision``)."""
        return resolve_precision(self.device, self.options.precision)

    def evaluation_cost(self) -> EvaluationCost:
        """(t_0, t_px): one evaluation of J and dJ/dG takes t_0 + t_px n seconds at n pixels here, from one timed
        evaluation at each of ``estimate.CALIBRATION_SIZES`` px (after a warm-up), measured once and cached
        (``estimate.calibration_file``)."""
        key = f"{platform_cpu()}|{self.device.type}|{self.evaluation_precision()}|{torch.get_num_threads()}"
        known = cached_evaluation_cost(key)
        if known is not None:
            return known
        gen = torch.Generator().manual_seed(0)
        times = []
        for n in CALIBRATION_SIZES:
            image = torch.rand(1, 3, n, n, generator=gen).to(self.device)
            a_C, grams = self.targets(image, [image])
            G = image.clone().requires_grad_(True)
            self.costs(G, a_C, grams, [1.0])["J"].backward()  # warm-up
            start = time.perf_counter()
            self.costs(G, a_C, grams, [1.0])["J"].backward()
            times.append(time.perf_counter() - start)
        (n0, n1), (s0, s1) = [n * n for n in CALIBRATION_SIZES], times
        t_px = max((s1 - s0) / (n1 - n0), 1e-12)
        value = (max(0.0, s0 - t_px * n0), t_px)
        store_evaluation_cost(key, value)
        return value

    def plan(self, content_shape: tuple[int, int]) -> Plan:
        """Time, peak memory and tiling of a run on a content of ``content_shape`` (h, w), before it starts;
        ``InputError`` when it can't fit the memory budget even tiled."""
        return cost_plan(self.options, content_shape, self.evaluation_cost(), memory_budget(self.options.max_memory),
                         self.evaluation_precision())

    # --- the objective -------------------------------------------------------------------------
    def features(self, rgb01: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Activations of an RGB batch in [0, 1] at ``layers``, in the options' precision.

        Under autocast VGG19 keeps conv1_1 in float32 (see ``VGG19.forward``). benchmarks/bench_stylize.py's
        quality guard scores this path against the float32 one at equal steps (results/stylize.json: -0.9 %).
        """
        x = self.model.normalize(rgb01).contiguous(memory_format=torch.channels_last)
        with autocast_for(self.device, self.options.precision):
            return self.model(x, layers)

    def targets(self, content01: torch.Tensor, styles01: Sequence[torch.Tensor],
                tile: int | None = None) -> tuple[torch.Tensor, list[dict]]:
        """The fixed targets, computed once: a^(C) at the content layer (in the features' own precision: bf16
        features kept as bf16 lose nothing, and the costs compute in float32) and each style's Gram matrices (tile
        by tile with ``tile``, ``tiling.tiled_targets``), each put on G's count of positions: G^(S) n_G / n_S.

        The seeds' per-layer cost compares Grams summed over positions with one n_H n_W, G's: it takes S and G of
        one size. A style of another shape (its long edge is G's) has another count of positions, and its raw Gram
        would ask G for activations sqrt(n_S / n_G) times the style's own; on G's count the cost compares the two
        pictures' statistics per position, as ``look`` measures them."""
        o = self.options
        if tile:
            a_C = tiled_targets(self.features, content01, [o.content_layer], [], tile)[1][o.content_layer]
            grams = [tiled_targets(self.features, s, [], list(o.style_layers), tile)[0] for s in styles01]
        else:
            with torch.no_grad():
                a_C = self.features(content01, [o.content_layer])[o.content_layer]  # kept in the features' precision
                grams = self._style_grams(styles01)
        return a_C, self._on_positions(grams, content01, styles01)

    @torch.no_grad()
    def _style_grams(self, styles01: Sequence[torch.Tensor]) -> list[dict]:
        """Each style's Gram matrices at the style layers, whole (untiled)."""
        return [{l: gram_matrix(a) for l, a in self.features(s, list(self.options.style_layers)).items()}
                for s in styles01]

    @staticmethod
    def _on_positions(grams: list[dict], content01: torch.Tensor, styles01: Sequence[torch.Tensor]) -> list[dict]:
        """Each style's Grams on G's count of positions (G has the content's size): G^(S) n_G / n_S (``targets``)."""
        return [{l: g * positions(l, content01.shape) / positions(l, s.shape) for l, g in by_layer.items()}
                for s, by_layer in zip(styles01, grams)]

    def costs(self, G: torch.Tensor, a_C: torch.Tensor, style_grams: list[dict],
              blend: Sequence[float], guide: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """J_content, J_style (blended over style images, or per painted region with ``guide``), TV and J for the
        image ``G``. ``guide``: the regions' guidance channels at G's size (``regions.guidance``)."""
        o = self.options
        acts = self.features(G, list({o.content_layer, *o.style_layers}))
        J_content = content_cost(a_C, acts[o.content_layer])
        if guide is None:
            J_style = self.blended_style_cost(style_grams, acts, blend)
        else:
            masks = {l: F.interpolate(guide[None], size=acts[l].shape[-2:], mode="area")[0] for l in o.style_layers}
            J_style = guided_style_cost(self.region_targets(style_grams, blend), acts, masks, o.style_layers)
        J_tv = total_variation(G)
        J = total_cost(J_content, J_style, o.alpha, self.effective_beta) + o.tv_weight * J_tv
        return {"J_content": J_content, "J_style": J_style, "J_tv": J_tv, "J": J}

    def blended_style_cost(self, style_grams: list[dict], acts: dict[str, torch.Tensor],
                           blend: Sequence[float]) -> torch.Tensor:
        """J_style = sum_S w_S J_style(S, G) over the blend's style images, for G's activations ``acts``."""
        return sum(w * style_cost(grams, acts, self.options.style_layers) for w, grams in zip(blend, style_grams))

    def tiled_costs(self, G: torch.Tensor, a_C: torch.Tensor, style_grams: list[dict], blend: Sequence[float],
                    tile: int, on_tile: Callable[[str], None] | None = None, keep: int = 0) -> dict[str, float]:
        """``costs`` of the whole picture, tile by tile (``tiling.tiled_costs``; the first ``keep`` tiles keep their
        pass-1 graph); dJ/dG is left in ``G.grad``."""
        o = self.options
        return tiled_costs(self.features, G, a_C, o.content_layer, style_grams, blend, o.style_layers, o.alpha,
                           self.effective_beta, o.tv_weight, tile, on_tile, keep)

    def style_gain(self, content: np.ndarray, styles: Sequence[np.ndarray], blend: Sequence[float]) -> float:
        """m of ``style_balance``, measured at min(size, GAIN_EDGE) px on the content C and the blend's styles; 1 with
        ``near_style_gain`` off. The run minimises alpha J_content + m beta J_style. The measures do not grow with
        the picture's area, so m is the same at every size."""
        return self.balance_and_targets(content, styles, blend)[0].beta_factor

    def balance_and_targets(self, content: np.ndarray, styles: Sequence[np.ndarray],
                            blend: Sequence[float]) -> tuple[Balance, dict]:
        """The style's ``Balance`` (``Balance()`` with the balance off): ``balance_terms``' (g, r), measured at
        min(size, GAIN_EDGE) px, and with init content+palette ``palette_weight`` of ``palette_share``; and the
        targets measured on the way, {long edge: (a^(C), style Grams)}: the stage of that size takes them instead of
        computing them again."""
        o = self.options
        if not o.near_style_gain or o.beta == 0:
            return Balance(), {}
        edge = min(o.size, GAIN_EDGE)
        content01, styles01 = self._stage_images(content, styles, edge)
        sums = self._style_grams(styles01)
        grams = self._on_positions(sums, content01, styles01)
        with torch.no_grad():
            acts = self.features(content01, list({o.content_layer, *o.style_layers}))
        J_style, J_sums = (float(self.blended_style_cost(targets, acts, blend)) for targets in (grams, sums))
        energy = 0.5 * float(acts[o.content_layer].float().pow(2).mean())
        palette = palette_weight(self.palette_share(content, styles, blend)) if o.init == "content+palette" else 1.0
        return (Balance(*balance_terms(energy, J_style, J_sums), palette, gain_cap(o.steps)),
                {edge: (acts[o.content_layer], grams)})

    @torch.no_grad()
    def palette_share(self, content: np.ndarray, styles: Sequence[np.ndarray], blend: Sequence[float]) -> float:
        """J_style(M(C)) / J_style(C) at PALETTE_EDGE px (the large-scale look), M(C) the content in the colour mean
        and covariance of the style of the largest blend weight: how much of the style's cost its colours leave
        (0 where J_style(C) = 0)."""
        o = self.options
        content01, styles01 = self._stage_images(content, styles, PALETTE_EDGE)
        grams = self._on_positions(self._style_grams(styles01), content01, styles01)
        matched = match_colors(content01, styles01[max(range(len(blend)), key=blend.__getitem__)])
        J_C, J_M = (float(self.blended_style_cost(grams, self.features(image, list(o.style_layers)), blend))
                    for image in (content01, matched))
        return J_M / J_C if J_C > 0 else 0.0

    def region_style_indices(self, n_styles: int) -> list[int | None]:
        """The style image (0-based) that each region 1 … MAX_REGIONS takes; None: no style of its own."""
        chosen = self.options.region_styles or tuple(range(1, n_styles + 1))
        return [chosen[k] - 1 if k < len(chosen) and chosen[k] else None for k in range(MAX_REGIONS)]

    def region_targets(self, style_grams: list[dict], blend: Sequence[float]) -> list[list[tuple[float, dict]]]:
        """What each label takes: the rest (label 0) the blend of the styles, region k its own style image."""
        rest = [(w, grams) for w, grams in zip(blend, style_grams) if w > 0]
        return [rest] + [[] if i is None else [(1.0, style_grams[i])]
                         for i in self.region_style_indices(len(style_grams))]

    # --- images --------------------------------------------------------------------------------
    def _stage_images(self, content: np.ndarray, styles: Sequence[np.ndarray], long_edge: int):
        o = self.options
        c = rgb_to_tensor(resize_long_edge(content, long_edge)).to(self.device)
        s_edge = max(16, round(long_edge * o.style_scale))
        ss = [rgb_to_tensor(resize_long_edge(s, s_edge)).to(self.device) for s in styles]
        if o.preserve_color:
            ss = [match_luminance(s, c) for s in ss]
        if o.match_style_colors:
            ss = [match_colors(s, c) for s in ss]
        return c, ss

    def _init_image(self, content01: torch.Tensor, styles01: Sequence[torch.Tensor], blend: Sequence[float],
                    guide: torch.Tensor | None) -> torch.Tensor:
        """G at the first stage (``options.init``), from the style image of the largest blend weight.

        content+palette: C + p (M(C) - C), M(C) the content in that style's colour mean and covariance
        (``color.match_colors``), and each painted region (``guide``) in its own style's (from the region's own
        colour statistics), p = ``options.palette_start`` times the balance's palette weight (``palette_weight``)."""
        o = self.options
        style01 = styles01[max(range(len(blend)), key=blend.__getitem__)]
        if o.init == "content+palette":
            matched = match_colors(content01, style01)
            for k, i in enumerate(self.region_style_indices(len(styles01)) if guide is not None else ()):
                share = guide[1 + k]
                if i is not None and share.sum() > 0:
                    region = match_colors(content01, styles01[i], weights=share)
                    matched = torch.lerp(matched, region, share[None, None])
            return torch.lerp(content01, matched, o.palette_start * self.balance.palette)
        if o.init == "style":
            return F.interpolate(style01, size=content01.shape[-2:], mode="bilinear", align_corners=False)
        if o.init == "content":
            return content01.clone()
        noise = torch.rand(content01.shape, generator=torch.Generator().manual_seed(o.seed)).to(self.device)
        return noise if o.init == "noise" else (0.75 * content01 + 0.25 * noise).clamp(0, 1)

    @staticmethod
    def _stage_start(coarse_G: torch.Tensor, coarse_content01: torch.Tensor, content01: torch.Tensor) -> torch.Tensor:
        """The start of a finer stage: U(G_coarse), the coarser result upsampled (bilinear) to ``content01``'s size
        (``coarse_content01``, the content at the coarser size, is there for starts that use it). The finer size's own
        detail is left to the style: starting from the content's detail instead (C_fine + U(G_coarse - C_coarse))
        reaches a given J sooner but keeps the photo's fine texture: a lighter look at the full scale (docs/performance.md,
        "The look")."""
        return F.interpolate(coarse_G, size=content01.shape[-2:], mode="bilinear", align_corners=False)

    def _output(self, G: torch.Tensor, content01: torch.Tensor) -> np.ndarray:
        G = G.detach().clamp(0, 1)
        if self.options.preserve_color:
            G = keep_content_colors(G, content01)
        return tensor_to_rgb(G)

    def _optimizer(self, G: torch.Tensor, history: int) -> torch.optim.Optimizer:
        """Adam, or L-BFGS with one iteration (one evaluation of J and its gradient) per step, keeping ``history``
        pairs (the options' history, fewer where whole-picture pairs would not fit the memory budget)."""
        o = self.options
        if o.optimizer == "adam":
            return torch.optim.Adam([G], lr=o.learning_rate)
        return torch.optim.LBFGS([G], lr=1.0, max_iter=1, history_size=history,
                                 tolerance_grad=0.0, tolerance_change=0.0)

    @staticmethod
    def _keep_in_range(G: torch.Tensor) -> None:
        """G <- clamp(G, 0, 1) after each step: the picture delivered is the clamped one, and an optimum found outside
        [0, 1] loses its style statistics when clamped (a stronger style pushes more pixels out, so without this a
        higher beta can give a picture further from the style)."""
        with torch.no_grad():
            G.clamp_(0, 1)

    @staticmethod
    def _carry_curvature(optimizer: torch.optim.Optimizer, G: torch.Tensor, pairs: dict | None) -> None:
        """Warm-start L-BFGS at a finer scale with the coarser stage's curvature pairs (s, y).

        If J_fine(x) ~ J_coarse(D x), with D the downsampling and U = r D^T the bilinear upsampling (r = the ratio
        of the areas), then a coarse pair maps to s' = U s and y' = D^T y = U y / r, which keeps s'.y' ~ s.y; the
        initial inverse-Hessian scale s'.y' / y'.y' becomes r times the coarse one. The first step at the new size
        is then an L-BFGS step of the right length instead of a tiny gradient step (the curvature of the detail
        that only the finer size has is still learnt from scratch, starting from that scale)."""
        if pairs is None or not isinstance(optimizer, torch.optim.LBFGS) or G.grad is None:
            return
        shape, size = pairs["shape"], G.shape[-2:]
        r = size.numel() / shape[-2:].numel()

        def up(v: torch.Tensor) -> torch.Tensor:
            return F.interpolate(v.view(shape), size=size, mode="bilinear", align_corners=False).flatten()

        steps = [up(s) for s in pairs["s"]]
        diffs = [up(y) / r for y in pairs["y"]]
        ro = [1.0 / float(s.dot(y)) for s, y in zip(steps, diffs)]
        if not all(math.isfinite(v) and v > 0 for v in ro):
            return
        flat_grad = G.grad.detach().flatten()
        optimizer.state[G].update({
            "n_iter": 1, "func_evals": 0, "d": torch.zeros_like(flat_grad), "t": 1.0,
            "old_dirs": diffs, "old_stps": steps, "ro": ro, "H_diag": pairs["H_diag"] * r,
            "prev_flat_grad": flat_grad.clone(),  # y = 0 on the first step: no pair is stored for it
            "prev_loss": float("nan")})

    @staticmethod
    def _curvature_pairs(optimizer: torch.optim.Optimizer, G: torch.Tensor) -> dict | None:
        """The L-BFGS pairs of a finished stage, for ``_carry_curvature``."""
        state = optimizer.state.get(G, {}) if isinstance(optimizer, torch.optim.LBFGS) else {}
        if not state.get("old_dirs"):
            return None
        return {"shape": G.shape, "s": state["old_stps"], "y": state["old_dirs"], "H_diag": float(state["H_diag"])}

    @staticmethod
    def _shorten_last_step(optimizer: torch.optim.Optimizer, G: torch.Tensor, G_before: torch.Tensor,
                           factor: float) -> None:
        """Move G back to ``factor`` of the way along the last step; L-BFGS is told its step was that long, so the
        curvature pair it stores next (s = t d, y = change of the gradient) stays true."""
        with torch.no_grad():
            G.sub_(G_before).mul_(factor).add_(G_before)
        if isinstance(optimizer, torch.optim.LBFGS):
            optimizer.state[G]["t"] *= factor

    # --- the loop ------------------------------------------------------------------------------
    def iter_stylize(self, content: np.ndarray, styles: Sequence[np.ndarray], *, regions: np.ndarray | None = None,
                     stop: threading.Event | None = None, resume: tuple[np.ndarray, int, int] | None = None,
                     image_every_s: float | None = None,
                     on_tile: Callable[[str], None] | None = None) -> Iterator[Progress]:
        """Stylize RGB uint8 ``content`` with RGB uint8 ``styles``; yield a ``Progress`` per step.

        ``regions``: labels the size of ``content`` (``regions.mask_labels``): region k takes style image
        ``options.region_styles[k - 1]``, the rest the blend. With ``options.palette_only`` the content takes the
        first style's colours (``color.match_colors``) and nothing is optimised.

        Where the memory budget needs it (``plan``), a stage's evaluations run tile by tile (``tiling``), exactly;
        ``on_tile(text)`` hears each tile pass. ``resume`` = (image, stage, steps done in it) continues a run from
        a saved picture; ``image_every_s`` sends the current image at least that often too (for checkpoints).

        Each step evaluates J and its gradient at G and hands both to the optimizer, which moves G. A step
        that raised J (or made it infinite: L-BFGS without a line search can leap far while its curvature
        estimate is young, as at the start of each stage) is shortened (``backtrack_factor``) until it doesn't,
        so J never rises within a stage.
        """
        o = self.options
        if len(styles) == 0:
            raise InputError("at least one style image is needed.")
        blend = o.blend_weights(len(styles))
        if regions is not None:
            if regions.shape != content.shape[:2]:
                raise InputError(f"the regions mask is {regions.shape[1]}×{regions.shape[0]} px but the content is "
                                 f"{content.shape[1]}×{content.shape[0]} px; resize it to the content first.")
            check_regions(regions, o.region_styles, len(styles))
        if o.palette_only:
            yield self._palette(content, styles[0])
            return
        planned = self.plan(content.shape[:2])
        if self.fixed_balance is not None:
            self.balance, known, self.known_targets = self.fixed_balance, self.known_targets, {}
        else:
            self.balance, known = self.balance_and_targets(content, styles, blend)
        if regions is not None and any(planned.stage_tiles):
            raise InputError("painted regions need the whole picture in memory, and at this size it is tiled; "
                             "choose a smaller size or a larger memory budget.")
        history = planned.lbfgs_history or o.lbfgs_history
        schedule = o.schedule()
        total_steps = sum(steps for _, steps in schedule)
        start = last_image = time.perf_counter()
        step = 0
        best_G, best_costs, pairs, coarse_content01 = None, {}, None, None
        first_stage, done_in_stage = (resume[1], resume[2]) if resume else (0, 0)
        for k, (long_edge, steps) in enumerate(schedule):
            if k < first_stage:
                step += steps
                continue
            tile, keep = planned.stage_tiles[k], planned.stage_keep[k]
            content01, styles01 = self._stage_images(content, styles, long_edge)
            a_C, grams = (known.pop(long_edge) if long_edge in known and not tile
                          else self.targets(content01, styles01, tile))
            guide = None if regions is None else guidance(regions, *content01.shape[-2:], self.device)
            if k == first_stage and resume:
                init = F.interpolate(rgb_to_tensor(resume[0]).to(self.device), size=content01.shape[-2:],
                                     mode="bilinear", align_corners=False)
                steps, step = steps - done_in_stage, step + done_in_stage
            elif best_G is None:
                init = self._init_image(content01, styles01, blend, guide)
            else:
                init = self._stage_start(best_G, coarse_content01, content01)
            coarse_content01 = content01
            del styles01  # only their Grams are needed from here on
            costs = functools.partial(self._stage_costs, a_C=a_C, grams=grams, blend=blend, guide=guide, tile=tile,
                                      on_tile=on_tile, keep=keep)
            stage = Stage(self, init, costs, history, pairs)
            del init
            size = tuple(content01.shape[-2:])
            for _ in range(steps):
                if stop is not None and stop.is_set():
                    break
                stage.step()
                step += 1
                now = time.perf_counter()
                preview = step % o.preview_every == 0 or (image_every_s is not None and
                                                          now - last_image >= image_every_s)
                last_image = now if preview else last_image
                last = stage.last
                yield Progress(step, total_steps, k, size, last["J_content"], last["J_style"], last["J_tv"],
                               last["J"], now - start, image=self._output(stage.G, content01) if preview else None,
                               tiles=planned.tiles if tile else 1)
            if stop is not None and stop.is_set():
                best_G, best_costs = stage.best_G, stage.best_costs
                break
            pairs = stage.finish()
            best_G, best_costs = stage.best_G, stage.best_costs
        final_content01 = rgb_to_tensor(resize_long_edge(content, o.size)).to(self.device)
        if best_G.shape[-2:] != final_content01.shape[-2:]:
            best_G = F.interpolate(best_G, size=final_content01.shape[-2:], mode="bilinear", align_corners=False)
        stopped = stop is not None and stop.is_set()
        nan = float("nan")
        yield Progress(step, total_steps, len(schedule) - 1, tuple(final_content01.shape[-2:]),
                       best_costs.get("J_content", nan), best_costs.get("J_style", nan),
                       best_costs.get("J_tv", nan), best_costs.get("J", nan), time.perf_counter() - start,
                       image=self._output(best_G, final_content01), done=True, stopped=stopped)

    def _stage_costs(self, G: torch.Tensor, a_C, grams, blend, guide, tile: int | None, on_tile, keep: int,
                     gradient: bool = True) -> dict[str, float]:
        """J and its parts at G (with dJ/dG in G.grad when ``gradient``), whole or tile by tile."""
        if tile:
            return self.tiled_costs(G, a_C, grams, blend, tile, on_tile, keep)
        if not gradient:
            with torch.no_grad():
                return {k: float(v) for k, v in self.costs(G, a_C, grams, blend, guide).items()}
        costs = self.costs(G, a_C, grams, blend, guide)
        costs["J"].backward()
        return {k: float(v.detach()) for k, v in costs.items()}

    def _palette(self, content: np.ndarray, style: np.ndarray) -> Progress:
        """Palette only: the content at the output size with the style's colour mean and covariance."""
        start = time.perf_counter()
        c = rgb_to_tensor(resize_long_edge(content, self.options.size))
        s = rgb_to_tensor(resize_long_edge(style, self.options.size))
        nan = float("nan")
        return Progress(0, 0, 0, tuple(c.shape[-2:]), nan, nan, nan, nan, time.perf_counter() - start,
                        image=tensor_to_rgb(match_colors(c, s)), done=True)

    def stylize(self, content: np.ndarray, styles: Sequence[np.ndarray], *, regions: np.ndarray | None = None,
                callback: Callable[[Progress], None] | None = None,
                stop: threading.Event | None = None) -> np.ndarray:
        """Run ``iter_stylize`` to the end, calling ``callback`` with each ``Progress``; return the best image."""
        for p in self.iter_stylize(content, styles, regions=regions, stop=stop):
            if callback is not None:
                callback(p)
        return p.image
