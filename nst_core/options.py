"""One dataclass holds every stylization setting and its default; the CLI and the app read them from here."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .checks import InputError, one_of, real_number, shown, whole_number
from .memory import BUDGET_SHARE, parse_size
from .regions import MAX_REGIONS
from .vgg import FEATURE_LAYERS, POOLINGS

INITS = ("content+palette", "content", "noise", "style", "content+noise")
OPTIMIZERS = ("lbfgs", "adam")
PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")
DEFAULT_STYLE_LAYERS = {"relu1_1": 0.2, "relu2_1": 0.2, "relu3_1": 0.2, "relu4_1": 0.2, "relu5_1": 0.2}
MIN_STAGE_SIZE = 32
MAX_SIZE, MAX_STEPS, MAX_SCALES = 4096, 100_000, 6
MAX_WEIGHT = 1e12  # alpha, beta, lambda, TV and blend weights: any finite number up to this
MAX_SEED = 2**63 - 1
DEFAULT_STRENGTH = 30.0  # beta / alpha by default
MAX_STRENGTH_FACTOR = 4.0  # a stronger style's steps: at most this many times the default strength's
MAX_STYLES = 16
LAYERS_SAID = "a conv or relu layer of VGG19 (conv1_1 … conv5_4, relu1_1 … relu5_4)"


def _help(text: str, **kw):
    return field(metadata={"help": text}, **kw)


@dataclass
class StyleOptions:
    """Settings of one stylization: J(G) = alpha * J_content + beta * J_style + tv_weight * TV(G)."""

    size: int = _help("long edge of the output in pixels (aspect ratio kept)", default=512)
    steps: int = _help("optimizer steps at the final size (each coarser size gets step_ratio times the next's); a "
                       "style stronger than the default, beta/alpha above 30, gets (beta/alpha / 30)^(1/4) times as "
                       "many at every size", default=150)
    scales: int = _help("coarse-to-fine schedule: number of sizes, each half the next (1 = single scale)", default=1)
    step_ratio: float = _help("steps of each coarser size, as a multiple of the next finer size's steps", default=2.0)
    content_layer: str = _help("VGG19 layer whose activations define content", default="relu4_2")
    style_layers: dict[str, float] = _help(
        "style layers and their weights lambda^[l]", default_factory=lambda: dict(DEFAULT_STYLE_LAYERS))
    alpha: float = _help("content weight alpha", default=1.0)
    beta: float = _help(
        "style weight beta (J_content grows with the image's area, J_style does not: at a smaller size the same beta "
        "weighs style more)", default=DEFAULT_STRENGTH)
    tv_weight: float = _help("total-variation (smoothness) weight", default=0.0)
    style_blend: tuple[float, ...] = _help(
        "blend weights of several style images (empty = equal)", default=())
    style_scale: float = _help("style image long edge, as a multiple of the output's", default=1.0)
    preserve_color: bool = _help("keep the content's colours: transfer luminance only", default=False)
    match_style_colors: bool = _help(
        "keep the content's colours another way: give each style image the content's colour mean and covariance "
        "before stylizing (Gatys et al. 2017's colour matching)", default=False)
    palette_only: bool = _help(
        "no stylization: the content with the first style image's colours (mean and covariance), in under a second",
        default=False)
    region_styles: tuple[int, ...] = _help(
        "with a regions mask: the style image (1-based) that the red, green and blue regions take, in that order "
        "(empty: red the 1st, green the 2nd, blue the 3rd); the rest takes the blend", default=())
    init: str = _help(
        f"starting image G: one of {', '.join(INITS)} (content+palette: the content moved towards the colours of the "
        "style of the largest blend weight, so the first steps need not spend themselves on colour)",
        default="content+palette")
    palette_start: float = _help(
        "with init content+palette: how far the start moves from the content's colours to the style's colour mean "
        "and covariance (0: the content itself, 1: all the way)", default=1.0)
    optimizer: str = _help(f"one of {', '.join(OPTIMIZERS)}", default="lbfgs")
    learning_rate: float = _help("Adam's step size in pixel units ([0, 1] scale)", default=0.02)
    lbfgs_history: int = _help("L-BFGS history size", default=50)
    seed: int = _help("random seed (noise init; same seed and settings give the same image)", default=0)
    pooling: str = _help(f"VGG19 pooling: one of {', '.join(POOLINGS)}", default="max")
    weights: str = _help("VGG19 weights: 'caffe' (bundled) or a torchvision-format .pth path or URL",
                         default="caffe")
    device: str = _help(f"one of {', '.join(DEVICES)} (auto: CUDA, then MPS, then CPU)", default="auto")
    precision: str = _help(f"convolution precision: one of {', '.join(PRECISIONS)} (costs stay float32)",
                           default="auto")
    max_memory: str = _help(f"memory budget, e.g. 4G or 1500M (empty: $NST_MAX_MEMORY, else {BUDGET_SHARE:g} of "
                            "the memory available); past it the picture is stylized tile by tile, exactly", default="")
    tile: int = _help("tile edge in px, a multiple of 16 (0: tile only when the budget needs it, as large as fits)",
                      default=0)
    preview_every: int = _help("send the current image every this many steps", default=10)

    def __post_init__(self):
        self.validate()

    def validate(self) -> "StyleOptions":
        """Check every setting, raising ``InputError`` with one sentence naming the first bad one, its allowed range
        and the value received. Values that arrive as text or floats (a raw API call, a PNG's stored settings) are
        turned into the field's type here, the one place every entry point goes through."""
        self.size = whole_number("size", self.size, MIN_STAGE_SIZE, MAX_SIZE)
        self.steps = whole_number("steps", self.steps, 0, MAX_STEPS)
        self.scales = whole_number("scales", self.scales, 1, MAX_SCALES)
        self.step_ratio = real_number("step ratio", self.step_ratio, 0.1, 10)
        if self.size / 2 ** (self.scales - 1) < MIN_STAGE_SIZE:
            raise InputError(f"scales={self.scales} makes the coarsest size smaller than {MIN_STAGE_SIZE} px at "
                             f"size {self.size}; use fewer scales or a larger size.")
        self.content_layer = one_of("content layer", self.content_layer, FEATURE_LAYERS, LAYERS_SAID)
        if not isinstance(self.style_layers, dict) or not self.style_layers:
            raise InputError("style layers must name at least one layer with its weight, e.g. relu1_1: 0.2; "
                             f"got {shown(self.style_layers)}.")
        self.style_layers = {one_of("style layer", layer, FEATURE_LAYERS, LAYERS_SAID):
                             real_number(f"style layer weight λ of {layer}", lam, 0, MAX_WEIGHT)
                             for layer, lam in self.style_layers.items()}
        for name, label in (("alpha", "alpha"), ("beta", "beta"), ("tv_weight", "TV weight")):
            setattr(self, name, real_number(label, getattr(self, name), 0, MAX_WEIGHT))
        if self.alpha == 0 and self.beta == 0:
            raise InputError("alpha and beta can't both be 0: nothing would be optimised.")
        self.learning_rate = real_number("learning rate", self.learning_rate, 0, 1)
        if not isinstance(self.style_blend, (list, tuple)) or len(self.style_blend) > MAX_STYLES:
            raise InputError(f"style blend must be a list of at most {MAX_STYLES} weights; got {shown(self.style_blend)}.")
        self.style_blend = tuple(real_number("style blend weight", w, 0, MAX_WEIGHT) for w in self.style_blend)
        if self.style_blend and sum(self.style_blend) == 0:
            raise InputError("style blend weights can't all be 0; give at least one style a weight above 0.")
        self.style_scale = real_number("style scale", self.style_scale, 0.1, 4)
        for name in ("preserve_color", "match_style_colors", "palette_only"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name.replace('_', ' ')} must be true or false; got {shown(getattr(self, name))}.")
        if self.preserve_color and self.match_style_colors:
            raise InputError("preserve color and match style colors both keep the content's colours; choose one.")
        if not isinstance(self.region_styles, (list, tuple)) or len(self.region_styles) > MAX_REGIONS:
            raise InputError(f"region styles must list at most {MAX_REGIONS} style numbers (red, green, blue); "
                             f"got {shown(self.region_styles)}.")
        self.region_styles = tuple(whole_number("region style", k, 0, MAX_STYLES) for k in self.region_styles)
        self.init = one_of("init", self.init, INITS)
        self.palette_start = real_number("palette start", self.palette_start, 0, 1)
        self.optimizer = one_of("optimizer", self.optimizer, OPTIMIZERS)
        self.lbfgs_history = whole_number("L-BFGS history", self.lbfgs_history, 1, 1000)
        self.seed = whole_number("seed", self.seed, 0, MAX_SEED)
        self.pooling = one_of("pooling", self.pooling, POOLINGS)
        if not isinstance(self.weights, str) or not self.weights or len(self.weights) > 4096:
            raise InputError(f"weights must be 'caffe', a .pth path or a URL; got {shown(self.weights)}.")
        self.device = one_of("device", self.device, DEVICES)
        self.precision = one_of("precision", self.precision, PRECISIONS)
        self.preview_every = whole_number("preview every", self.preview_every, 1, MAX_STEPS)
        if not isinstance(self.max_memory, str):
            raise InputError(f"max memory must be a size such as 4G, or empty; got {shown(self.max_memory)}.")
        if self.max_memory.strip():
            parse_size("max memory", self.max_memory)
        self.tile = whole_number("tile", self.tile, 0, MAX_SIZE)
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
    "Quick": {"size": 512, "steps": 8, "scales": 4},  # 64 steps at 64 px, 32 at 128, 16 at 256, 8 at 512
    "Balanced": {"size": 512, "steps": 36, "scales": 4},  # 288 at 64 px, 144 at 128, 72 at 256, 36 at 512
    "Best": {"size": 768, "steps": 28, "scales": 4},  # 224 at 96 px, 112 at 192, 56 at 384, 28 at 768
}


def preset_options(name: str, **overrides) -> StyleOptions:
    """``StyleOptions`` for a preset (Quick / Balanced / Best), with any other settings overridden."""
    if name not in PRESETS:
        raise InputError(f"preset must be one of {', '.join(PRESETS)}; got {shown(name)}.")
    return StyleOptions(**{**PRESETS[name], **overrides})
