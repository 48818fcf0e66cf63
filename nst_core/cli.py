"""``python -m nst_core CONTENT STYLE [STYLE ...] -o OUT.png``: the command line, built from ``StyleOptions``' defaults.

``--dry-run`` prints the time and memory estimate and exits. A run longer than 5 minutes keeps its current picture in
``OUT.partial.png`` (with its settings); the same command run again continues from it. A clip as the content
(``video.command``) gives a stylized OUT.mp4 or OUT.gif.

Bad input prints one line on stderr and exits with status 2; no output file is written.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import tempfile
import threading

import numpy as np
from PIL import Image
from tqdm import tqdm

from .checks import InputError
from .images import load_image
from .metadata import REGIONS_KEY, read_settings, save_png
from .options import StyleOptions
from .regions import MASK_FORMAT, check_regions, fit_labels, labels_to_png_text, read_mask
from .vgg import BLOCKS, LAYER_NAMES
from .video.command import add_video_flags, run_clip
from .video.frames import is_video_path

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(message)


def _list_layers() -> str:
    """One line per VGG19 block: its layers, in order, and its number of channels."""
    rows = []
    for block, (channels, _) in enumerate(BLOCKS, start=1):
        names = [n for n in LAYER_NAMES if n.lstrip("convrelupol")[0] == str(block)]
        rows.append(f"block {block} ({channels} channels): " + " ".join(names))
    return "\n".join(rows)


def check_output(path: str, extension: str) -> None:
    """Refuse, before any work, an output that can't be written: wrong extension, an existing folder, a missing or
    unwritable folder (a file is made and removed there to be sure)."""
    if os.path.isdir(path):
        raise UsageError(f"the output {path!r} is a folder; give a file name ending in {extension}")
    if not path.lower().endswith(extension):
        raise UsageError(f"the output must be a {extension} file, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"the output folder {folder!r} does not exist; create it first")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise UsageError(f"can't write into the output folder {folder!r} ({e.strerror or e})") from None


def build_parser() -> argparse.ArgumentParser:
    defaults = StyleOptions()
    prog = "nst" if os.path.basename(sys.argv[0]) == "nst" else "python -m nst_core"  # the installed command, or -m
    p = _Parser(prog=prog, description="Neural style transfer (Gatys et al., 2015) on VGG19.")
    p.add_argument("content", nargs="?", help="content image C")
    p.add_argument("styles", nargs="*", metavar="style", help="one or more style images S")
    p.add_argument("-o", "--output", help="output PNG (settings are stored in its metadata)")
    p.add_argument("--list-layers", action="store_true", help="list the VGG19 layer names and exit")
    p.add_argument("--from-png", metavar="PNG", help="take the settings stored in a PNG made by this tool")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--dry-run", action="store_true", help="print how long the run would take and how much memory it "
                   "needs on this machine (and whether it is tiled), then exit without stylizing")
    p.add_argument("--regions", metavar="MASK", help=f"a different style per region: {MASK_FORMAT}. The red region "
                   "takes the 1st style image, green the 2nd, blue the 3rd (see --region-styles); the rest takes the "
                   "blend of them all (see --style-blend). A mask of another size than the content is resized.")
    for f in dataclasses.fields(StyleOptions):
        flag = f.metadata["spec"].flag or "--" + f.name.replace("_", "-")  # declared in nst_core/options.py
        default = getattr(defaults, f.name)
        kw = {"dest": f.name, "default": argparse.SUPPRESS, "help": f.metadata["help"] + f" (default: {default})"}
        if isinstance(default, bool):
            p.add_argument(flag, action="store_true", **kw)
        elif f.name == "style_layers":
            p.add_argument(flag, type=str, metavar="L[:W],...", **kw)  # read by StyleOptions (parse_style_layers)
        elif f.name == "style_blend":
            p.add_argument(flag, type=float, nargs="+", metavar="W", **kw)
        elif f.name == "region_styles":
            p.add_argument(flag, type=int, nargs="+", metavar="N", **kw)
        else:
            p.add_argument(flag, type=type(default), **kw)
    add_video_flags(p)
    return p


def options_from_args(args: argparse.Namespace) -> StyleOptions:
    """Defaults, then the settings of ``--from-png`` if given, then the flags on the command line."""
    base = StyleOptions()
    if args.from_png:
        stored = read_settings(args.from_png)
        if stored is None:
            raise UsageError(f"{os.path.basename(args.from_png)}: no stored settings in this PNG")
        base = stored[0]
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(StyleOptions) if hasattr(args, f.name)}
    for name in ("style_blend", "region_styles"):
        if name in given:
            given[name] = tuple(given[name])
    return dataclasses.replace(base, **given)


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_layers:
        print(_list_layers())
        return 0
    if not args.content or not args.styles:
        raise UsageError("give a content image and at least one style image: CONTENT STYLE [STYLE ...] -o OUT.png")
    if not args.output:
        raise UsageError("give the output file with -o OUT.png")
    if is_video_path(args.content):  # a clip: OUT.mp4 or OUT.gif, frame by frame (video.command)
        check_output(args.output, ".gif" if args.output.lower().endswith(".gif") else ".mp4")
        return run_clip(args, options_from_args(args))
    check_output(args.output, ".png")
    options = options_from_args(args)
    content = load_image(args.content)
    styles = [load_image(s) for s in args.styles]
    options.blend_weights(len(styles))  # checks the number of blend weights before any work
    regions, extra = None, {}
    if args.regions:
        regions, said = fit_labels(read_mask(args.regions), *content.shape[:2])
        check_regions(regions, options.region_styles, len(styles))
        extra[REGIONS_KEY] = labels_to_png_text(regions)
        if said:
            print(said, file=sys.stderr)

    from .stylize import StyleTransfer, balance_note  # after the checks: importing torch's model code is the slow part
    transfer = StyleTransfer(options)
    if args.dry_run:
        plan = transfer.plan(content.shape[:2])
        h, w = plan.shape
        print(f"{w}x{h} px: {plan.text()} on this machine"
              + (f"; L-BFGS keeps {plan.lbfgs_history} steps of history to fit the memory budget"
                 if options.optimizer == "lbfgs" and plan.lbfgs_history < options.lbfgs_history else ""))
        return 0
    extra.update({"nst:content": os.path.basename(args.content),
                  "nst:styles": ",".join(os.path.basename(s) for s in args.styles)})
    checkpoint = checkpoint_path(args.output)
    resume = read_checkpoint(checkpoint, options, extra)
    if resume is not None and not args.quiet:
        print(f"continuing from {checkpoint} (stage {resume[1] + 1}, {resume[2]} steps done in it)", file=sys.stderr)
    stop = threading.Event()
    previous_handler = signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: finish with the best so far
    bar = tqdm(total=sum(s for _, s in options.schedule()), unit="step", dynamic_ncols=True,
               disable=args.quiet or options.palette_only)
    stage_start = np.cumsum([0] + [steps for _, steps in options.schedule()])  # the step each stage begins at
    saved = 0.0  # elapsed seconds at the last checkpoint
    try:
        for p in transfer.iter_stylize(content, styles, regions=regions, stop=stop, resume=resume,
                                       image_every_s=CHECKPOINT_EVERY_S,
                                       on_tile=lambda text: bar.set_description_str(text, refresh=True)):
            if not p.done:
                bar.n = p.step
                bar.set_postfix(J=f"{p.J:.3g}", content=f"{p.J_content:.3g}", style=f"{p.J_style:.3g}",
                                size=f"{p.size[1]}x{p.size[0]}", tiles=p.tiles)
                if p.image is not None and p.elapsed - saved >= CHECKPOINT_EVERY_S:
                    done = int(p.step - stage_start[p.stage])
                    save_png(checkpoint, p.image, options, transfer.model.identity,
                             extra={**extra, CHECKPOINT_KEY: json.dumps([p.stage, done])})
                    saved = p.elapsed
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous_handler)
    save_png(args.output, p.image, options, transfer.model.identity, extra=extra)
    if os.path.exists(checkpoint) and not p.stopped:
        os.unlink(checkpoint)
    if not args.quiet:
        what = "the content in the style's colours" if options.palette_only else f"J={p.J:.4g}"
        note = balance_note(transfer.balance)
        what += f", {note}" if note else ""
        print(f"wrote {args.output} ({p.image.shape[1]}x{p.image.shape[0]}, {what})", file=sys.stderr)
    return 0


CHECKPOINT_EVERY_S = 300  # a long run saves its current picture at least this often
CHECKPOINT_KEY = "nst:checkpoint"  # [stage, steps done in it] of a checkpoint PNG


def checkpoint_path(output: str) -> str:
    """Where a run writing ``output`` keeps its current picture: ``OUT.partial.png`` beside it."""
    return output[:-len(".png")] + ".partial.png"


def read_checkpoint(path: str, options, extra: dict) -> tuple | None:
    """(picture, stage, steps done in it) of a checkpoint made by the same command (same settings, images and
    regions), else None."""
    if not os.path.exists(path):
        return None
    try:
        stored = read_settings(path)
        with Image.open(path) as img:
            text = dict(img.text)
            picture = np.asarray(img.convert("RGB"))
        stage, done = json.loads(text[CHECKPOINT_KEY])
    except (InputError, OSError, KeyError, ValueError, TypeError):
        return None
    same = stored is not None and stored[0] == options and all(text.get(k) == v for k, v in extra.items())
    return (picture, int(stage), int(done)) if same else None


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except (UsageError, InputError) as e:
        print(f"nst_core: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:  # e.g. the output folder became unwritable or the disk filled up during the run
        print(f"nst_core: error: could not write {e.filename or 'a file'}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
