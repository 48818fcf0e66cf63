"""How long a stylization takes and how much memory it needs, before it starts; and the tile edge that fits. At the
end, the peak memory of one VGG19 pass (a scan batch, a feature visualisation, a lab panel) and what fits a budget.

The cost model, per stage of the coarse-to-fine schedule at n pixels (one evaluation of J and dJ/dG per L-BFGS or
Adam step, plus one where the stage ends):

    seconds = (steps + 1) * STEP_EVALUATIONS * (t_0 * windows + t_px * sum_tiles n_window (1 + again FORWARD_SHARE))
              + t_px * FORWARD_SHARE * (n + n_style)
    peak    = BASE_BYTES + bytes per px * n_held + n * (IMAGE_BUFFERS + 2 m) * 12 B

t_0 + t_px n, the seconds of one evaluation (a fixed part, which dominates at the coarse sizes, and one per pixel),
comes from one evaluation at each of ``CALIBRATION_SIZES`` px, measured on this machine once
(``StyleTransfer.evaluation_cost``) and cached; n_held is the picture's pixels (at EVAL_BYTES_PER_PX), or, tiled,
the pixels of the windows (core and halo) whose graphs are held at once (at WINDOW_BYTES_PER_PX); m is the L-BFGS
history (each of its 2 m vectors is a whole picture). A tiled evaluation keeps the pass-1 graphs of as many windows
as the budget holds (``again`` = 0 for those) and runs the others forward a second time (``again`` = 1).
EVAL_BYTES_PER_PX comes from the peak RSS of one evaluation at 256, 512 and 768 px (2.3-2.6 KB per pixel in fp32,
1.7 KB in bf16, above a base of 0.4 GB), WINDOW_BYTES_PER_PX from tiled runs at 2048 px (2.4 KB per window pixel in
bf16), IMAGE_BUFFERS from a tiled run at 4096 px.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from .checks import InputError
from .memory import gigabytes
from .tiling import GRID, halo_for, split

BASE_BYTES = 450_000_000  # torch, VGG19's weights, the process
# fp16 (CUDA without bf16) is taken as bf16: both keep 2-byte activations.
EVAL_BYTES_PER_PX = {"fp32": 2600, "bf16": 1700, "fp16": 1700}  # the whole picture's graph
# A tile window's graph keeps a little more (its gradient, the core's gradients at each layer).
WINDOW_BYTES_PER_PX = {"fp32": 3000, "bf16": 2400, "fp16": 2400}
IMAGE_BUFFERS = 18  # whole-picture RGB float tensors besides L-BFGS's pairs (G, its gradient, the best G, the step's
# start, the content, a^(C), L-BFGS's own vectors, the output ...), from the peak of a 4096 px run tiled at 4G
MIN_LBFGS_HISTORY = 3
FORWARD_SHARE = 0.35  # a forward pass without gradients (a stage's targets: content and style) against an evaluation
STEP_EVALUATIONS = 1.1  # evaluations per step: one, and now and then a shortened step's second
MIN_TILE = 64
HEADROOM = 0.9  # plans use this share of the budget: the model's figures are measured, not exact
CALIBRATION_SIZES = (128, 512)  # t_0 and t_px from these two
JOB_BUDGET_ENV = "NST_JOB_BUDGET_S"


def calibration_file() -> Path:
    return Path(os.environ.get("NST_CACHE_DIR") or Path.home() / ".cache" / "nst-studio") / "calibration.json"


EvaluationCost = tuple[float, float]  # (t_0 seconds, t_px seconds per pixel) of one evaluation


def cached_evaluation_cost(key: str) -> EvaluationCost | None:
    """The measured (t_0, t_px) stored for ``key`` (CPU, device, precision, threads), if any and sane."""
    try:
        value = json.loads(calibration_file().read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    ok = (isinstance(value, list) and len(value) == 2 and all(isinstance(v, float) for v in value)
          and 0 <= value[0] < 60 and 0 < value[1] < 1)
    return (value[0], value[1]) if ok else None


def store_evaluation_cost(key: str, value: EvaluationCost) -> None:
    """Keep a measurement (written whole to a temporary file, then renamed)."""
    path = calibration_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            known = json.loads(path.read_text())
            known = known if isinstance(known, dict) else {}
        except (OSError, ValueError):
            known = {}
        known[key] = list(value)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that can't be written only means measuring again next time


def stage_shape(shape: tuple[int, int], long_edge: int) -> tuple[int, int]:
    """(h, w) of a picture of ``shape`` resized to ``long_edge`` (as ``images.resize_long_edge``)."""
    h, w = shape
    scale = long_edge / max(h, w)
    return max(min(16, long_edge), round(h * scale)), max(min(16, long_edge), round(w * scale))


@dataclass(frozen=True)
class Plan:
    """What a run will take: seconds, peak bytes, the final stage's tile edge (None: untiled) and tile count."""

    seconds: float
    peak_bytes: int
    tile: int | None
    tiles: int
    lbfgs_history: int
    shape: tuple[int, int]
    stage_tiles: tuple[int | None, ...]  # the tile edge of each stage of the schedule (None: untiled)
    stage_keep: tuple[int, ...] = ()  # tiles whose pass-1 graph each stage keeps for pass 2 (``tiling.tiled_costs``)

    def text(self) -> str:
        """'about 85 s and 1.6 GB (tiled in 6 tiles)'; 'under a second and 0.5 GB'."""
        tiled = f" (tiled in {self.tiles} tiles of {self.tile} px)" if self.tile else ""
        time = f"about {self.seconds:.0f} s" if self.seconds >= 0.5 else "under a second"
        return f"{time} and {gigabytes(self.peak_bytes)}{tiled}"


