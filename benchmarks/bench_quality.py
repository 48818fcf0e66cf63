"""The look of a stylization, measured apart from J (``nst_core.look``): the presets now against the recipe before
(four scales from the content, ``bench_stylize.PRESETS_BEFORE``), the Style strength ladder, and look per second
against pastiche.

    python benchmarks/bench_quality.py                                   # Quick and Balanced, 8 pairs, 512 px
    python benchmarks/bench_quality.py --parts ladder --size 256         # the strength ladder at 256 px
    python benchmarks/bench_quality.py --parts presets --presets Best --pairs 0 1   # Best against its earlier self
    python benchmarks/bench_quality.py --parts peer --size 384           # look per second against pastiche
    python benchmarks/bench_quality.py --presets Quick --set near_style_gain=false   # a variant against before

Every run is in this process, a preset before and now one after the other on the same pair, so a change of machine
load hits both. Each result is scored by ``look``: Js@1, Js@2, Js@4 and colour as shares of the content's own
distance to the style (1 = not stylized, lower is more stylized), Jc per element at relu4_2; with J_content and
J_style of the run's own objective. The JSON is rewritten after every run, so a cut-off run keeps what it measured;
the contact sheet, the ladder sheet and the plot go next to it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bench_stylize import PRESETS_BEFORE, cpu_name, fast_path_precision  # noqa: E402
from peer_run import caffe_to_uint8  # noqa: E402
from reach_cost import CountingTransfer, Ledger  # noqa: E402

from nst_core.checks import InputError  # noqa: E402
from nst_core.images import load_image, resize_long_edge  # noqa: E402
from nst_core.look import look  # noqa: E402
from nst_core.options import PRESETS, StyleOptions, preset_options  # noqa: E402

SHARES = ("Js@1", "Js@2", "Js@4", "colour")
# scikit-image's photos and textures: (content, style, what the style is)
PAIRS = [
    ("astronaut.png", "hubble_deep_field.jpg", "dark, sparse"),
    ("chelsea.png", "ihc.png", "pale, bright"),
    ("coffee.png", "gravel.png", "busy, grey"),
    ("rocket.jpg", "retina.jpg", "dark, red"),
    ("motorcycle_left.png", "brick.png", "pale, low contrast, grey"),
    ("astronaut.png", "grass.png", "busy"),
    ("rocket.jpg", "page.png", "bright, pale (text)"),
    ("coffee.png", "cell.png", "dark, pale"),
]
LADDER = (0.25, 1.0, 4.0, 16.0)  # Style strength as multiples of the default beta
# The look target: each share at most SHARE_FACTOR times before (or before + SHARE_SLACK); Jc at most JC_FACTOR times.
SHARE_FACTOR, SHARE_SLACK, JC_FACTOR = 1.05, 0.02, 1.25
TIME_TARGET = {"Quick": 0.7, "Balanced": 0.8}
PEER_STEPS = (10, 25, 50, 100, 150, 200, 300)  # pastiche's steps whose picture is scored
PEER_STRENGTHS = (1, 16, 32, 64)  # the presets' beta in look per second, as multiples of the default: pastiche weighs
# style far more than the default does
THUMB = 180


def sample_folder() -> Path:
    import skimage.data
    return Path(os.path.dirname(skimage.data.__file__))


def pair_images(index: int) -> tuple[np.ndarray, np.ndarray, str]:
    content, style, _ = PAIRS[index]
    folder = sample_folder()
    return load_image(folder / content), load_image(folder / style), f"{Path(content).stem}/{Path(style).stem}"


class BeforeTransfer(CountingTransfer):
    """The objective and optimiser of 5b7ffa8: the style's raw Gram sums as targets, G left unclamped between steps
    (a finer size started from the coarser result upsampled then as now)."""

    @staticmethod
    def _on_positions(grams, content01, styles01):
        return grams

    @staticmethod
    def _keep_in_range(G) -> None:
        pass


def stylize(options, content: np.ndarray, style: np.ndarray, before: bool = False,
            keep_every: int | None = None) -> dict:
    """One stylization in this process: its picture, costs, the style's balance (g, r, the factor m on beta and the
    start's palette weight p, ``stylize.Balance``), wall and CPU seconds, 512-px evaluation equivalents, and with
    ``keep_every`` the picture every that many steps at the final size as (seconds, picture)."""
    if keep_every:
        options.preview_every = keep_every
    transfer = (BeforeTransfer if before else CountingTransfer)(options)
    transfer.ledger = Ledger()
    transfer.evaluation_cost()  # the plan's one calibration per machine is not part of the run
    transfer.ledger = Ledger()
    wall, cpu = time.perf_counter(), time.process_time()
    snapshots = []
    for p in transfer.iter_stylize(content, [style]):
        if keep_every and p.image is not None and not p.done and max(p.size) == options.size:
            snapshots.append((time.perf_counter() - wall, p.image))  # from the start: the balance's passes too
    balance = transfer.balance
    return {"image": p.image, "J_content": p.J_content, "J_style": p.J_style, "J": p.J, "g": balance.g,
            "r": balance.r, "beta_factor": balance.beta_factor, "palette": balance.palette, "gain_cap": balance.cap,
            "seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
            "equivalents": transfer.ledger.equivalents, "steps": p.step, "snapshots": snapshots}


def scored(run: dict, content: np.ndarray, style: np.ndarray) -> dict:
    """A run's JSON row: its look (``nst_core.look``) and costs (the pictures stay out)."""
    row = {k: v for k, v in run.items() if k not in ("image", "snapshots")}
    return {**look(run["image"], content, style), **row}


