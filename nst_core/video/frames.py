"""Clips in and out with PyAV (no system ffmpeg): read MP4/WebM/MOV/AVI/GIF into RGB frames at the stylization's
size, write H.264 MP4 or GIF atomically.

Frames are resized as they are decoded (long edge ``long_edge``, both sides even, as H.264's 4:2:0 needs), so a long
1080p clip never sits in memory whole. A bad file is an ``InputError`` of one sentence.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from ..atomic import replacing
from ..checks import InputError

MAX_FRAMES = 3000  # a run takes at most this many frames (100 s at 30 fps); --seconds / --max-frames pick fewer
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mov", ".mkv", ".avi", ".gif", ".m4v")
OUTPUT_EXTENSIONS = (".mp4", ".gif")


@dataclass
class Clip:
    frames: list[np.ndarray]  # RGB uint8, all of one (h, w), both even
    fps: float
    source_fps: float
    source_frames: int  # frames in the file (from its header; 0 when it doesn't say)


def is_video_path(path: str) -> bool:
    """True for a file name with a video or GIF extension (how the CLI tells a clip from a picture)."""
    return str(path).lower().endswith(VIDEO_EXTENSIONS)


def even_size(h: int, w: int, long_edge: int) -> tuple[int, int]:
    """(h', w') with the long edge ``long_edge`` (aspect kept) and both sides even and at least 16 px."""
    scale = long_edge / max(h, w)
    return tuple(max(16, 2 * round(side * scale / 2)) for side in (h, w))


def frame_bounds(max_frames: int = 0, seconds: float = 0.0, fps: float = 0.0, source_fps: float = 30.0) -> int:
    """How many frames a run keeps: the fewest of ``max_frames``, ``seconds`` at the output rate and ``MAX_FRAMES``
    (0 = unbounded)."""
    rate = fps or source_fps
    bounds = [b for b in (max_frames, math.ceil(seconds * rate - 1e-9) if seconds else 0) if b]
    return min(bounds) if bounds else MAX_FRAMES


def read_clip(path: str, long_edge: int, *, max_frames: int = 0, seconds: float = 0.0, fps: float = 0.0) -> Clip:
    """The frames of the clip at ``path``, resized to ``even_size``; at most ``frame_bounds`` of them, from the start.

    With ``fps`` the clip is resampled: frame k of the result is the last source frame shown at time k / fps. An
    ``fps`` above the clip's own is the clip's own: it has no frames to show in between, and repeating a frame would
    only stylize it again (the result keeps the clip's length and speed)."""
    name = os.path.basename(path)
    try:
        container = av.open(str(path))
    except FileNotFoundError:
        raise InputError(f"{name}: no such file.") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder, not a video file.") from None
    except (av.error.FFmpegError, UnicodeDecodeError):
        if _has_video_signature(path):
            raise InputError(f"{name}: the video container is corrupt or truncated, and no frame could be read; give "
                             "another MP4, WebM, MOV or GIF clip.") from None
        raise InputError(f"{name}: not a video file PyAV can read (MP4, WebM, MOV, AVI or GIF).") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read the file ({e.strerror or e}).") from None
    with container:
        if not container.streams.video:
            raise InputError(f"{name}: the file has no video track.")
        stream = container.streams.video[0]
        source_fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        fps = min(fps, source_fps) if fps else 0.0
        limit = frame_bounds(max_frames, seconds, fps, source_fps)
        frames = _decoded(container, stream, name, long_edge, limit, fps)
        if not frames:
            raise InputError(f"{name}: the clip has no frames.")
        if limit == MAX_FRAMES and len(frames) == MAX_FRAMES and _has_more(container, stream):
            raise InputError(f"{name}: the clip is longer than the {MAX_FRAMES} frames one run takes; bound it with "
                             "--seconds or --max-frames.")
        return Clip(frames, fps or source_fps, source_fps, stream.frames or 0)


def _has_video_signature(path: str) -> bool:
    """True when the file begins as an MP4/MOV, WebM/MKV, AVI or GIF does (so a failed open means damage)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" or head[:4] in (b"\x1aE\xdf\xa3", b"GIF8") or (head[:4] == b"RIFF" and head[8:] == b"AVI ")


def _decoded(container, stream, name: str, long_edge: int, limit: int, fps: float) -> list[np.ndarray]:
    frames: list[np.ndarray] = []
    size = None
    try:
        for frame in container.decode(stream):
            if fps and frame.time is not None and frame.time < len(frames) / fps - 0.5 / fps:
                continue  # resampling to a lower rate: this source frame falls between two output frames
            if size is None:
                size = even_size(frame.height, frame.width, long_edge)
            rgb = frame.to_ndarray(format="rgb24")
            if rgb.shape[:2] != size:
                rgb = np.asarray(Image.fromarray(rgb).resize(size[::-1], Image.LANCZOS))
            frames.append(rgb)
            if len(frames) >= limit:
                break
    except av.error.FFmpegError:
        if not frames:
            raise InputError(f"{name}: the video data is corrupt or truncated, and no frame could be decoded; give "
                             "another MP4, WebM, MOV or GIF clip.") from None
        # a truncated file: the frames before the damage are kept
    return frames


def _has_more(container, stream) -> bool:
    try:
        return next(container.decode(stream), None) is not None
    except av.error.FFmpegError:
        return False


def check_video_output(path: str) -> None:
    """Refuse an output name that is neither .mp4 nor .gif, before any work."""
    if not str(path).lower().endswith(OUTPUT_EXTENSIONS):
        raise InputError(f"the output of a clip must end in .mp4 or .gif; got {os.path.basename(path)!r}.")


def write_clip(path: str, frames: list[np.ndarray], fps: float) -> None:
    """Write ``frames`` (RGB uint8, even sides) as H.264 MP4, or as a looping GIF when ``path`` ends in .gif; the
    file appears whole or not at all (``atomic.replacing``)."""
    check_video_output(path)
    with replacing(path) as f:
        if str(path).lower().endswith(".gif"):
            _write_gif(f, frames, fps)
        else:
            _write_mp4(f, frames, fps)


def _write_mp4(f, frames: list[np.ndarray], fps: float) -> None:
    h, w = frames[0].shape[:2]
    with av.open(f, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "18", "preset": "medium"}
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")))
        container.mux(stream.encode(None))


def _write_gif(f, frames: list[np.ndarray], fps: float) -> None:
    """GIF keeps frame durations in hundredths of a second; each frame gets its own 256-colour palette."""
    images = [Image.fromarray(rgb).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
              for rgb in frames]
    images[0].save(f, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=max(20, round(1000 / fps / 10) * 10), optimize=False)
