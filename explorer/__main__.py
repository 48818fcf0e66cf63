"""The Zeiler & Fergus explorer on the command line.

    python -m explorer scan DATASET --layers conv1_1 conv5_4 --out INDEX.pt
    python -m explorer render INDEX.pt --layer conv5_4 --units top16 --mode both -o grid.png
    python -m explorer visualize conv3_1 --units 0-3 --size 96 --seed 0 --save-dir DIR -o grid.png
    python -m explorer probe PHOTO --layer conv4_1 --top 16 -o probe.png --json probe.json

DATASET is ``builtin`` (scikit-image's sample photos), a folder, a ``.zip`` or ``hf:OWNER/NAME[:split[:column]]``
(a Hugging Face dataset, streamed). ``--engine ray`` runs the scan on Ray Data (a local Ray, or the cluster at
$RAY_ADDRESS); a stopped scan resumes from its last finished shard when run again. Bad input prints one line on
stderr and exits with status 2; nothing half-written is left behind.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile

from tqdm import tqdm

from nst_core.checks import InputError, shown, whole_number
from nst_core.images import ImageError, load_image
from nst_core.metadata import write_bytes, write_png
from nst_core.schema import add_flags, spec
from nst_core.vgg import CONV_LAYERS, layer_channels, load_vgg19

from .units.datasets import DatasetError, open_dataset
from .units.deconv import METHODS
from .units.probe import MAX_PROBE_SIZE, PROBE_SIZE, grid_picture, placement, probe
from .units.index import BadIndexError, Index, ScanSettings, check_conv_layers
from .units.tiles import MODES, ViewLoader, labelled_page, page_cells, unit_label, unit_tile, units_by_peak
from .units.scan import ENGINES, cache_dir, cached_scan, scan
from .featurevis.render import render_units
from .featurevis.vis_settings import VisSettings, png_info

EXIT_BAD_INPUT = 2
MAX_COLUMNS = 64  # tiles per row of a grid
DEFAULTS = ScanSettings()


class UsageError(InputError):
    """Bad command-line input: one line on stderr, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of argparse's usage dump
        raise UsageError(message)


def parse_layers(items: list[str]) -> tuple[str, ...]:
    """``all``, names, or comma-separated names -> conv layers in network order."""
    names = [n for item in items for n in item.split(",") if n]
    return CONV_LAYERS if names == ["all"] else check_conv_layers(names)


def parse_units(text: str, count: int, layer: str, ranked: list[int] | None = None) -> list[int]:
    """``topN`` (the N highest peaks, or units 0 … N-1 without a ranking), ``A-B`` (inclusive) or ``a,b,c`` ->
    unit numbers of ``layer``, which has ``count`` units."""
    out_of_range = UsageError(f"--units {shown(text)}: {layer} has units 0 ... {count - 1}")
    try:
        if text.startswith("top"):
            chosen = (ranked or list(range(count)))[:max(0, int(text[3:]))]  # top0 and top-5 choose none
        else:
            chosen = []
            for part in text.split(","):
                first, _, last = part.partition("-")
                first, last = int(first), int(last or first)
                if not 0 <= first <= last < count:  # checked before the range is built: 0-10**12 is refused
                    raise out_of_range
                chosen += range(first, last + 1)
    except UsageError:
        raise
    except ValueError:  # int() of a part that is not a number
        raise UsageError(f"--units {shown(text)}: write topN, A-B or a,b,c") from None
    if not chosen:
        raise out_of_range
    return chosen


def check_output(flag: str, path: str, suffix: str) -> str:
    """An output file path that can be written: right suffix, an existing writable folder, not a directory."""
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a folder; give a file name ending in {suffix}")
    if not path.lower().endswith(suffix):
        raise UsageError(f"{flag} {path}: the output must be a {suffix} file")
    return check_folder(flag, os.path.dirname(os.path.abspath(path)), named=path)


def check_folder(flag: str, folder: str, named: str | None = None, create: bool = False) -> str:
    """An existing folder this process can create files in (tried with an empty temporary file); with ``create``,
    made first if missing, parents too (as ``mkdir -p``)."""
    named = named or folder
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"{flag} {named}: not a folder")
    if create:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            why = "a file is in the way" if isinstance(e, (FileExistsError, NotADirectoryError)) else \
                "the folder cannot be created there"
            raise UsageError(f"{flag} {named}: {why}") from None
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {named}: no such folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError:
        raise UsageError(f"{flag} {named}: the folder is not writable") from None
    return folder


