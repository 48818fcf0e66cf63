"""Feature visualisation: 16 units at 128 px for conv3_1 (target < 60 s) and conv5_1 (< 3 min), what each
technique contributes, and why the schedule is what it is.

    python benchmarks/bench_featurevis.py --out benchmarks/results/featurevis.json --pictures benchmarks/results
    (--parts speed,schedules runs those parts; the other parts already in --out are kept)

1. Speed: ``render.visualize`` with the defaults of ``VisSettings`` (128 px; 64 Adam steps at 64 px, then 16 at
   128 px; precision "auto"), one unit per batch item. Other processes on a 2-core box slow every wall-clock
   number, so each stage's time is also estimated from its fastest quarter of steps (steps x their mean: what an
   idle machine would take). The load average is recorded before and after.
2. Techniques: the default schedule at 64 px (8 units of conv3_1; 64 steps at 32 px, 16 at 64 px) with one
   technique left out at a time, and with all three left out. Scored on the final image, without transforms, in float32:
   - reached: spatial mean of max(0, conv) of the unit, over the best of scikit-image's sample photos (the same
     photos centre-cropped and resized to the same size);
   - robust: the same after a random shift of up to 1/8 of the image (does the feature survive a move?);
   - high-frequency energy: share of the grey image's spectral power above a quarter of the sampling rate;
   - colour correlation: mean correlation between the R, G and B planes (photos: about 0.9).
3. Schedules: 16 units of conv3_1 at 128 px under other coarse-to-fine schedules and learning rates
   (``SCHEDULES``): seconds, and the activation reached over the best photo (mean and smallest unit).
4. Precision: float32 against bf16 autocast on 8 units at 64 px (conv3_1, conv5_1): activation reached and
   pixel difference, to see whether bf16 holds quality (seconds mean little where bf16 is emulated).
5. Grid (with --pictures): units 0-7 of conv1_1 ... conv5_1 at the defaults, one row per layer
   (``featurevis_conv1-5.png``), to look at what the layers want to see, from colours to object parts.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.featurevis.color import sample_photos  # noqa: E402
from explorer.featurevis.render import mean_rectified_activation, visualize  # noqa: E402
from explorer.units.tiles import labelled_page  # noqa: E402
from explorer.featurevis.vis_settings import VisSettings  # noqa: E402
from nst_core.device import cpu_supports_bf16  # noqa: E402
from nst_core.vgg import load_vgg19  # noqa: E402

TARGETS_S = {"conv3_1": 60.0, "conv5_1": 180.0}
SCHEDULES = {  # name -> settings changes from the defaults (64 steps at 64 px, 16 at 128 px, lr 0.1)
    "first schedule: 64 + 64 steps, lr 0.05": {"steps": 64, "coarse_factor": 1, "learning_rate": 0.05},
    "the defaults at lr 0.05": {"learning_rate": 0.05},
    "more coarse steps (factor 6)": {"coarse_factor": 6},
    "from 32 px: 3 sizes, factor 2": {"scales": 3, "coarse_factor": 2},
    "the defaults": {},
}
VARIANTS = {  # name -> settings changes from the defaults
    "all three": {},
    "pixel parameterisation": {"param": "pixel"},
    "no transforms": {"transforms": False},
    "no colour decorrelation": {"decorrelate": False},
    "none of the three": {"param": "pixel", "transforms": False, "decorrelate": False},
}


def timed_run(model, layer: str, units: list[int], settings: VisSettings) -> dict:
    """Wall time of one batched run, and the idle estimate from each stage's fastest quarter of steps."""
    durations: dict[int, list[float]] = {}
    last_t = 0.0
    for record in visualize(model, layer, units, settings):
        if not record.done:
            durations.setdefault(record.size, []).append(record.elapsed - last_t)
            last_t = record.elapsed
    idle = 0.0
    for size, times in durations.items():
        fastest = sorted(times)[:max(1, len(times) // 4)]
        idle += len(times) * float(np.mean(fastest))
    return {"seconds": record.elapsed, "idle_estimate_s": idle, "images": record.images,
            "seconds_per_step": {str(s): float(np.median(t)) for s, t in durations.items()}}


def high_frequency_share(rgb: np.ndarray) -> float:
    """Share of the grey image's spectral power (mean removed) at |f| > a quarter of the sampling rate."""
    grey = rgb.astype(float).mean(-1)
    power = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(grey.shape[0]), np.fft.fftfreq(grey.shape[1]), indexing="ij")
    return float(power[np.hypot(fy, fx) > 0.25].sum() / power.sum())


def colour_correlation(rgb: np.ndarray) -> float:
    c = np.corrcoef(rgb.reshape(-1, 3).astype(float), rowvar=False)
    return float(np.mean([c[0, 1], c[0, 2], c[1, 2]]))


def shifted(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    d = images.shape[1] // 8
    return np.stack([np.roll(im, tuple(rng.integers(-d, d + 1, 2)), axis=(0, 1)) for im in images])


def score(model, layer: str, units: list[int], images: np.ndarray, best_photo: np.ndarray) -> dict:
    reached = mean_rectified_activation(model, layer, images, units) / best_photo
    robust = mean_rectified_activation(model, layer, shifted(images, np.random.default_rng(0)), units) / best_photo
    return {"reached_vs_best_photo": float(np.mean(reached)), "min_reached_vs_best_photo": float(reached.min()),
            "shifted_vs_best_photo": float(np.mean(robust)),
            "high_frequency_share": float(np.mean([high_frequency_share(im) for im in images])),
            "colour_correlation": float(np.mean([colour_correlation(im) for im in images]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/featurevis.json")
    parser.add_argument("--pictures", default=None, help="folder for the pictures (PNG)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}; the other "
                        "parts already in --out are kept (grid needs --pictures)")
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    if unknown := set(parts) - set(PARTS):
        parser.error(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    torch.manual_seed(0)
    model = load_vgg19()
    result = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    result["machine"] = {"cpus": os.cpu_count(), "threads": torch.get_num_threads(),
                         "python": platform.python_version(), "torch": torch.__version__,
                         "bf16_instructions": cpu_supports_bf16()}
    print(f"load average {os.getloadavg()[0]:.1f}; bf16 instructions: {cpu_supports_bf16()} "
          f"(precision auto -> {'bf16' if cpu_supports_bf16() else 'fp32'})")
    for part in parts:
        PARTS[part](model, VisSettings(), result, args.pictures)
        Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"load average {os.getloadavg()[0]:.1f}; -> {args.out}")


def sixteen_units(model, layer: str, settings: VisSettings) -> dict:
    """One timed run of units 0-15 at ``settings``, scored against the best sample photo at the same size."""
    run = timed_run(model, layer, list(range(16)), settings)
    photos = sample_photos(settings.size)
    best = np.array([mean_rectified_activation(model, layer, photos, u).max() for u in range(16)])
    images = run.pop("images")
    return {**run, "units": 16, "size": settings.size, "schedule": settings.sizes(),
            "learning_rate": settings.learning_rate, **score(model, layer, list(range(16)), images, best),
            "images": images}


def speed(model, defaults: VisSettings, result: dict, pictures: str | None) -> None:
    """16 units at the defaults on conv3_1 and conv5_1, against the targets."""
    result["speed"] = {"load_average_before": os.getloadavg()}
    print(f"{'layer':8} {'units':>5} {'px':>4} {'steps':>5} {'seconds':>8} {'if idle':>8} {'target':>7} "
          f"{'min ÷ photo':>12}")
    for layer, target in TARGETS_S.items():
        run = sixteen_units(model, layer, defaults)
        images = run.pop("images")
        result["speed"][layer] = {**run, "target_s": target, "meets_target": run["seconds"] < target,
                                  "meets_target_if_idle": run["idle_estimate_s"] < target}
        print(f"{layer:8} {16:5} {defaults.size:4} {defaults.total_steps:5} {run['seconds']:8.1f} "
              f"{run['idle_estimate_s']:8.1f} {target:7.0f} {run['min_reached_vs_best_photo']:11.1f}x", flush=True)
        if pictures:
            Image.fromarray(labelled_page(list(images), [f"{layer} unit {u}" for u in range(16)], 8)).save(
                os.path.join(pictures, f"featurevis_{layer}.png"))
    result["speed"]["load_average_after"] = os.getloadavg()


def schedules(model, defaults: VisSettings, result: dict, pictures: str | None) -> None:
    """16 units of conv3_1 at 128 px under each schedule of SCHEDULES: time and the activation reached."""
    result["schedules"] = {"load_average_before": os.getloadavg()}
    print(f"\n{'conv3_1, 16 units, 128 px':44} {'steps (px)':>22} {'seconds':>8} {'mean ÷ photo':>13} "
          f"{'min':>6}")
    for name, changes in SCHEDULES.items():
        settings = defaults.replace(**changes)
        run = sixteen_units(model, "conv3_1", settings)
        run.pop("images")
        result["schedules"][name] = {"settings": changes, **run}
        steps = " + ".join(f"{n}@{px}" for px, n in settings.sizes())
        print(f"{name:44} {steps:>22} {run['seconds']:8.1f} {run['reached_vs_best_photo']:12.1f}x "
              f"{run['min_reached_vs_best_photo']:5.1f}x", flush=True)
    result["schedules"]["load_average_after"] = os.getloadavg()


def techniques(model, defaults: VisSettings, result: dict, pictures: str | None) -> None:
    """Each technique left out in turn (and all three): the scores of ``score``, and a picture of the images."""
    result["techniques"] = {"load_average_before": os.getloadavg()}
    layer, units, size = "conv3_1", list(range(8)), 64
    photos = sample_photos(size)
    best = np.array([mean_rectified_activation(model, layer, photos, u).max() for u in units])
    schedule = " + ".join(f"{n}@{px}" for px, n in defaults.replace(size=size).sizes())
    result["techniques"]["schedule"] = defaults.replace(size=size).sizes()
    print(f"\n{f'{layer}, 8 units, steps {schedule} px':36} {'reached':>8} {'shifted':>8} {'HF share':>9} "
          f"{'RGB corr':>9}")
    rows = []
    for name, changes in VARIANTS.items():
        settings = defaults.replace(size=size, **changes)
        *_, last = visualize(model, layer, units, settings)
        s = score(model, layer, units, last.images, best)
        result["techniques"][name] = {"settings": changes, **s}
        rows.append(last.images)
        print(f"{name:36} {s['reached_vs_best_photo']:7.1f}x {s['shifted_vs_best_photo']:7.1f}x "
              f"{s['high_frequency_share']:9.3f} {s['colour_correlation']:9.2f}", flush=True)
    photo_scores = {"high_frequency_share": float(np.mean([high_frequency_share(p) for p in photos])),
                    "colour_correlation": float(np.mean([colour_correlation(p) for p in photos]))}
    result["techniques"]["sample photos (reference)"] = photo_scores
    print(f"{'sample photos (reference)':36} {'':8} {'':8} {photo_scores['high_frequency_share']:9.3f} "
          f"{photo_scores['colour_correlation']:9.2f}")
    if pictures:
        names = [f"{n} · unit {u}" for n in VARIANTS for u in units]
        enlarged = [im.repeat(2, 0).repeat(2, 1) for row in rows for im in row]  # 2x, pixels kept as they are
        Image.fromarray(labelled_page(enlarged, names, len(units))).save(
            os.path.join(pictures, "featurevis_techniques.png"))
    result["techniques"]["load_average_after"] = os.getloadavg()


def precision(model, defaults: VisSettings, result: dict, pictures: str | None) -> None:
    """Does bf16 hold quality? The same runs in float32 and in bf16 autocast (8 units, 64 px): activation reached
    (scored in float32) and how far the pixels move. On a CPU without bf16 instructions oneDNN emulates bf16, so
    the values are bf16's but the seconds are not what a bf16 CPU would take."""
    result["precision"] = {"load_average_before": os.getloadavg(), "bf16_instructions": cpu_supports_bf16()}
    units, size = list(range(8)), 64
    photos = sample_photos(size)
    print(f"\n{'8 units, 64 px':16} {'precision':>9} {'seconds':>8} {'mean ÷ photo':>13} {'min':>6} "
          f"{'|Δ pixel| vs fp32':>18}")
    for layer in TARGETS_S:
        best = np.array([mean_rectified_activation(model, layer, photos, u).max() for u in units])
        images = {}
        for p in ("fp32", "bf16"):
            run = timed_run(model, layer, units, defaults.replace(size=size, precision=p))
            images[p] = run.pop("images")
            diff = float(np.abs(images[p].astype(float) - images["fp32"]).mean())
            result["precision"][f"{layer} {p}"] = {**run, **score(model, layer, units, images[p], best),
                                                   "mean_abs_pixel_difference_vs_fp32": diff}
            r = result["precision"][f"{layer} {p}"]
            print(f"{layer:16} {p:>9} {run['seconds']:8.1f} {r['reached_vs_best_photo']:12.1f}x "
                  f"{r['min_reached_vs_best_photo']:5.1f}x {diff:18.1f}", flush=True)
    result["precision"]["load_average_after"] = os.getloadavg()


def layer_rows(model, defaults: VisSettings, result: dict, pictures: str | None) -> None:
    """Units 0-7 of the first conv layer of each block, one row per layer, as one labelled picture."""
    if pictures is None:
        print("grid: no --pictures folder, nothing drawn")
        return
    path = os.path.join(pictures, "featurevis_conv1-5.png")
    layers, units, images = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"), list(range(8)), []
    for layer in layers:
        *_, last = visualize(model, layer, units, defaults)
        images.extend(last.images)
    Image.fromarray(labelled_page(images, [f"{layer} unit {u}" for layer in layers for u in units], 8)).save(path)
    print(f"units 0-7 of {', '.join(layers)} -> {path}")


PARTS = {"speed": speed, "techniques": techniques, "schedules": schedules, "precision": precision,
         "grid": layer_rows}

if __name__ == "__main__":
    main()
