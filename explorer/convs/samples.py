"""Sample inputs to convolve: an EKG-like signal (1D), a photo (2D), a CT-like volume and a clip of frames (3D).
Each is small (at most 32³ cells) and made once."""
from __future__ import annotations

import functools

import numpy as np
from skimage import data, transform

from nst_core.checks import InputError


def ekg_signal(length: int = 600, beats: int = 5, noise: float = 0.03, seed: int = 0) -> np.ndarray:
    """A synthetic heartbeat trace: per beat, Gaussian bumps h·exp(−(t − t0)² / (2w²)) for the P, Q, R, S and T
    waves (the tall narrow R is the peak to detect), plus Gaussian noise."""
    t = np.arange(length) / (length / beats)  # time in beats
    waves = [(-0.22, 0.15, 0.03), (-0.04, -0.15, 0.012), (0.0, 1.0, 0.012), (0.04, -0.3, 0.012), (0.28, 0.3, 0.05)]
    phase = t - np.floor(t) - 0.5  # each beat's R wave sits at the middle of its period
    signal = sum(h * np.exp(-((phase - t0) ** 2) / (2 * w ** 2)) for t0, h, w in waves)
    return (signal + noise * np.random.default_rng(seed).standard_normal(length)).astype(np.float32)


def sample_photo(size: int = 96) -> np.ndarray:
    """scikit-image's 'camera' photo (grey, 512 × 512) resized to size × size, values in [0, 1]."""
    return transform.resize(data.camera(), (size, size), anti_aliasing=True).astype(np.float32)


def sphere_volume(size: int = 32, spheres: int = 4, seed: int = 0) -> np.ndarray:
    """A CT-like volume: a size³ box holding balls, value 1 where |r − centre| < radius, else 0."""
    rng = np.random.default_rng(seed)
    grid = np.indices((size,) * 3)
    volume = np.zeros((size,) * 3, np.float32)
    for _ in range(spheres):
        radius = rng.uniform(0.1, 0.22) * size
        centre = rng.uniform(radius, size - radius, 3)
        volume[((grid - centre[:, None, None, None]) ** 2).sum(0) < radius ** 2] = 1.0
    return volume


def moving_clip(frames: int = 16, size: int = 32) -> np.ndarray:
    """A video clip as time × height × width: a disc of radius size/6 moving one pixel per frame to the right."""
    t, y, x = np.indices((frames, size, size))
    return (((x - size / 4 - t) ** 2 + (y - size / 2) ** 2) < (size / 6) ** 2).astype(np.float32)


# Sample data per number of spatial dimensions: name -> function making the array.
SAMPLES = {
    1: {"EKG-like heartbeat": ekg_signal},
    2: {"photo (scikit-image camera)": sample_photo},
    3: {"spheres in a box (CT-like volume)": sphere_volume, "clip of frames (time × height × width)": moving_clip},
}
SAMPLE_EXTENT = {1: (600,), 2: (96, 96), 3: (32, 32, 32)}  # the largest size per dimension (the position sliders)


def sample_dims(sample: str) -> int:
    """The number of spatial dimensions of the named sample (a key of SAMPLES[nd])."""
    for nd, names in SAMPLES.items():
        if sample in names:
            return nd
    names = ", ".join(n for d in SAMPLES.values() for n in d)
    raise InputError(f"the input must be one of {names}; got {str(sample)[:40]!r}.")


@functools.lru_cache(maxsize=None)
def load_sample(sample: str) -> np.ndarray:
    """The named sample's array (made once, then read-only)."""
    x = SAMPLES[sample_dims(sample)][sample]()
    x.flags.writeable = False
    return x