def look_holds(now: dict, before: dict) -> dict:
    """Which of the look targets hold for ``now`` against ``before``."""
    held = {k: now[k] <= max(SHARE_FACTOR * before[k], before[k] + SHARE_SLACK) for k in SHARES}
    held["Jc"] = now["Jc"] <= JC_FACTOR * before["Jc"]
    return held


def measure_presets(r: dict, save, pairs, presets, size: int | None, precision: str, pictures: dict,
                    changes: dict | None = None) -> None:
    """Each preset before and now on each pair, one after the other; ``pictures[(pair, column)]`` keeps each.
    ``changes``: settings that the runs "now" take on top of the preset (a variant to weigh against before)."""
    for preset in presets:  # every pair's Quick first, so a cut-off run has whole presets
        for i in pairs:
            content, style, name = pair_images(i)
            common = {"device": "cpu", "precision": precision, **({"size": size} if size else {})}
            row = {}
            for when in ("before", "now"):
                fields = PRESETS_BEFORE[preset] if when == "before" else changes or {}
                run = stylize(preset_options(preset, **fields, **common), content, style, before=when == "before")
                row[when] = scored(run, content, style)
                pictures[(name, f"{preset} {when}")] = run["image"]
                print(f"  {name:28s} {preset:8s} {when:6s} " + "  ".join(f"{k} {row[when][k]:.3f}" for k in SHARES)
                      + f"  Jc {row[when]['Jc']:.4g}  m {row[when]['beta_factor']:.2f}"
                      + f"  p {row[when]['palette']:.2f}  {row[when]['seconds']:.1f} s",
                      flush=True)
            row["held"] = look_holds(row["now"], row["before"])
            row["time_now_over_before"] = row["now"]["seconds"] / row["before"]["seconds"]
            row["cpu_now_over_before"] = row["now"]["cpu_seconds"] / row["before"]["cpu_seconds"]
            row["equivalents_now_over_before"] = row["now"]["equivalents"] / row["before"]["equivalents"]
            r["presets"].setdefault(preset, {})[name] = row
            save()


def measure_ladder(r: dict, save, pairs, presets, size: int | None, precision: str, pictures: dict) -> None:
    """Each preset at ``LADDER`` times the default beta (the preset's size, or ``size``), on each pair."""
    for i in pairs:
        content, style, name = pair_images(i)
        for preset in presets:
            base = preset_options(preset)
            rows = {}
            for m in LADDER:
                options = preset_options(preset, device="cpu", precision=precision, beta=base.beta * m,
                                         **({"size": size} if size else {}))
                run = stylize(options, content, style)
                rows[f"{m:g}"] = scored(run, content, style)
                pictures[(name, f"{preset} {m:g}x")] = run["image"]
                print(f"  {name:28s} {preset:8s} {m:5g}x  Js@1 {rows[f'{m:g}']['Js@1']:.3f}  "
                      f"Jc {rows[f'{m:g}']['Jc']:.4g}", flush=True)
            js1 = [rows[f"{m:g}"]["Js@1"] for m in LADDER]
            r["ladder"].setdefault(preset, {})[name] = {
                "rows": rows, "monotone": all(b < a for a, b in zip(js1, js1[1:]))}
            save()