def build_parser() -> argparse.ArgumentParser:
    prog = "nst-explorer" if os.path.basename(sys.argv[0]) == "nst-explorer" else "python -m explorer"
    p = Parser(prog=prog, description="Zeiler & Fergus explorer: top-k dataset patches per unit.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    s = sub.add_parser("scan", help="scan a dataset and write an index")
    s.add_argument("dataset", help="'builtin', a folder of images, a .zip or hf:OWNER/NAME[:split[:column]]")
    s.add_argument("--layers", nargs="+", default=["all"], help="conv layers (names, comma lists or 'all')")
    s.add_argument("--out", required=True, help="index file to write (.pt)")
    add_flags(s, ScanSettings)
    s.add_argument("--zooms", default=None, help="comma list, e.g. 1,2 (default: 1,2 for builtin, else 1)")
    s.add_argument("--cache", default=None, help=f"cache folder (default {cache_dir()})")
    s.add_argument("--no-cache", action="store_true", help="scan afresh, don't read or write the cache")
    s.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: this process; ray: Ray Data actors (the cluster at $RAY_ADDRESS, else a local Ray)")
    r = sub.add_parser("render", help="draw units' top patches from an index")
    r.add_argument("index", help="index file written by 'scan'")
    r.add_argument("--layer", required=True, choices=CONV_LAYERS, metavar="LAYER")
    r.add_argument("--units", default="top16", help="topN, A-B or a,b,c (default top16)")
    r.add_argument("--mode", choices=MODES, default="patches")
    r.add_argument("--method", choices=METHODS, default="deconvnet", help="projection method")
    r.add_argument("--columns", type=int, default=4)
    r.add_argument("-o", "--output", required=True, help="PNG to write")
    v = sub.add_parser("visualize", help="synthesise the image each unit responds to most (feature visualisation)")
    v.add_argument("layer", choices=CONV_LAYERS, metavar="LAYER", help="conv layer, conv1_1 ... conv5_4")
    v.add_argument("--units", default="top16", help="topN (units 0 ... N-1), A-B or a,b,c (default top16)")
    add_flags(v, VisSettings)
    v.add_argument("--columns", type=int, default=4, help="tiles per row of the grid (default: 4)")
    v.add_argument("--save-dir", default=None,
                   help="write each unit's image as DIR/{LAYER}_unit{u}.png (DIR is made if missing)")
    v.add_argument("-o", "--output", default=None, help="labelled grid PNG to write")
    pr = sub.add_parser("probe", help="which units of a layer fire on a photo, where, and how strongly")
    pr.add_argument("photo", help="an image file")
    pr.add_argument("--layer", required=True, choices=CONV_LAYERS, metavar="LAYER", help="conv layer, conv1_1 ... conv5_4")
    pr.add_argument("--top", type=int, default=16, help="how many units, strongest peak first (default: 16)")
    pr.add_argument("--size", type=int, default=PROBE_SIZE,
                    help=f"the photo's long edge as the network sees it, 16 ... {MAX_PROBE_SIZE} (default: {PROBE_SIZE})")
    pr.add_argument("--precision", choices=spec(ScanSettings, "precision").choices, default=DEFAULTS.precision,
                    help=spec(ScanSettings, "precision").help)
    pr.add_argument("--index", default=None, help="an index from 'scan' holding LAYER: each unit's line says where "
                                                  "the photo's peak would rank among the dataset's top-k")
    pr.add_argument("--columns", type=int, default=8, help="heatmaps per row of the picture (default: 8)")
    pr.add_argument("-o", "--output", default=None, help="PNG of the units' activation maps, strongest first")
    pr.add_argument("--json", default=None, help="JSON list, strongest first: unit, peak, y, x (the layer's grid) "
                                                 "and box [top, left, bottom, right] (photo pixels, half-open)")
    return p


def parse_zooms(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        zooms = tuple(int(z) for z in text.split(","))
    except ValueError:
        raise UsageError(f"--zooms {text!r}: write whole numbers like 1,2") from None
    if not zooms or any(not 1 <= z <= 4 for z in zooms):
        raise UsageError(f"--zooms {text!r}: zooms are 1 ... 4")
    return zooms


def run_scan(args) -> int:
    check_output("--out", args.out, ".pt")
    settings = ScanSettings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ScanSettings)}).validate()
    layers = parse_layers(args.layers)
    dataset = open_dataset(args.dataset, cache_dir(args.cache) / "datasets", parse_zooms(args.zooms))
    if args.engine == "ray":  # connect (or say why not) before the progress bar
        from .units.engines import ray_session  # Ray is imported only when asked for

        ray_session()
    model = load_vgg19("caffe")
    with tqdm(total=dataset.count(), unit="file", desc=f"scanning {dataset.name}") as bar:
        def progress(done: int, total: int):
            bar.update(done - bar.n)

        if args.no_cache:
            index = scan(model, dataset, layers, settings, progress=progress, engine=args.engine)
        else:
            index = cached_scan(model, dataset, layers, settings, cache=args.cache, progress=progress,
                                engine=args.engine)
    index.save(args.out)
    for file, why in index.skipped:
        print(f"skipped {why}", file=sys.stderr)
    print(f"{len(index.views)} views of {len({v.file for v in index.views})} images, "
          f"{len(index.skipped)} files skipped; layers {', '.join(layers)} -> {args.out}")
    return 0