def eval_peak(h: int, w: int, tile: int | None, halo: int, precision: str) -> int:
    """Peak bytes of one evaluation's activations: of the whole picture, or of its largest tile window."""
    if tile is None:
        return EVAL_BYTES_PER_PX[precision] * h * w
    biggest = max((t.in_bottom - t.in_top) * (t.in_right - t.in_left) for t in split(h, w, tile, halo))
    return WINDOW_BYTES_PER_PX[precision] * biggest


def kept_graphs(h: int, w: int, tile: int, halo: int, precision: str, room: int) -> int:
    """How many tile graphs ``room`` bytes hold at once beside pass 1's forward pass of the next window (at least
    the one graph that pass 2 needs, at most all)."""
    window = eval_peak(h, w, tile, halo, precision)
    tiles = split(h, w, tile, halo)
    if window * len(tiles) <= room:
        return len(tiles)
    forward = INFERENCE_BYTES_PER_PX * window // WINDOW_BYTES_PER_PX[precision]
    return max(1, (room - forward) // window)


def picture_bytes(h: int, w: int, history: int) -> int:
    return h * w * 12 * (IMAGE_BUFFERS + 2 * history)


def fitting_history(h: int, w: int, wanted: int, budget: int) -> int:
    """The L-BFGS history that leaves half the budget to the evaluation: at most ``wanted``, at least 3."""
    spare = budget // 2 - BASE_BYTES - picture_bytes(h, w, 0)
    return max(MIN_LBFGS_HISTORY, min(wanted, spare // (h * w * 24) if spare > 0 else 0))


def choose_tile(h: int, w: int, forced: int, halo: int, precision: str, room: int) -> int | None:
    """None when the whole picture fits ``room`` bytes (and no tile is forced), else the largest tile edge (a
    multiple of 16, at least ``MIN_TILE``) whose windows fit; ``forced`` (> 0) is taken as it is."""
    if forced:
        return forced if forced < max(h, w) else None
    if eval_peak(h, w, None, halo, precision) <= room:
        return None
    for tile in range(GRID * (max(h, w) // GRID), MIN_TILE - 1, -GRID):
        if eval_peak(h, w, tile, halo, precision) <= room:
            return tile
    return 0  # nothing fits


def plan(options, content_shape: tuple[int, int], cost: EvaluationCost, budget: int, precision: str) -> Plan:
    """The estimate for stylizing a content of ``content_shape`` with ``options`` under ``budget`` bytes, with
    evaluations at ``precision`` ("fp32" or "bf16") costing ``cost`` = (t_0, t_px): t_0 + t_px n seconds at n px.

    Raises ``InputError`` when even the smallest tile does not fit, naming the largest size that would."""
    halo = halo_for([options.content_layer, *options.style_layers])
    asked, budget = budget, int(HEADROOM * budget)
    if options.tile and options.tile < halo:
        raise InputError(f"tile {options.tile} px is smaller than the halo of {halo} px that the chosen layers need "
                         f"around each tile; use a tile of at least {halo} px, or 0 to choose it automatically.")
    seconds, peak, tile, tiles, stage_tiles, stage_keep = 0.0, 0, None, 1, [], []
    schedule = options.schedule()
    fh, fw = stage_shape(content_shape, options.size)
    history = fitting_history(fh, fw, options.lbfgs_history, budget) if options.optimizer == "lbfgs" else 0
    for long_edge, steps in schedule:
        h, w = stage_shape(content_shape, long_edge)
        room = budget - BASE_BYTES - picture_bytes(h, w, history)
        tile = choose_tile(h, w, options.tile, halo, precision, room)
        if tile == 0 or room <= 0:
            fits = largest_fitting_size(options, content_shape, budget, precision, halo)
            raise InputError(f"size {options.size} needs more memory than the budget of {gigabytes(asked)} allows, "
                             f"even tiled; choose a size up to {fits} px or a larger memory budget.")
        windows = [(t.in_bottom - t.in_top) * (t.in_right - t.in_left) for t in split(h, w, tile, halo)] \
            if tile else [h * w]
        keep = kept_graphs(h, w, tile, halo, precision, room) if tile else 0
        work = sum(n * (1.0 if i < keep or not tile else 1.0 + FORWARD_SHARE) for i, n in enumerate(windows))
        style_px = (long_edge * options.style_scale) ** 2  # a square style, the usual worst case
        targets = FORWARD_SHARE * (h * w + style_px) * (sum(windows) / (h * w) if tile else 1.0)
        t_0, t_px = cost
        seconds += (steps + 1) * STEP_EVALUATIONS * (t_0 * len(windows) + t_px * work) + t_px * targets
        tiles = len(windows)
        stage_tiles.append(tile)
        stage_keep.append(keep)
        held = sum(windows[:keep]) * WINDOW_BYTES_PER_PX[precision] if keep > 1 else 0
        peak = max(peak, BASE_BYTES + picture_bytes(h, w, history) + max(held, eval_peak(h, w, tile, halo, precision)))
    return Plan(seconds, peak, tile, tiles, history, (fh, fw), tuple(stage_tiles), tuple(stage_keep))


def largest_fitting_size(options, content_shape, budget, precision, halo) -> int:
    """The largest long edge (a multiple of 16) whose picture buffers and smallest tile fit ``budget``."""
    size = options.size
    while size > 32:
        size = GRID * ((size - 1) // GRID)
        h, w = stage_shape(content_shape, size)
        room = budget - BASE_BYTES - picture_bytes(h, w, MIN_LBFGS_HISTORY)
        if room > 0 and choose_tile(h, w, 0, halo, precision, room) != 0:
            return size
    return 32


def job_budget_seconds() -> float:
    """Seconds a job may take (``NST_JOB_BUDGET_S``, default 300)."""
    try:
        return max(1.0, float(os.environ.get(JOB_BUDGET_ENV, "300")))
    except ValueError:
        return 300.0


def size_within(options, content_shape, cost: EvaluationCost, budget, precision, seconds: float) -> int:
    """The largest long edge (multiple of 16, at least 32) whose estimate stays within ``seconds``."""
    lo, hi = 32, options.size
    while hi - lo > GRID:
        mid = GRID * ((lo + hi) // (2 * GRID))
        try:
            fits = plan(_with_size(options, mid), content_shape, cost, budget, precision).seconds <= seconds
        except InputError:
            fits = False
        lo, hi = (mid, hi) if fits else (lo, mid)
    return lo


def _with_size(options, size: int):
    scales = max(1, min(options.scales, 1 + int(math.log2(size / 32))))
    return dataclasses.replace(options, size=size, scales=scales)


# --- one VGG19 pass (a scan batch, a feature visualisation, a lab panel) -----------------------------------------
INFERENCE_BYTES_PER_PX = 1000  # a pass without gradients: conv1_x's activations dominate, whatever the layer
BACKWARD_BYTES_PER_PX = (1000, 500)  # with a backward pass to a layer of block B: 1000 + 500 (B - 1) bytes per pixel
# (both fp32, from the peak RSS above the loaded model of passes over 4-8 images at 128 and 224 px: 0.9 KB/px
# without gradients; 1.0, 2.1 and 3.0 KB/px with a backward pass to conv1_1, conv3_1 and conv5_4)


def pass_bytes_per_px(layer: str, backward: bool) -> int:
    """Bytes per input pixel of a VGG19 pass up to ``layer`` (convB_I, reluB_I or poolB: block B)."""
    if not backward:
        return INFERENCE_BYTES_PER_PX
    first, per_block = BACKWARD_BYTES_PER_PX
    return first + per_block * (int(layer[4]) - 1)


def pass_peak(pixels: int, layer: str, backward: bool) -> int:
    """Peak bytes of a job whose largest pass takes ``pixels`` input pixels (all images of the batch together):
    BASE_BYTES + pass_bytes_per_px * pixels."""
    return BASE_BYTES + pass_bytes_per_px(layer, backward) * pixels


def fitting_pixels(budget: int, layer: str, backward: bool) -> int:
    """The most input pixels one pass may take within ``HEADROOM`` of ``budget`` bytes (0 when none fit)."""
    return max(0, (int(HEADROOM * budget) - BASE_BYTES) // pass_bytes_per_px(layer, backward))


def over_budget(what: str, pixels: int, layer: str, backward: bool, budget: int, fits: str) -> InputError | None:
    """None when the pass fits ``budget``, else the one-sentence error: ``what`` needs about so much, more than the
    budget; ``fits`` (what would fit) follows."""
    if pixels <= fitting_pixels(budget, layer, backward):
        return None
    return InputError(f"{what} needs about {gigabytes(pass_peak(pixels, layer, backward))} of memory, more than the "
                      f"budget of {gigabytes(budget)} (NST_MAX_MEMORY); {fits}.")


def fitting_side(budget: int, layer: str, backward: bool, images: int = 1) -> int:
    """The largest square side (a multiple of 16, at least 32) of which ``images`` fit one pass within ``budget``;
    0 when not even 32 px fits."""
    side = GRID * (math.isqrt(fitting_pixels(budget, layer, backward) // max(1, images)) // GRID)
    return side if side >= 32 else 0
