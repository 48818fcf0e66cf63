"""One dataclass holds every stylization setting and its default; the CLI and the app read them from here."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .vgg import FEATURE_LAYERS, POOLINGS, check_layer

INITS = ("content", "noise", "style", "content+noise")
OPTIMIZERS = ("lbfgs", "adam")
PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")
DEFAULT_STYLE_LAYERS = {"relu1_1": 0.2, "relu2_1": 0.2, "relu3_1": 0.2, "relu4_1": 0.2, "relu5_1": 0.2}
MIN_STAGE_SIZE = 32


def _help(text: str, **kw):
    return field(metadata={"help": text}, **kw)


@dataclass
class StyleOptions:
    """Settings of one stylization: J(G) = alpha * J_content + beta * J_style + tv_weight * TV(G)."""

    size: int = _help("long edge of the output in pixels (aspect ratio kept)", default=512)
    steps: int = _help("optimizer steps at the final size (each coarser scale gets twice as many)", default=150)
    scales: int = _help("coarse-to-fine schedule: number of sizes, each half the next (1 = single scale)", default=1)
    content_layer: str = _help("VGG19 layer whose activations define content", default="relu4_2")
    style_layers: dict[str, float] = _help(
        "style layers and their weights lambda^[l]", default_factory=lambda: dict(DEFAULT_STYLE_LAYERS))
    alpha: float = _help("content weight alpha", default=1.0)
    beta: float = _help(
        "style weight beta (J_content grows with the image's area, J_style does not: at a smaller size the same beta "
        "weighs style more)", default=30.0)
    tv_weight: float = _help("total-variation (smoothness) weight", default=0.0)
    style_blend: tuple[float, ...] = _help(
        "blend weights of several style images (empty = equal)", default=())
    style_scale: float = _help("style image long edge, as a multiple of the output's", default=1.0)
    preserve_color: bool = _help("keep the content's colours: transfer luminance only", default=False)
    init: str = _help(f"starting image G: one of {', '.join(INITS)}", default="content")
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
    preview_every: int = _help("send the current image every this many steps", default=10)

    def __post_init__(self):
        self.validate()

    def validate(self) -> "StyleOptions":
        """Raise ``ValueError`` with a one-line message naming the first bad setting."""
        def need(ok: bool, msg: str):
            if not ok:
                raise ValueError(msg)

        need(isinstance(self.size, int) and self.size >= MIN_STAGE_SIZE, f"size must be an integer >= {MIN_STAGE_SIZE}, got {self.size!r}")
        need(self.size <= 4096, f"size must be at most 4096 pixels, got {self.size}")
        need(isinstance(self.steps, int) and self.steps >= 0, f"steps must be a non-negative integer, got {self.steps!r}")
        need(isinstance(self.scales, int) and 1 <= self.scales <= 6, f"scales must be between 1 and 6, got {self.scales!r}")
        need(self.size / 2 ** (self.scales - 1) >= MIN_STAGE_SIZE,
             f"scales={self.scales} makes the coarsest size smaller than {MIN_STAGE_SIZE} px; use fewer scales or a larger size")
        need(self.content_layer in FEATURE_LAYERS,
             f"content layer must be a conv or relu layer (conv1_1 ... relu5_4), got {self.content_layer!r}")
        need(len(self.style_layers) > 0, "at least one style layer is needed")
        for layer, lam in self.style_layers.items():
            check_layer(layer)
            need(layer in FEATURE_LAYERS, f"style layer must be a conv or relu layer, got {layer!r}")
            need(math.isfinite(lam) and lam >= 0, f"style layer weight for {layer} must be >= 0, got {lam}")
        for name in ("alpha", "beta", "tv_weight", "learning_rate"):
            v = getattr(self, name)
            need(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, f"{name} must be a number >= 0, got {v!r}")
        need(self.alpha > 0 or self.beta > 0, "alpha and beta can't both be 0")
        need(all(math.isfinite(w) and w >= 0 for w in self.style_blend) and (not self.style_blend or sum(self.style_blend) > 0),
             f"style blend weights must be >= 0 and not all 0, got {list(self.style_blend)}")
        need(0.1 <= self.style_scale <= 4, f"style scale must be between 0.1 and 4, got {self.style_scale}")
        need(self.init in INITS, f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        need(self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        need(self.pooling in POOLINGS, f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        need(self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        need(self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        need(isinstance(self.lbfgs_history, int) and self.lbfgs_history >= 1, "L-BFGS history must be >= 1")
        need(isinstance(self.preview_every, int) and self.preview_every >= 1, "preview_every must be >= 1")
        return self

    def schedule(self) -> list[tuple[int, int]]:
        """Coarse-to-fine stages as (long edge, steps): each coarser size is half the next and gets twice the steps."""
        return [(round(self.size / 2 ** k), self.steps * 2 ** k) for k in reversed(range(self.scales))]

    def blend_weights(self, n_styles: int) -> list[float]:
        """Weights of ``n_styles`` style images, normalised to sum to 1 (equal when unset)."""
        if not self.style_blend:
            return [1.0 / n_styles] * n_styles
        if len(self.style_blend) != n_styles:
            raise ValueError(f"{len(self.style_blend)} style blend weights given for {n_styles} style images")
        total = sum(self.style_blend)
        return [w / total for w in self.style_blend]

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["style_blend"] = list(self.style_blend)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "StyleOptions":
        """Rebuild options from ``to_dict`` output; unknown keys are ignored, missing ones take defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if "style_blend" in kw:
            kw["style_blend"] = tuple(kw["style_blend"])
        return cls(**kw)


# Presets set size, steps and schedule; the speed benchmark checks that Quick gives 512 px in under 45 s on 2 cores.
PRESETS: dict[str, dict] = {
    "Quick": {"size": 512, "steps": 12, "scales": 4},  # 96 steps at 64 px, 48 at 128, 24 at 256, 12 at 512
    "Balanced": {"size": 512, "steps": 50, "scales": 4},
    "Best": {"size": 768, "steps": 40, "scales": 4},
}


def preset_options(name: str, **overrides) -> StyleOptions:
    """``StyleOptions`` for a preset (Quick / Balanced / Best), with any other settings overridden."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return StyleOptions(**{**PRESETS[name], **overrides})
