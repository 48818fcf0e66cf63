import os
import sys

import numpy as np
import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(scope="session")
def skimage_dir() -> str:
    import skimage.data
    return os.path.dirname(skimage.data.__file__)


@pytest.fixture(scope="session")
def tiny_pair(skimage_dir):
    """A 64 px content (astronaut) and style (hubble deep field), as RGB uint8 arrays."""
    from nst_core.images import load_image, resize_long_edge
    c = resize_long_edge(load_image(os.path.join(skimage_dir, "astronaut.png")), 64)
    s = resize_long_edge(load_image(os.path.join(skimage_dir, "hubble_deep_field.jpg")), 64)
    return np.ascontiguousarray(c), np.ascontiguousarray(s)


@pytest.fixture(scope="session")
def pair(tmp_path_factory, skimage_dir):
    """A small content (chelsea, 80 x 53) and style (ihc, 48 x 48) saved as PNG files."""
    folder = tmp_path_factory.mktemp("pair")
    paths = []
    for name, size in (("chelsea.png", (80, 53)), ("ihc.png", (48, 48))):
        path = folder / name
        Image.open(os.path.join(skimage_dir, name)).convert("RGB").resize(size).save(path)
        paths.append(str(path))
    return paths
