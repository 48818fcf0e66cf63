"""Put pictures side by side, each scaled to one height, into one small PNG (the docs' pictures).

    python scripts/docs_pictures.py BEFORE.png AFTER.png --height 256 -o docs/stylize.png
    python scripts/docs_pictures.py lab.png --height 220 -o docs/lab.png

Each input is scaled to --height pixels (keeping its aspect ratio), trimmed of its white margins first, and laid
out left to right with an 8 px white gap (a lower --height gives a smaller file).
Written to a temporary name and renamed, so an existing picture is never half-written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nst_core.metadata import write_png  # noqa: E402

GAP = 8


def trimmed(image: Image.Image) -> Image.Image:
    """The image without its uniform white border (the explorer's grids leave room to the right)."""
    rgb = image.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, (255, 255, 255))).getbbox()
    return rgb.crop(box) if box else rgb


def side_by_side(images: list[Image.Image], height: int | None) -> Image.Image:
    """One row: each image scaled to ``height`` (the tallest one's height when None), GAP px apart, on white."""
    images = [trimmed(im) for im in images]
    height = height or max(im.height for im in images)
    scaled = [im.resize((max(1, round(im.width * height / im.height)), height), Image.LANCZOS) for im in images]
    row = Image.new("RGB", (sum(im.width for im in scaled) + GAP * (len(scaled) - 1), height), (255, 255, 255))
    x = 0
    for im in scaled:
        row.paste(im, (x, 0))
        x += im.width + GAP
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", help="pictures, left to right")
    parser.add_argument("--height", type=int, help="height of the row in pixels (default: the tallest picture's)")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    args = parser.parse_args(argv)
    if args.height is not None and not 16 <= args.height <= 4096:
        parser.exit(2, f"the height must be a whole number from 16 to 4096; got {args.height}.\n")
    try:
        images = [Image.open(path) for path in args.images]
    except OSError as error:
        parser.exit(2, f"could not read a picture ({error}); give PNG or JPEG files.\n")
    row = side_by_side(images, args.height)
    write_png(args.output, np.asarray(row))
    print(f"wrote {args.output} ({row.width} x {row.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
