"""Video: how steady a stylized clip is, whether it stays as stylized, and what it costs, against stylizing each
frame on its own at the same settings.

    python benchmarks/bench_video.py --out benchmarks/results/video.json
    python benchmarks/bench_video.py --cases pan --size 128 --seconds 1 --weights 0 1e5 1e6 1e7 --out /tmp/w.json

Cases: ``real``, the first ``--seconds`` of Gradio's sample clip (media_assets/videos/b.mp4) at ``--fps``; ``pan``,
a synthetic camera pan across scikit-image's coffee photo, ``--pan`` px per frame to the left, whose true motion is
known (the DIS flow's error against it is reported).

For each case: ``independent`` stylizes every frame with the preset's full schedule (``StyleTransfer``);
``video`` (one row per ``--weights`` gamma) runs ``ClipStylizer``. Per row:
- E_warp, the temporal warping error (``nst_core.video.steadiness``, Lai et al. 2018), and its ratio to the
  independent frames' (goal <= 0.5);
- style kept: each frame's shares of ``nst_core.look`` (Js@1, Js@2, Js@4, colour: how far it moved from its
  content towards the style, lower is more stylized), as a ratio to the independent frame's; the mean and the
  worst frame (goal: within 10 %);
- seconds: the whole clip, frame 1, and the mean of the later frames against the mean independent frame (a still
  at the same size and preset; goal <= 0.5);
- the process's peak RSS.
The CPU, the precision, the date and the load average go into the JSON.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gradio  # noqa: E402

from nst_core import StyleTransfer  # noqa: E402
from nst_core.look import look  # noqa: E402
from nst_core.images import load_image, resize_to  # noqa: E402
from nst_core.options import preset_options  # noqa: E402
from nst_core.device import platform_cpu  # noqa: E402
from nst_core.video.flow import optical_flow  # noqa: E402
from nst_core.video.frames import even_size, read_clip, write_clip  # noqa: E402
from nst_core.video.sequence import TEMPORAL_WEIGHT, ClipStylizer  # noqa: E402
from nst_core.video.steadiness import flows_of, warping_error  # noqa: E402
from nst_studio.images import SKIMAGE_DATA  # noqa: E402

CLIP = Path(gradio.__file__).parent / "media_assets" / "videos" / "b.mp4"
STYLE = SKIMAGE_DATA / "hubble_deep_field.jpg"
PHOTO = SKIMAGE_DATA / "coffee.png"
SHARES = ("Js@1", "Js@2", "Js@4", "colour")


def pan_frames(size: int, n: int, step: int) -> tuple[list[np.ndarray], float]:
    """``n`` frames of a 16:9 window moving ``step`` px per frame to the right over the photo (the content moves
    left), and the true backward flow, +``step`` px in x everywhere it is defined."""
    h, w = even_size(9, 16, size)
    photo = load_image(PHOTO)
    ph = h
    pw = round(photo.shape[1] * h / photo.shape[0])
    wide = resize_to(photo, ph, max(pw, w + step * n))
    return [np.ascontiguousarray(wide[:, t * step:t * step + w]) for t in range(n)], float(step)


def looks(frames: list[np.ndarray], content: list[np.ndarray], style: np.ndarray) -> dict[str, list[float]]:
    """Each frame's shares (``nst_core.look``: Js@1, Js@2, Js@4, colour; lower is more stylized) against its
    content frame and the style."""
    per_frame = [look(f, c, style) for f, c in zip(frames, content)]
    return {m: [p[m] for p in per_frame] for m in SHARES}


def independent(frames, style, options) -> dict:
    """Every frame stylized on its own with the full schedule."""
    st, results, seconds = StyleTransfer(options), [], []
    for f in frames:
        start = time.perf_counter()
        results.append(st.stylize(f, [style]))
        seconds.append(time.perf_counter() - start)
    return {"frames": results, "seconds": sum(seconds), "per_frame": float(np.mean(seconds))}


def video(frames, style, options, weight: float, frame_steps: int) -> dict:
    stylizer = ClipStylizer(options, weight, frame_steps)
    start = time.perf_counter()
    ends = []
    for p in stylizer.iter_stylize(frames, [style]):
        if p.result is not None:
            ends.append(time.perf_counter() - start)
    later = np.diff(ends)
    return {"frames": p.results, "seconds": ends[-1], "first": ends[0],
            "per_frame": float(later.mean()) if len(later) else float("nan"),
            "frame_steps": stylizer.later.options.steps}


def row(name: str, run: dict, flows, shares: dict[str, list[float]], base: dict | None) -> dict:
    r = {"method": name, "E_warp": warping_error(run["frames"], flows), "seconds": run["seconds"],
         "per_frame": run["per_frame"], "shares": {m: float(np.mean(v)) for m, v in shares.items()},
         "share_frames": shares}
    r.update({k: run[k] for k in ("first", "frame_steps") if k in run})
    if base is not None:  # each frame's share against the independent frame's: the mean ratio and the worst frame
        ratios = {m: np.array(shares[m]) / np.array(base["share_frames"][m]) for m in SHARES}
        r.update({"E_warp_ratio": r["E_warp"] / base["E_warp"], "time_ratio": r["per_frame"] / base["per_frame"],
                  "share_ratio_mean": {m: float(v.mean()) for m, v in ratios.items()},
                  "share_ratio_worst": {m: float(v[np.argmax(np.abs(v - 1))]) for m, v in ratios.items()}})
    return r


def run_case(name, frames, style, options, weights, frame_steps, save_dir) -> dict:
    flows = flows_of(frames)
    case = {"case": name, "frames": len(frames), "size": list(frames[0].shape[:2]),
            "content_E_warp": warping_error(frames, flows), "rows": []}
    ind = independent(frames, style, options)
    base = row("independent", ind, flows, looks(ind["frames"], frames, style), None)
    case["rows"].append(base)
    if save_dir:
        write_clip(str(save_dir / f"video_{name}_independent.gif"), ind["frames"], 10)
    for w in weights:
        v = video(frames, style, options, w, frame_steps)
        case["rows"].append(row(f"video gamma={w:g}", v, flows, looks(v["frames"], frames, style), base))
        if save_dir:
            write_clip(str(save_dir / f"video_{name}_gamma{w:g}.gif"), v["frames"], 10)
        print(json.dumps({k: v for k, v in case["rows"][-1].items() if k != "share_frames"}), flush=True)
    return case


def table(cases: list[dict]) -> str:
    lines = ["| case | method | E_warp | × independent | Js@1 / Js@2 / Js@4 / colour shares (× independent, mean; "
             "worst frame) | s/frame after 1st | × still | clip s |", "|---|---|---|---|---|---|---|---|"]
    for c in cases:
        for r in c["rows"]:
            shares = " / ".join(f"{r['shares'][m]:.2f}" for m in SHARES)
            if "share_ratio_mean" in r:
                shares += (" (" + " / ".join(f"{r['share_ratio_mean'][m]:.2f}" for m in SHARES) + "; " +
                           " / ".join(f"{r['share_ratio_worst'][m]:.2f}" for m in SHARES) + ")")
            ratio = f"{r['E_warp_ratio']:.2f}" if "E_warp_ratio" in r else "1"
            t = f"{r['time_ratio']:.2f}" if "time_ratio" in r else "1"
            lines.append(f"| {c['case']} ({c['frames']} frames, {c['size'][1]}×{c['size'][0]}, content E_warp "
                         f"{c['content_E_warp']:.4f}) | {r['method']} | {r['E_warp']:.4f} | {ratio} | {shares} | "
                         f"{r['per_frame']:.2f} | {t} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=["real", "pan"], choices=["real", "pan"])
    parser.add_argument("--preset", default="Quick")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--pan", type=int, default=3, help="px per frame of the synthetic pan")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, TEMPORAL_WEIGHT])
    parser.add_argument("--frame-steps", type=int, default=0, help="steps of later frames (0: the default)")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--gifs", help="folder to write each run's GIF into, to look at")
    parser.add_argument("--out", default="benchmarks/results/video.json")
    args = parser.parse_args()
    options = preset_options(args.preset, size=args.size, precision=args.precision)
    style = load_image(STYLE)
    save_dir = Path(args.gifs) if args.gifs else None
    if save_dir:
        save_dir.mkdir(parents=True, exist_ok=True)
    n = max(2, round(args.seconds * args.fps))
    cases = []
    for name in args.cases:
        if name == "real":
            frames = read_clip(str(CLIP), args.size, max_frames=n, fps=args.fps).frames
            cases.append(run_case("real", frames, style, options, args.weights, args.frame_steps, save_dir))
        else:
            frames, shift = pan_frames(args.size, n, args.pan)
            epe = float(np.mean([np.abs(optical_flow(b, a)[..., 0] - shift).mean() for a, b in zip(frames, frames[1:])]))
            case = run_case("pan", frames, style, options, args.weights, args.frame_steps, save_dir)
            case["flow_error_px"] = epe  # DIS's mean |error| of the horizontal flow against the true pan
            cases.append(case)
    st = StyleTransfer(options)
    result = {"command": " ".join(["python", "benchmarks/bench_video.py", *sys.argv[1:]]), "cpu": platform_cpu(),
              "precision": st.evaluation_precision(), "threads": torch.get_num_threads(),
              "date": datetime.date.today().isoformat(), "load_average": os.getloadavg(), "preset": args.preset,
              "options": options.to_dict(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "cases": cases}
    text = table(cases)
    print(text)
    result["table"] = text
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".json.partial")  # written whole, then renamed: never half-written
    partial.write_text(json.dumps(result, indent=1))
    partial.replace(out)


if __name__ == "__main__":
    main()
