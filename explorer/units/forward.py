"""The scan's forward pass: each chosen conv layer's rectified activations a = max(0, conv) (the feature maps
Zeiler & Fergus ranked), handed over as soon as they are computed; the pass stops at the deepest chosen layer.

On CPU the convolutions run as oneDNN primitives with each filter bank packed once and the ReLU fused in — the ops
``torch.compile``'s CPU freezing emits (``torch.ops.mkldnn._convolution_pointwise``). That saves re-packing every
filter bank on every call and a pass over every activation: measured about 1.3x faster than ``nn.Conv2d`` for
bf16 channels_last (benchmarks/bench_explorer.py), same numbers. Without those ops the plain modules run.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nst_core.vgg import LAYER_INDEX, LAYER_NAMES, VGG19


@functools.lru_cache(maxsize=4)
def packed_filters(net: VGG19) -> dict[int, torch.Tensor] | None:
    """Each conv layer's weights in oneDNN's blocked layout, by layer position; None where the fused ops are
    missing or refuse this network (tried once on a tiny input)."""
    mkldnn = torch.ops.mkldnn
    first = net.layers[0]
    if first.weight.device.type != "cpu" or not hasattr(mkldnn, "_convolution_pointwise"):
        return None
    try:
        packed = {i: mkldnn._reorder_convolution_weight(m.weight, list(m.padding), list(m.stride),
                                                        list(m.dilation), m.groups, [1, m.in_channels, 224, 224])
                  for i, m in enumerate(net.layers) if isinstance(m, nn.Conv2d)}
        probe = torch.zeros(1, 3, 4, 4, dtype=first.weight.dtype)
        fused_conv_relu(first, packed[0], probe)
        fused_conv_relu(first, packed[0], probe.contiguous(memory_format=torch.channels_last))
    except (RuntimeError, AttributeError):
        return None
    return packed


def fused_conv_relu(conv: nn.Conv2d, packed: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._convolution_pointwise(x, packed, conv.bias, list(conv.padding), list(conv.stride),
                                                   list(conv.dilation), conv.groups, "relu", [], "")


def conv_relu(net: VGG19, i: int, x: torch.Tensor) -> torch.Tensor:
    """max(0, conv_i(x)): one fused oneDNN call with packed filters where possible, else Conv2d then ReLU."""
    packed = packed_filters(net)
    if packed is None:
        return F.relu(net.layers[i](x), inplace=True)
    return fused_conv_relu(net.layers[i], packed[i], x)


def rectified_activations(net: VGG19, x: torch.Tensor, layers: Sequence[str]) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(conv layer, max(0, conv))`` for each of ``layers`` (conv names), in network order."""
    wanted = set(layers)
    for i, name in enumerate(LAYER_NAMES[:max(LAYER_INDEX[n] for n in wanted) + 1]):
        if name.startswith("conv"):
            x = conv_relu(net, i, x)
            if name in wanted:
                yield name, x
        elif name.startswith("pool"):
            x = net.layers[i](x)
        # relu: already applied with its convolution
