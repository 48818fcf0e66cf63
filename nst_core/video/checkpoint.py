"""A stopped clip run continues where it was: the finished frames kept in ``OUT.partial.npz`` beside the output,
with a key naming the command's settings, frames and images (a different command starts afresh)."""
from __future__ import annotations

import hashlib
import json
import os
import zipfile

import numpy as np

from ..atomic import replacing


def checkpoint_path(output: str) -> str:
    """``OUT.partial.npz`` for ``OUT.mp4`` / ``OUT.gif``."""
    return os.path.splitext(output)[0] + ".partial.npz"


def run_key(settings: dict, frames: list[np.ndarray], styles: list[np.ndarray]) -> str:
    """A digest of the settings (JSON) and of every input pixel: equal keys, equal runs."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for image in (*frames, *styles):
        digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def save_checkpoint(path: str, key: str, finished: list[np.ndarray]) -> None:
    """Store the finished frames under ``key`` (atomically: a stop during the write keeps the previous file)."""
    with replacing(path) as f:
        np.savez(f, key=np.array(key), frames=np.stack(finished))


def read_checkpoint(path: str, key: str) -> list[np.ndarray]:
    """The finished frames of a run with this ``key``; none when there is no such checkpoint."""
    try:
        with np.load(path) as stored:
            if str(stored["key"]) != key:
                return []
            return list(stored["frames"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
