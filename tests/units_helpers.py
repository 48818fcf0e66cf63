"""Shared by the explorer's tests: tiny image folders."""
import os

import numpy as np
from PIL import Image


def write_random_images(folder, count: int, size: int = 32, seed: int = 0) -> list[str]:
    """``count`` random RGB PNGs of ``size x size`` pixels named img0.png ...; returns their names."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    names = []
    for i in range(count):
        names.append(f"img{i}.png")
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(os.path.join(folder, names[-1]))
    return names
