"""One dataclass holds every stylization setting and its default; the CLI and the app read them from here."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .checks import InputError, one_of, real_number, shown, whole_number
from .device import DEVICES, PRECISIONS
from .memory import BUDGET_SHARE, parse_size
from .regions import MAX_REGIONS
from .schema import check, setting
from .vgg import FEATURE_LAYERS, POOLINGS

INITS = ("content+palette", "content", "noise", "style", "content+noise")
OPTIMIZERS = ("lbfgs", "adam")
DEFAULT_STYLE_LAYERS = {"relu1_1": 0.2, "relu2_1": 0.2, "relu3_1": 0.2, "relu4_1": 0.2, "relu5_1": 0.2}
MIN_STAGE_SIZE = 32
MAX_SIZE, MAX_STEPS, MAX_SCALES = 4096, 100_000, 6
MAX_WEIGHT = 1e12  # alpha, beta, lambda, TV and blend weights: any finite number up to this
MAX_SEED = 2**63 - 1
DEFAULT_STRENGTH = 30.0  # beta / alpha by default
MAX_STRENGTH_FACTOR = 4.0  # a stronger style's steps: at most this many times the default strength's
# near_style_gain: beta x m, m within [1 / MAX_STYLE_GAIN, MAX_STYLE_GAIN] measured at up to GAIN_EDGE px
# (stylize.style_balance), the top reached from FULL_GAIN_STEPS steps at the final size (stylize.gain_cap).
# NEAR_STYLE_RHO is near rho of a typical pair of benchmarks/bench_quality.py (docs/performance.md, "The look").
NEAR_STYLE_RHO, MAX_STYLE_GAIN, GAIN_EDGE, FULL_GAIN_STEPS = 4e-5, 4.0, 512, 30
# near_style_gain with init content+palette: the start's palette weight (stylize.palette_weight), from the share of
# the style's cost at PALETTE_EDGE px that the style's colours leave: 1 up to the first share, 1/2 from the second
PALETTE_EDGE, PALETTE_CARRIES = 64, (0.05, 0.2)
MAX_STYLES = 16
LAYERS_SAID = "a conv or relu layer of VGG19 (conv1_1 … conv5_4, relu1_1 … relu5_4)"
STYLE_LAYERS_SAID = "'layer: weight' items separated by commas, e.g. 'relu1_1: 0.5, relu3_1: 0.5'"


def parse_style_layers(text: str) -> dict[str, float]:
    """The style layers' text -> {layer: λ^[l]}, the same at every door (CLI, app, HTTP, MCP, Python).

    Items are separated by commas (or semicolons); each is ``layer: weight`` (or ``layer=weight``). A layer written
    without a weight gets 1/n, n the number of layers listed, so ``relu1_1, relu2_1`` weighs each 0.5 and the five
    ``reluN_1`` alone give the default weights. Names and weights are checked by ``StyleOptions.validate``.
    """
    items = [part.strip() for part in str(text).replace(";", ",").split(",") if part.strip()]
    if not items:
        raise InputError(f"style layers: give at least one style layer, as {STYLE_LAYERS_SAID}; got {shown(text)}.")
    layers: dict[str, float] = {}
    for item in items:
        name, _, weight = (s.strip() for s in item.replace("=", ":").partition(":"))
        if name in layers:
            raise InputError(f"style layers: {shown(name)} is listed twice; list each layer once, with its weight.")
        try:
            layers[name] = float(weight) if weight else 1.0 / len(items)
        except ValueError:
            raise InputError(f"style layers: {shown(item)} is not 'layer: weight' (bad weight in {shown(item)}); "
                             "write e.g. 'relu3_1: 0.2'.") from None
    if not any(layers.values()):  # a zero-style run is a content reconstruction: the Python API's, not a text's
        raise InputError("style layers: every weight λ is 0, so there is no style to transfer; give at least one "
                         "layer a weight above 0, e.g. relu1_1: 0.2.")
    return layers


def format_style_layers(layers: dict[str, float]) -> str:
    """The inverse of ``parse_style_layers``: every weight written out."""
    return ", ".join(f"{name}: {weight:g}" for name, weight in layers.items())


@dataclass
class StyleOptions:
    """Settings of one stylization: J(G) = alpha * J_content + beta * J_style + tv_weight * TV(G)."""

    size: int = setting("long edge of the output in pixels (aspect ratio kept)", range=(MIN_STAGE_SIZE, MAX_SIZE),
                        default=512)
    steps: int = setting("optimizer steps at the final size (each coarser size gets step_ratio times the next's); a "
                         "style stronger than the default, beta/alpha above 30, gets (beta/alpha / 30)^(1/4) times as "
                         "many at every size", range=(0, MAX_STEPS), default=150)
    scales: int = setting("coarse-to-fine schedule: number of sizes, each half the next (1 = single scale)",
                          range=(1, MAX_SCALES), default=1)
    step_ratio: float = setting("steps of each coarser size, as a multiple of the next finer size's steps",
                                range=(0.1, 10), default=2.0)
    content_layer: str = setting("VGG19 layer whose activations define content", choices=FEATURE_LAYERS,
                                 said=LAYERS_SAID, default="relu4_2")
    style_layers: dict[str, float] = setting(
        "style layers and their weights lambda^[l], as a mapping or as text 'relu1_1: 0.5, relu3_1' (a layer without "
        "a weight gets 1/n of the n layers listed)", default_factory=lambda: dict(DEFAULT_STYLE_LAYERS))
    alpha: float = setting("content weight alpha", range=(0, MAX_WEIGHT), default=1.0)
    beta: float = setting(
        "style weight beta (J_content grows with the image's area, J_style does not: at a smaller size the same beta "
        "weighs style more)", range=(0, MAX_WEIGHT), default=DEFAULT_STRENGTH)
    near_style_gain: bool = setting(
        "balance beta for each style: raise it for a style whose Gram statistics are near the content's (a pale, "
        "low-contrast or photo-like style), so the default strength lays it as visibly as a busy one, and keep the "
        "pull that the course's Gram sums give a style image larger or smaller than the content: beta x g r within "
        f"[1/{MAX_STYLE_GAIN:g}, {MAX_STYLE_GAIN:g}] ({MAX_STYLE_GAIN:g} x (steps/{FULL_GAIN_STEPS})^(1/4) under "
        f"{FULL_GAIN_STEPS} steps), g = max(1, rho / {NEAR_STYLE_RHO:g}), rho = "
        "the content's mean 1/2 a^2 at the content layer over its own J_style, r = its J_style with the style's Gram "
        f"sums over that with the Grams on its positions, at up to {GAIN_EDGE} px; and with init content+palette, "
        "start half way to the style's colours where they carry little of its look (they leave over "
        f"{PALETTE_CARRIES[1]:g} of its J_style at {PALETTE_EDGE} px; all the way where they leave under "
        f"{PALETTE_CARRIES[0]:g}); off: beta and the start as given", label="balance the style", default=True)
    tv_weight: float = setting("total-variation weight: above 0 smooths the result (neighbouring pixels pulled "
                               "together); 0 leaves it to the costs", range=(0, MAX_WEIGHT), label="TV weight",
                               widget="number", flag="--tv", default=0.0)
    style_blend: tuple[float, ...] = setting(
        "blend weights of several style images (empty = equal)", default=())
    style_scale: float = setting("style image long edge, as a multiple of the output's", range=(0.1, 4),
                                 default=1.0)
    preserve_color: bool = setting("keep the content's colours: transfer luminance only", label="preserve color",
                                   default=False)
    match_style_colors: bool = setting(
        "keep the content's colours another way: give each style image the content's colour mean and covariance "
        "before stylizing (Gatys et al. 2017's colour matching)", label="match style colors", default=False)
    palette_only: bool = setting(
        "no stylization: the content with the first style image's colours (mean and covariance), in under a second",
        default=False)
    region_styles: tuple[int, ...] = setting(
        "with a regions mask: the style image (1-based) that the red, green and blue regions take, in that order "
        "(empty: red the 1st, green the 2nd, blue the 3rd); the rest takes the blend", default=())
    init: str = setting(
        f"starting image G: one of {', '.join(INITS)} (content+palette: the content moved towards the colours of the "
        "style of the largest blend weight, so the first steps need not spend themselves on colour)",
        choices=INITS, default="content+palette")
    palette_start: float = setting(
        "with init content+palette: how far the start moves from the content's colours to the style's colour mean "
        "and covariance (0: the content itself, 1: all the way)", range=(0, 1), default=1.0)
    optimizer: str = setting(f"one of {', '.join(OPTIMIZERS)} (lbfgs: Gatys et al.'s quasi-Newton steps, few "
                             "needed; adam: gradient steps of the learning rate's size, several times as many needed)",
                             choices=OPTIMIZERS, default="lbfgs")
    learning_rate: float = setting("Adam's step size in pixel units ([0, 1] scale)", range=(1e-4, 1), flag="--lr",
                                   widget="number", default=0.02)
    lbfgs_history: int = setting("L-BFGS history size", range=(1, 1000), label="L-BFGS history", default=50)
    seed: int = setting("random seed (noise init; same seed and settings give the same image)", range=(0, MAX_SEED),
                        widget="number", default=0)
    pooling: str = setting(f"VGG19 pooling: one of {', '.join(POOLINGS)}", choices=POOLINGS, default="max")
    weights: str = setting("VGG19 weights: 'caffe' (bundled) or a torchvision-format .pth path or URL",
                           default="caffe")
    device: str = setting(f"one of {', '.join(DEVICES)} (auto: CUDA, then MPS, then CPU)", choices=DEVICES,
                          default="auto")
    precision: str = setting(f"convolution precision: one of {', '.join(PRECISIONS)} (costs stay float32)",
                             choices=PRECISIONS, default="auto")
    max_memory: str = setting(f"memory budget, e.g. 4G or 1500M (empty: $NST_MAX_MEMORY, else {BUDGET_SHARE:g} of "
                              "the memory available); past it the picture is stylized tile by tile, exactly",
                              default="")
    tile: int = setting("tile edge in px, a multiple of 16 (0: tile only when the budget needs it, as large as fits)",
                        range=(0, MAX_SIZE), default=0)
    preview_every: int = setting("send the current image every this many steps", range=(1, MAX_STEPS),
                                 default=10)

    def __post_init__(self):
        self.validate()

    def validate(self) -> "StyleOptions":
        """Check every setting, raising ``InputError`` with one sentence naming the first bad one, its allowed range
        and the value received. Values that arrive as text or floats (a raw API call, a PNG's stored settings) are
        turned into the field's type here, the one place every entry point goes through: each declared range and
        choice by ``schema.check``, then the settings that are more than a number or a choice, and the rules
        between settings."""
        for name, value in check(self).items():
            setattr(self, name, value)
        if self.size / 2 ** (self.scales - 1) < MIN_STAGE_SIZE:
            raise InputError(f"scales={self.scales} makes the coarsest size smaller than {MIN_STAGE_SIZE} px at "
                             f"size {self.size}; use fewer scales or a larger size.")
        if isinstance(self.style_layers, str):
            self.style_layers = parse_style_layers(self.style_layers)
        if not isinstance(self.style_layers, dict) or not self.style_layers:
            raise InputError("style layers must name at least one layer with its weight, e.g. relu1_1: 0.2; "
                             f"got {shown(self.style_layers)}.")
        self.style_layers = {one_of("style layer", layer, FEATURE_LAYERS, LAYERS_SAID):
                             real_number(f"style layer weight λ of {layer}", lam, 0, MAX_WEIGHT)
                             for layer, lam in self.style_layers.items()}
        if self.alpha == 0 and self.beta == 0:
            raise InputError("alpha and beta can't both be 0: nothing would be optimised.")
        if not isinstance(self.style_blend, (list, tuple)) or len(self.style_blend) > MAX_STYLES:
            raise InputError(f"style blend must be a list of at most {MAX_STYLES} weights; got {shown(self.style_blend)}.")
        self.style_blend = tuple(real_number("style blend weight", w, 0, MAX_WEIGHT) for w in self.style_blend)
        if self.style_blend and sum(self.style_blend) == 0:
            raise InputError("style blend weights can't all be 0; give at least one style a weight above 0.")
        if self.preserve_color and self.match_style_colors:
            raise InputError("preserve color and match style colors both keep the content's colours; choose one.")
        if not isinstance(self.region_styles, (list, tuple)) or len(self.region_styles) > MAX_REGIONS:
            raise InputError(f"region styles must list at most {MAX_REGIONS} style numbers (red, green, blue); "
                             f"got {shown(self.region_styles)}.")
        self.region_styles = tuple(whole_number("region style", k, 0, MAX_STYLES) for k in self.region_styles)
        if not isinstance(self.weights, str) or not self.weights or len(self.weights) > 4096:
            raise InputError(f"weights must be 'caffe', a .pth path or a URL; got {shown(self.weights)}.")
        if not isinstance(self.max_memory, str):
            raise InputError(f"max memory must be a size such as 4G, or empty; got {shown(self.max_memory)}.")
        if self.max_memory.strip():
            parse_size("max memory", self.max_memory)
        if self.tile % 16:
            raise InputError(f"tile must be a multiple of 16 px (VGG19's four poolings); got {self.tile}.")
        return self

    def strength_factor(self) -> float:
        """m = (s / s_0)^(1/4), s = beta / alpha, s_0 the default's, kept within [1, MAX_STRENGTH_FACTOR]: the steps'
        multiplier of a stronger style. A stronger style is a harder problem, which the default's steps leave
        further from converged; with these, the Js@1 share falls at each step of benchmarks/bench_quality.py's
        strength ladder (docs/performance.md, "The look")."""
        if self.beta == 0:
            return 1.0
        ratio = float("inf") if self.alpha == 0 else self.beta / self.alpha / DEFAULT_STRENGTH
        return min(MAX_STRENGTH_FACTOR, max(1.0, ratio ** 0.25))

    def schedule(self) -> list[tuple[int, int]]:
        """Coarse-to-fine stages as (long edge, steps): each coarser size is half the next, with ``step_ratio`` times
        its steps (at least one where the final size has any), all times ``strength_factor``."""
        steps = self.steps * self.strength_factor()
        return [(round(self.size / 2 ** k), max(min(self.steps, 1), round(steps * self.step_ratio ** k)))
                for k in reversed(range(self.scales))]

    def blend_weights(self, n_styles: int) -> list[float]:
        """Weights of ``n_styles`` style images, normalised to sum to 1 (equal when unset)."""
        if not self.style_blend:
            return [1.0 / n_styles] * n_styles
        if len(self.style_blend) != n_styles:
            raise InputError(f"{len(self.style_blend)} style blend weights given for {n_styles} style images; give one per style image.")
        total = sum(self.style_blend)
        return [w / total for w in self.style_blend]

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["style_blend"] = list(self.style_blend)
        d["region_styles"] = list(self.region_styles)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "StyleOptions":
        """Rebuild options from ``to_dict`` output (missing keys take defaults), through the same ``validate``.

        Stored settings are input like any other: a key this version doesn't know is refused, not ignored.
        """
        if not isinstance(d, dict):
            raise InputError(f"settings must be a JSON object of setting: value; got {shown(d)}.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in d if k not in names)
        if unknown:
            raise InputError(f"unknown setting {shown(unknown[0])}; known settings are {', '.join(sorted(names))}.")
        kw = dict(d)
        for name in ("style_blend", "region_styles"):
            if isinstance(kw.get(name), list):
                kw[name] = tuple(kw[name])
        return cls(**kw)


# Presets set size, steps and schedule. All start from the content in the style's colours (the default init and
# palette_start) and run four scales, each coarser size with twice the next's steps: the coarse sizes lay the style's
# large-scale look, and a finer size starts from the coarser result upsampled. benchmarks/bench_quality.py measures
# their look against the earlier four-scale recipe (benchmarks/bench_stylize.py PRESETS_BEFORE) on its pairs, and
# their time (docs/performance.md, "The look").
PRESETS: dict[str, dict] = {
    "Quick": {"size": 512, "steps": 9, "scales": 4},  # 72 steps at 64 px, 36 at 128, 18 at 256, 9 at 512
    "Balanced": {"size": 512, "steps": 30, "scales": 4},  # 240 at 64 px, 120 at 128, 60 at 256, 30 at 512
    "Best": {"size": 768, "steps": 28, "scales": 4},  # 224 at 96 px, 112 at 192, 56 at 384, 28 at 768
}


def preset_options(name: str, **overrides) -> StyleOptions:
    """``StyleOptions`` for a preset (Quick / Balanced / Best), with any other settings overridden."""
    if name not in PRESETS:
        raise InputError(f"preset must be one of {', '.join(PRESETS)}; got {shown(name)}.")
    return StyleOptions(**{**PRESETS[name], **overrides})


def preset_at(name: str, size: int, **overrides) -> StyleOptions:
    """The preset ``name`` at ``size`` px: its coarse-to-fine scales, fewer where needed so that the coarsest stage
    is still at least MIN_STAGE_SIZE (the largest n <= scales with size / 2^(n-1) >= MIN_STAGE_SIZE)."""
    scales = PRESETS[name]["scales"] if name in PRESETS else 1
    fitted = max(1, min(scales, 1 + int(math.log2(max(size, 1) / MIN_STAGE_SIZE))))
    return preset_options(name, size=size, scales=fitted, **overrides)
