"""``python -m nst_core CLIP.mp4 STYLE.jpg -o OUT.mp4``: the command line's clip path (``cli`` sends a content with
a video extension here, with its options already read).

Progress shows ``frame 7/48`` and the time left. Ctrl-C ends the current frame and writes the clip so far; the
finished frames stay in ``OUT.partial.npz`` and the same command run again continues from them.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from tqdm import tqdm

from ..checks import real_number, whole_number
from ..images import load_image
from ..options import StyleOptions
from ..regions import check_regions, fit_labels, read_mask
from .checkpoint import checkpoint_path, read_checkpoint, run_key, save_checkpoint
from .frames import read_clip, write_clip
from .sequence import MAX_TEMPORAL_WEIGHT, TEMPORAL_WEIGHT, ClipProgress, ClipStylizer


def add_video_flags(p: argparse.ArgumentParser) -> None:
    """The flags that only a clip as the content uses."""
    g = p.add_argument_group("a clip as the content (.mp4, .webm, .mov, .mkv, .avi, .gif; -o OUT.mp4 or OUT.gif)")
    g.add_argument("--fps", type=float, default=0.0, help="frame rate of the output (default: the input's)")
    g.add_argument("--max-frames", type=int, default=0, help="stylize at most this many frames (default: all)")
    g.add_argument("--seconds", type=float, default=0.0, help="stylize at most this many seconds from the start")
    g.add_argument("--temporal-weight", type=float, default=TEMPORAL_WEIGHT,
                   help="weight gamma of the temporal cost that keeps each frame close to the previous one carried "
                        f"along the motion (Ruder et al. 2016); 0 = off (default: {TEMPORAL_WEIGHT:g})")
    g.add_argument("--frame-steps", type=int, default=0,
                   help="optimizer steps of each frame after the first (default: half the final stage's steps)")


def status(p: ClipProgress) -> str:
    """'frame 7/48 · 12 s elapsed · about 40 s left'."""
    return f"frame {p.frame + 1}/{p.frames} · {p.elapsed:.0f} s elapsed · about {p.remaining:.0f} s left"


def run_clip(args: argparse.Namespace, options: StyleOptions) -> int:
    """Read the clip (within its bounds), stylize it (or print the estimate with --dry-run) and write it."""
    fps = real_number("fps", args.fps, 0, 240)
    clip = read_clip(args.content, options.size, max_frames=whole_number("max frames", args.max_frames, 0),
                     seconds=real_number("seconds", args.seconds, 0), fps=fps)
    styles = [load_image(s) for s in args.styles]
    options.blend_weights(len(styles))
    regions = None
    if args.regions:
        regions, said = fit_labels(read_mask(args.regions), *clip.frames[0].shape[:2])
        check_regions(regions, options.region_styles, len(styles))
        if said:
            print(said, file=sys.stderr)
    stylizer = ClipStylizer(options, real_number("temporal weight", args.temporal_weight, 0, MAX_TEMPORAL_WEIGHT),
                            args.frame_steps)
    plan = stylizer.plan(clip.frames[0].shape[:2], len(clip.frames))
    if args.dry_run:
        print(f"{plan.text()} on this machine, at {clip.fps:g} fps")
        return 0
    settings = {**options.to_dict(), "temporal_weight": stylizer.temporal_weight,
                "frame_steps": stylizer.later.options.steps, "regions": None if regions is None else regions.tolist()}
    key = run_key(settings, clip.frames, styles)
    checkpoint = checkpoint_path(args.output)
    finished = read_checkpoint(checkpoint, key)
    if finished and not args.quiet:
        print(f"continuing from {checkpoint} ({len(finished)} of {len(clip.frames)} frames done)", file=sys.stderr)
    stop = threading.Event()
    previous_handler = signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: write the clip so far
    bar = tqdm(total=len(clip.frames), bar_format="{desc}", disable=args.quiet, dynamic_ncols=True)
    try:
        for p in stylizer.iter_stylize(clip.frames, styles, regions=regions, stop=stop, finished=finished,
                                       estimate=plan):
            bar.set_description_str(status(p), refresh=p.result is not None or p.progress.step % 5 == 0)
            if p.result is not None and not p.stopped and not p.done:
                save_checkpoint(checkpoint, key, p.results)
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous_handler)
    kept = p.results or [p.result]  # stopped during frame 1: its best picture so far
    write_clip(args.output, kept, clip.fps)
    if not p.stopped and os.path.exists(checkpoint):
        os.unlink(checkpoint)
    if not args.quiet:
        h, w = kept[0].shape[:2]
        what = f"stopped: {len(p.results)} of {p.frames} frames done; the same command continues" if p.stopped else \
            f"{p.frames} frames"
        print(f"wrote {args.output} ({w}x{h}, {what}, {clip.fps:g} fps)", file=sys.stderr)
    return 0
