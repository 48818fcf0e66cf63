"""Feature visualisation: 16 units at 128 px for conv3_1 (target < 60 s) and conv5_1 (< 3 min), and what each
technique contributes.

    python benchmarks/bench_featurevis.py --out benchmarks/results/featurevis.json --pictures benchmarks/results
    (--skip-speed or --skip-techniques runs one part; the other part already in --out is kept)

1. Speed: ``render.visualize`` with the defaults of ``VisSettings`` (128 px, 128 Adam steps, 64 at 64 px then 64
   at 128 px, precision "auto"), one unit per batch item. Other processes on a 2-core box slow every wall-clock
   number, so each stage's time is also estimated from its fastest quarter of steps (steps x their mean: what an
   idle machine would take). The load average is recorded before and after.
2. Techniques: the same run (8 units of conv3_1, 64 px, 64 steps) with one technique left out at a time, and with
   all three left out. Scored on the final image, without transforms, in float32:
   - reached: spatial mean of max(0, conv) of the unit, over the best of scikit-image's sample photos (the same
     photos centre-cropped and resized to the same size);
   - robust: the same after a random shift of up to 1/8 of the image (does the feature survive a move?);
   - high-frequency energy: share of the grey image's spectral power above a quarter of the sampling rate;
   - colour correlation: mean correlation between the R, G and B planes (photos: about 0.9).
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

from explorer.units.color import sample_photos  # noqa: E402
from explorer.units.render import mean_rectified_activation, visualize  # noqa: E402
from explorer.units.tiles import labelled_page  # noqa: E402
from explorer.units.vis_settings import VisSettings  # noqa: E402
from nst_core.stylize import cpu_supports_bf16  # noqa: E402
from nst_core.vgg import load_vgg19  # noqa: E402

TARGETS_S = {"conv3_1": 60.0, "conv5_1": 180.0}
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
    parser.add_argument("--pictures", default=None, help="folder for the grids (PNG)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-techniques", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = load_vgg19()
    result = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    result["machine"] = {"cpus": os.cpu_count(), "threads": torch.get_num_threads(),
                         "python": platform.python_version(), "torch": torch.__version__,
                         "bf16_instructions": cpu_supports_bf16()}
    defaults = VisSettings()
    print(f"load average {os.getloadavg()[0]:.1f}; bf16 instructions: {cpu_supports_bf16()} "
          f"(precision auto -> {'bf16' if cpu_supports_bf16() else 'fp32'})")
    if not args.skip_speed:
        result["speed"] = {"load_average_before": os.getloadavg()}
        print(f"{'layer':8} {'units':>5} {'px':>4} {'steps':>5} {'seconds':>8} {'if idle':>8} {'target':>7}")
        for layer, target in TARGETS_S.items():
            run = timed_run(model, layer, list(range(16)), defaults)
            photos = sample_photos(defaults.size)
            best = np.array([mean_rectified_activation(model, layer, photos, u).max() for u in range(16)])
            images = run.pop("images")
            result["speed"][layer] = {**run, "units": 16, "size": defaults.size, "steps": defaults.steps,
                                      "target_s": target, "meets_target": run["seconds"] < target,
                                      "meets_target_if_idle": run["idle_estimate_s"] < target,
                                      **score(model, layer, list(range(16)), images, best)}
            print(f"{layer:8} {16:5} {defaults.size:4} {defaults.steps:5} {run['seconds']:8.1f} "
                  f"{run['idle_estimate_s']:8.1f} {target:7.0f}", flush=True)
            if args.pictures:
                Image.fromarray(labelled_page(list(images), [f"{layer}:{u}" for u in range(16)], 8)).save(
                    os.path.join(args.pictures, f"featurevis_{layer}.png"))
        result["speed"]["load_average_after"] = os.getloadavg()
    if not args.skip_techniques:
        techniques(model, defaults, result, args.pictures)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"load average {os.getloadavg()[0]:.1f}; -> {args.out}")


def techniques(model, defaults: VisSettings, result: dict, pictures: str | None) -> None:
    """Each technique left out in turn (and all three): the scores of ``score``, and a picture of the images."""
    result["techniques"] = {"load_average_before": os.getloadavg()}
    layer, units, size = "conv3_1", list(range(8)), 64
    photos = sample_photos(size)
    best = np.array([mean_rectified_activation(model, layer, photos, u).max() for u in units])
    print(f"\n{'conv3_1, 8 units, 64 px, 64 steps':36} {'reached':>8} {'shifted':>8} {'HF share':>9} {'RGB corr':>9}")
    rows = []
    for name, changes in VARIANTS.items():
        settings = defaults.replace(size=size, steps=64, **changes)
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
        names = [f"{n}: {u}" for n in VARIANTS for u in units]
        Image.fromarray(labelled_page([im for row in rows for im in row], names, len(units))).save(
            os.path.join(pictures, "featurevis_techniques.png"))
    result["techniques"]["load_average_after"] = os.getloadavg()


if __name__ == "__main__":
    main()