def pastiche_run(content_png: str, style_png: str, size: int) -> dict:
    """pastiche's L-BFGS (its defaults) for max(PEER_STEPS) steps, timing only its steps; its picture at each of
    ``PEER_STEPS`` as (seconds, picture)."""
    from pastiche.pastiche import PasticheArtist

    artist = PasticheArtist(content_png, [style_png], size=size, device="cpu")
    seconds, snapshots = 0.0, []
    for step in range(1, max(PEER_STEPS) + 1):
        start = time.perf_counter()
        artist.draw()
        seconds += time.perf_counter() - start
        if step in PEER_STEPS:
            snapshots.append((seconds, caffe_to_uint8(artist.pastiche)))
    return {"image": snapshots[-1][1], "seconds": seconds, "snapshots": snapshots}


def look_trace(snapshots, content, style) -> list[dict]:
    return [{"seconds": s, **look(image, content, style)} for s, image in snapshots]


def first_reaching(trace: list[dict], goal: dict) -> float | None:
    """Seconds of the first snapshot whose four shares are all at or below ``goal``'s (None: never)."""
    return next((t["seconds"] for t in trace if all(t[k] <= goal[k] for k in SHARES)), None)


def measure_peer(r: dict, save, pair: int, size: int, precision: str, workdir: Path) -> None:
    """Look per second: pastiche's L-BFGS and the Quick and Balanced presets (at each of ``PEER_STRENGTHS`` times
    the default beta) on one pair at ``size`` px; the time each needs to reach pastiche's 300-step look, counted from
    the run's start (the balance's passes included)."""
    content, style, name = pair_images(pair)
    content = resize_long_edge(content, size)
    style = resize_long_edge(style, size)
    content_png, style_png = workdir / "content.png", workdir / "style.png"
    Image.fromarray(content).save(content_png)
    Image.fromarray(style).save(style_png)
    peer = pastiche_run(str(content_png), str(style_png), size)
    content = np.asarray(Image.open(content_png).convert("RGB"))
    traces = {"pastiche": look_trace(peer["snapshots"], content, style)}
    goal = traces["pastiche"][-1]
    runs = {preset + (f", {m:g}× strength" if m != 1 else ""): preset_options(preset, size=size,
                                                                                 beta=preset_options(preset).beta * m)
            for preset in ("Quick", "Balanced") for m in PEER_STRENGTHS}
    for label, options in runs.items():
        options.device, options.precision = "cpu", precision
        run = stylize(options, content, style, keep_every=2)
        traces[label] = look_trace(run["snapshots"], content, style)
        print(f"  {label}: {run['seconds']:.1f} s", flush=True)
    reach = {label: first_reaching(trace, goal) for label, trace in traces.items()}
    r["peer"] = {"pair": name, "size": size, "pastiche_seconds": peer["seconds"], "pastiche_steps": max(PEER_STEPS),
                 "goal": goal, "traces": traces, "seconds_to_goal": reach,
                 "pastiche_over_ours": {k: reach["pastiche"] / v for k, v in reach.items() if v}}
    save()


