"""Feature visualisation's driver (Lucent's ``render.py`` idea): the image each unit wants to see.

Many units at once, one unit per batch item: the objective's per-item losses are summed, so each item's
gradient is its own unit's. Each step: rebuild the images from their parameters, transform them at random,
run VGG19 up to the layer (channels_last), Adam on the parameters. The sizes run coarse to fine (``VisSettings.sizes``).
Yields ``VisProgress`` records; a set ``stop`` event ends the run after the current step, with its images.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nst_core.estimate import fitting_pixels, fitting_side, over_budget
from nst_core.memory import memory_budget
from nst_core.device import autocast_for
from nst_core.vgg import VGG19

from .color import to_rgb
from .objectives import OBJECTIVES, Objective
from .param import fourier_image, pixel_image
from .transforms import compose, default_transforms
from .vis_settings import VisSettings


@dataclass
class VisProgress:
    """One step of a run: where it is, what each unit's objective is, and at the end the images."""

    step: int
    total_steps: int
    size: int  # pixels of the current stage
    elapsed: float  # seconds
    activation: list[float]  # per unit: the objective's value, e.g. mean of max(0, a_u) over space
    images: np.ndarray | None = None  # (N, size, size, 3) uint8, with the last record only
    done: bool = False
    stopped: bool = False


def parameterise(settings: VisSettings, n: int, generator: torch.Generator):
    shape = (n, 3, settings.size, settings.size)
    make = fourier_image if settings.param == "fourier" else pixel_image
    return make(shape, generator=generator)


def to_uint8(rgb: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [0, 1] -> (N, H, W, 3) uint8."""
    return rgb.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def visualize(model: VGG19, layer: str, units: Sequence[int], settings: VisSettings = VisSettings(), *,
              stop: threading.Event | None = None) -> Iterator[VisProgress]:
    """Synthesise one image per unit of ``layer``: maximise ``settings.objective`` of unit u_i for image i."""
    units = list(units)
    objective: Objective = OBJECTIVES[settings.objective](layer, units)
    generator = torch.Generator().manual_seed(settings.seed)
    params, image_f = parameterise(settings, len(units), generator)
    rgb_f = to_rgb(image_f, model, settings.decorrelate)
    optimizer = torch.optim.Adam(params, lr=settings.learning_rate)
    device = next(model.parameters()).device
    start, step, total = time.monotonic(), 0, settings.total_steps
    values = [0.0] * len(units)
    for size, steps in settings.sizes():
        transform = compose(default_transforms(size) if settings.transforms else ())
        for _ in range(steps):
            if stop is not None and stop.is_set():
                break
            optimizer.zero_grad(set_to_none=True)
            x = transform(rgb_f(size), generator).to(device)
            x = x.contiguous(memory_format=torch.channels_last)  # oneDNN's faster layout here
            with autocast_for(device, settings.precision):
                acts = model(model.normalize(x), objective.layers)
            loss = objective(acts.__getitem__)
            loss.sum().backward()
            optimizer.step()
            step += 1
            values = (-loss.detach()).tolist()
            yield VisProgress(step, total, size, time.monotonic() - start, values)
    with torch.no_grad():
        images = to_uint8(rgb_f(settings.size))
    yield VisProgress(step, total, settings.size, time.monotonic() - start, values, images, done=True,
                      stopped=step < total)


def render_units(model: VGG19, layer: str, units: Sequence[int], settings: VisSettings = VisSettings(), *,
                 stop: threading.Event | None = None,
                 progress=None) -> tuple[np.ndarray, bool]:
    """Images ``(len(units), size, size, 3)`` for ``units``, ``settings.batch`` at a time; ``progress(record,
    batch_start)`` sees every record. Returns the images and whether the run was stopped. A batch whose estimated
    peak memory is past the budget (``NST_MAX_MEMORY``) is refused first, naming the size that would fit."""
    check_memory(layer, min(settings.batch, len(units)), settings.size)
    images = []
    for first in range(0, len(units), settings.batch):
        for record in visualize(model, layer, units[first:first + settings.batch], settings, stop=stop):
            if progress is not None:
                progress(record, first)
        images.append(record.images)
        if record.stopped:
            return np.concatenate(images), True
    return np.concatenate(images), False


def check_memory(layer: str, batch: int, size: int) -> None:
    """``InputError`` when ``batch`` images of ``size`` px, optimised through ``layer``, would pass the memory
    budget: the largest size that fits, else how many units at once, else that nothing fits."""
    budget = memory_budget()
    side = fitting_side(budget, layer, True, batch)
    single = fitting_pixels(budget, layer, True) // size ** 2
    fits = (f"choose a size up to {side} px" if side else
            f"synthesise at most {single} units at once (batch)" if single else "raise NST_MAX_MEMORY")
    what = f"synthesising {batch} units' images" if batch > 1 else "synthesising one unit's image"
    error = over_budget(f"{what} at {size} px", batch * size ** 2, layer, True, budget, fits)
    if error is not None:
        raise error


@torch.no_grad()
def mean_rectified_activation(model: VGG19, layer: str, rgb: np.ndarray, units: Sequence[int] | int) -> np.ndarray:
    """(1/HW) Σ max(0, a_u(y, x)) of each image's unit (float32, no transforms): how much image i excites u_i.
    ``rgb``: (N, H, W, 3) uint8."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float() / 255.0
    a = model(model.normalize(x), [layer])[layer].clamp(min=0).mean((2, 3))  # (N, C)
    units = [units] * len(rgb) if isinstance(units, int) else list(units)
    return a[torch.arange(len(rgb)), torch.tensor(units)].numpy()