def run_render(args) -> int:
    check_output("-o", args.output, ".png")
    whole_number("--columns", args.columns, 1, MAX_COLUMNS)
    index = Index.load(args.index)
    units = parse_units(args.units, index.top(args.layer).value.shape[0], args.layer,
                        units_by_peak(index, args.layer))
    model = load_vgg19("caffe") if args.mode != "patches" else None
    loader = ViewLoader(index)
    cells = {}
    for unit in tqdm(units, unit="unit", desc=f"rendering {args.layer}"):
        cells.update(page_cells(index, args.layer, [unit], loader=loader, model=model,
                                method=args.method if model else None))
    tiles = [unit_tile(cells[u], args.mode, k=index.settings.k) for u in units]
    write_png(args.output, labelled_page(tiles, [unit_label(index, args.layer, u) for u in units], args.columns))
    print(f"{len(units)} units of {args.layer} -> {args.output}")
    return 0


def run_visualize(args) -> int:
    if args.output is None and args.save_dir is None:
        raise UsageError("say where to write: -o GRID.png, --save-dir DIR or both")
    if args.output is not None:
        check_output("-o", args.output, ".png")
    whole_number("--columns", args.columns, 1, MAX_COLUMNS)
    settings = VisSettings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(VisSettings)}).validate()
    units = parse_units(args.units, layer_channels(args.layer), args.layer)
    if args.save_dir is not None:  # made (as mkdir -p) once everything else is known to be fine
        check_folder("--save-dir", args.save_dir, create=True)
    model = load_vgg19("caffe")
    with tqdm(total=-(-len(units) // settings.batch) * settings.total_steps, unit="step",
              desc=f"visualizing {args.layer}") as bar:
        images, _ = render_units(model, args.layer, units, settings,
                                 progress=lambda record, first: bar.update(0 if record.done else 1))
    if args.save_dir is not None:
        for unit, image in zip(units, images):
            write_png(os.path.join(args.save_dir, f"{args.layer}_unit{unit}.png"), image,
                      png_info(args.layer, [unit], settings, model.identity))
    if args.output is not None:
        write_png(args.output, labelled_page(list(images), [f"{args.layer} unit {u}" for u in units], args.columns),
                  png_info(args.layer, units, settings, model.identity))
    print(f"{len(units)} units of {args.layer} -> " + " and ".join(
        p for p in (args.output, args.save_dir and os.path.join(args.save_dir, f"{args.layer}_unit*.png")) if p))
    return 0


def run_probe(args) -> int:
    for flag, path, suffix in (("-o", args.output, ".png"), ("--json", args.json, ".json")):
        if path is not None:
            check_output(flag, path, suffix)
    whole_number("--columns", args.columns, 1, MAX_COLUMNS)
    index = Index.load(args.index) if args.index else None
    if index is not None:
        index.top(args.layer)
    photo = load_image(args.photo)
    model = load_vgg19("caffe")
    result = probe(model, photo, args.layer, size=args.size, precision=args.precision)
    units = result.top(args.top)
    if result.note:
        print(result.note, file=sys.stderr)
    if args.json is not None:
        write_bytes(args.json, json.dumps(units, indent=1).encode())
    if args.output is not None:
        write_png(args.output, grid_picture(result, len(units), args.columns))
    for unit in units:
        line = f"unit {unit['unit']}: peak {unit['peak']:.1f} at (y={unit['y']}, x={unit['x']}), box {unit['box']}"
        print(line + (" · " + placement(result, unit["unit"], index) if index is not None else ""))
    return 0


COMMANDS = {"scan": run_scan, "render": run_render, "visualize": run_visualize, "probe": run_probe}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, DatasetError, BadIndexError, ImageError, ValueError, OSError) as e:
        print(f"explorer: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("explorer: stopped (a scan run again resumes after its last finished shard)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