def labelled(image: np.ndarray | None, text: str) -> Image.Image:
    """A THUMB-px tile of ``image`` (blank when missing) with ``text`` along its top."""
    tile = Image.new("RGB", (THUMB, THUMB), "white")
    if image is not None:
        pic = Image.fromarray(image)
        pic.thumbnail((THUMB, THUMB - 14))
        tile.paste(pic, ((THUMB - pic.width) // 2, 14))
    ImageDraw.Draw(tile).text((3, 1), text, fill="black")
    return tile


def contact_sheet(pictures: dict, path: Path, extra: dict | None = None) -> None:
    """One row per first key, one column per second key (in first-seen order); ``extra[row]`` tiles lead a row."""
    rows = list(dict.fromkeys(k[0] for k in pictures))
    columns = list(dict.fromkeys(k[1] for k in pictures))
    lead = len(next(iter(extra.values()))) if extra else 0
    sheet = Image.new("RGB", (THUMB * (lead + len(columns)), THUMB * len(rows)), "white")
    for y, row in enumerate(rows):
        tiles = [labelled(img, label) for label, img in (extra or {}).get(row, [])]
        tiles += [labelled(pictures.get((row, c)), f"{c}" if y else f"{row[:14]}: {c}") for c in columns]
        for x, tile in enumerate(tiles):
            sheet.paste(tile, (THUMB * x, THUMB * y))
    sheet.save(path)


def pair_tiles(pictures: dict) -> dict:
    """Content and style tiles for each pair named in ``pictures``' rows."""
    tiles = {}
    for i in range(len(PAIRS)):
        content, style, name = pair_images(i)
        for row in dict.fromkeys(k[0] for k in pictures):
            if row.split(" ")[0] == name:
                tiles[row] = [(name.split("/")[0], content), (f"{name.split('/')[1]} ({PAIRS[i][2]})", style)]
    return tiles


def plot_peer(peer: dict, path: Path) -> None:
    """Js@1, Js@4 and colour shares against seconds, one line per run (log scales: the shares span decades)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
    for ax, key in zip(axes, ("Js@1", "Js@4", "colour")):
        for label, trace in peer["traces"].items():
            ax.plot([t["seconds"] for t in trace], [t[key] for t in trace], marker=".", label=label)
        ax.axhline(peer["goal"][key], color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("seconds")
        ax.set_ylabel(f"{key} share (lower: more stylized)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=5, fontsize="small")
    fig.suptitle(f"{peer['pair']} at {peer['size']} px: the look against time (dashed: pastiche after "
                 f"{peer['pastiche_steps']} steps)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def spread(values: list[float]) -> dict:
    return {"min": min(values), "max": max(values), "max_over_min": max(values) / min(values),
            "stdev": statistics.pstdev(values)}


def summarise(r: dict) -> None:
    """Per preset: the pairs where the look holds, the time ratios, the spread of Js@1 at the default strength."""
    for preset, rows in r["presets"].items():
        ratios = [row["time_now_over_before"] for row in rows.values()]
        r["summary"][preset] = {
            "pairs": len(rows), "look_held_on": sum(all(row["held"].values()) for row in rows.values()),
            "failed": {name: [k for k, ok in row["held"].items() if not ok] for name, row in rows.items()
                       if not all(row["held"].values())},
            "time_now_over_before_median": statistics.median(ratios),
            "time_now_over_before_total": (sum(row["now"]["seconds"] for row in rows.values())
                                           / sum(row["before"]["seconds"] for row in rows.values())),
            "cpu_now_over_before_total": (sum(row["now"]["cpu_seconds"] for row in rows.values())
                                          / sum(row["before"]["cpu_seconds"] for row in rows.values())),
            "equivalents_now_over_before": statistics.median(row["equivalents_now_over_before"]
                                                             for row in rows.values()),
            "time_target": TIME_TARGET.get(preset),
            "Js@1_spread": {when: spread([row[when]["Js@1"] for row in rows.values()]) for when in ("before", "now")},
            "now_seconds_median": statistics.median(row["now"]["seconds"] for row in rows.values())}
    for preset, rows in r["ladder"].items():
        r["summary"].setdefault(f"{preset} ladder", {})["monotone_on"] = [
            sum(row["monotone"] for row in rows.values()), len(rows)]


def print_table(r: dict) -> None:
    print(f"\nCPU: {r['cpu']}, {r['threads']} threads, {r['precision']}, {r['date']}")
    head = "  ".join(f"{k:>6s}" for k in SHARES)
    for preset, rows in r["presets"].items():
        print(f"\n{preset} (before: {PRESETS_BEFORE[preset]}, now: {PRESETS[preset]}); shares: lower is more stylized")
        print(f"{'pair':28s} {'':6s} {head}  {'Jc':>9s} {'J_content':>10s} {'J_style':>10s} {'m':>5s} {'p':>5s} {'s':>6s}  held")
        for name, row in rows.items():
            for when in ("before", "now"):
                q = row[when]
                held = "" if when == "before" else ("yes" if all(row["held"].values()) else
                                                    "NO: " + ", ".join(k for k, ok in row["held"].items() if not ok))
                print(f"{name if when == 'before' else '':28s} {when:6s} " + "  ".join(f"{q[k]:6.3f}" for k in SHARES)
                      + f"  {q['Jc']:9.4g} {q['J_content']:10.4g} {q['J_style']:10.4g} {q['beta_factor']:5.2f} "
                      f"{q['palette']:5.2f} {q['seconds']:6.1f}  {held}")
        s = r["summary"][preset]
        target = f" (target <= {s['time_target']})" if s["time_target"] else ""
        print(f"look held on {s['look_held_on']} of {s['pairs']} pairs; time now / before: median "
              f"{s['time_now_over_before_median']:.2f}, total {s['time_now_over_before_total']:.2f}{target}, CPU "
              f"{s['cpu_now_over_before_total']:.2f}, 512-px evaluation equivalents {s['equivalents_now_over_before']:.2f}"
              f"; Js@1 spread max/min before {s['Js@1_spread']['before']['max_over_min']:.2f}, "
              f"now {s['Js@1_spread']['now']['max_over_min']:.2f}")
    for preset, rows in r["ladder"].items():
        print(f"\n{preset} strength ladder at {r['ladder_size'] or 'the preset size'} px, Js@1 share (Jc) at "
              + ", ".join(f"{m:g}x" for m in LADDER) + " the default beta")
        for name, row in rows.items():
            print(f"{name:28s} " + "  ".join(f"{q['Js@1']:.3f} ({q['Jc']:.3g})" for q in row["rows"].values())
                  + ("" if row["monotone"] else "  NOT monotone"))
    if (p := r.get("peer")) is not None:
        print(f"\nlook per second, {p['pair']} at {p['size']} px: pastiche's {p['pastiche_steps']} steps in "
              f"{p['pastiche_seconds']:.1f} s reach " + ", ".join(f"{k} {p['goal'][k]:.3f}" for k in SHARES))
        for label, seconds in p["seconds_to_goal"].items():
            ratio = p["pastiche_over_ours"].get(label)
            print(f"  {label:10s} " + ("never reaches it" if seconds is None else
                                       f"{seconds:.1f} s" + (f" ({ratio:.1f}x less time)" if ratio else "")))


def value_of(text: str):
    """A --set value: JSON where it reads as JSON (12, 0.5, false, {"relu1_1": 1}), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "quality.json",
                        help="JSON results path (rewritten after each run); the sheets and plot go next to it")
    parser.add_argument("--pairs", nargs="+", type=int, default=list(range(len(PAIRS))),
                        choices=range(len(PAIRS)), metavar="I", help="the pairs (0-based indices into PAIRS)")
    parser.add_argument("--size", type=int, help="long edge in px (default: each preset's own size)")
    parser.add_argument("--presets", nargs="+", choices=list(PRESETS), default=["Quick", "Balanced"],
                        metavar="NAME", help="presets to compare before and now (default: Quick Balanced)")
    parser.add_argument("--ladder-presets", nargs="+", choices=list(PRESETS), default=list(PRESETS),
                        metavar="NAME", help="presets of the strength ladder (default: all)")
    parser.add_argument("--precision", choices=("auto", "fp32"), default="auto",
                        help="convolution precision of the runs (fp32: as on a CPU without bf16); the look is "
                             "always scored in float32")
    parser.add_argument("--parts", nargs="+", choices=("presets", "ladder", "peer"), default=["presets"],
                        help="what to measure (default: presets)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads (on a CPU shared with other work, 1 thread wastes less time waiting)")
    parser.add_argument("--set", nargs="+", default=[], metavar="NAME=VALUE", dest="changes",
                        help="settings the presets take now on top of their own, e.g. steps=12 or "
                             "near_style_gain=false: a variant measured against before the same way")
    parser.add_argument("--peer-pair", type=int, default=0, choices=range(len(PAIRS)), metavar="I",
                        help="the pair of the look-per-second comparison")
    args = parser.parse_args(argv)
    changes = {name: value_of(text) for name, _, text in (change.partition("=") for change in args.changes)}
    try:
        StyleOptions.from_dict({**PRESETS["Quick"], **changes})  # checked once, before any run
    except InputError as e:
        parser.error(f"--set: {e}")
    torch.set_num_threads(args.threads)
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    r = {"cpu": cpu_name(), "threads": torch.get_num_threads(), "precision": fast_path_precision(args.precision),
         "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "command": " ".join(sys.argv),
         "pairs": {f"{Path(c).stem}/{Path(s).stem}": what for c, s, what in (PAIRS[i] for i in args.pairs)},
         "size": args.size, "ladder_size": args.size, "presets_now": PRESETS, "now_changes": changes, "presets_before": PRESETS_BEFORE,
         "presets": {}, "ladder": {}, "summary": {}}

    pictures, ladder = {}, {}

    def save():
        summarise(r)
        out.write_text(json.dumps(r, indent=1))
        for kept, suffix in ((pictures, "sheet"), (ladder, "ladder")):
            if kept:
                contact_sheet(kept, out.with_name(f"{out.stem}_{suffix}.png"), pair_tiles(kept))

    if "presets" in args.parts:
        measure_presets(r, save, args.pairs, args.presets, args.size, args.precision, pictures, changes)
    if "ladder" in args.parts:
        measure_ladder(r, save, args.pairs, args.ladder_presets, args.size, args.precision, ladder)
    if "peer" in args.parts:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            measure_peer(r, save, args.peer_pair, args.size or PRESETS["Balanced"]["size"], args.precision, Path(tmp))
        plot_peer(r["peer"], out.with_name(f"{out.stem}_plot.png"))
    save()
    print_table(r)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
