"""One measured run of one peer in its own process, so load time and peak resident memory are its own.

    python benchmarks/peer_run.py PEER --content c.png --style s.png --out run.json [options]

PEER: ``pastiche`` (PasticheArtist, ``--steps`` draws), ``nst_core`` (StyleTransfer.iter_stylize with
``--options`` JSON), ``preset`` (an app preset, ``--preset``, end to end, weights load included),
``floor`` (the bare convolutions of one evaluation), ``pastiche_load`` / ``nst_core_load`` (weights load only). Writes a JSON report; final pictures go next to it
as ``.npy`` (RGB uint8) and ``_raw.npy`` (the optimiser's unclamped RGB [0, 1] image), nst_core's unclamped
image at each preview step of the final size as ``<out stem>_step<N>.npy``.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def caffe_to_rgb01(x: torch.Tensor) -> torch.Tensor:
    """pastiche's image (BGR, 0-255 minus the mean pixel) -> nst_core's RGB [0, 1], unclamped."""
    mean = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    return ((x.detach().cpu() + mean) / 255.0).flip(1)


def caffe_to_uint8(x: torch.Tensor) -> np.ndarray:
    """pastiche's image -> the RGB uint8 picture its ``save_image`` writes (rounded, clamped)."""
    rgb255 = caffe_to_rgb01(x)[0].permute(1, 2, 0) * 255.0
    return rgb255.round().clamp(0, 255).to(torch.uint8).numpy()


def run_pastiche(args) -> dict:
    from pastiche.pastiche import PasticheArtist

    start = time.perf_counter()
    artist = PasticheArtist(args.content, [args.style], size=args.size, device="cpu")
    setup = time.perf_counter() - start
    step_seconds, losses = [], []
    for _ in range(args.steps):
        t = time.perf_counter()
        artist.draw()
        step_seconds.append(time.perf_counter() - t)
        losses.append(artist.loss)  # the loss where this step started
    rss = peak_rss_mb()
    out = Path(args.out)
    np.save(out.with_suffix(".npy"), caffe_to_uint8(artist.pastiche))
    np.save(out.with_name(out.stem + "_raw.npy"), caffe_to_rgb01(artist.pastiche).numpy())
    return {"setup_seconds": setup, "step_seconds": step_seconds, "loss": losses, "peak_rss_mb": rss,
            "own_final_loss": float(artist._calc_loss().detach())}


def run_nst_core(args) -> dict:
    from nst_core.images import load_image
    from nst_core.options import StyleOptions
    from nst_core.stylize import StyleTransfer

    class WatchedTransfer(StyleTransfer):
        """Keeps a handle on G, the unclamped image being optimised (the optimiser updates it in place)."""

        G: torch.Tensor | None = None

        def costs(self, G, *rest):
            self.G = G
            return super().costs(G, *rest)

    content, style = load_image(args.content), load_image(args.style)
    start = time.perf_counter()
    transfer = WatchedTransfer(StyleOptions(**json.loads(args.options)))
    setup = time.perf_counter() - start
    out = Path(args.out)
    final_size = tuple(content.shape[:2]) if max(content.shape[:2]) == transfer.options.size else None
    elapsed, J, snapshots = [], [], []
    for p in transfer.iter_stylize(content, [style]):
        if p.done:
            np.save(out.with_suffix(".npy"), p.image)
            np.save(out.with_name(out.stem + "_raw.npy"), transfer.G.detach().cpu().numpy())
            break
        elapsed.append(p.elapsed)
        J.append(p.J)
        if p.image is not None and p.size == final_size:  # the unclamped G after this step, as scored
            np.save(out.with_name(f"{out.stem}_step{p.step}.npy"), transfer.G.detach().cpu().numpy())
            snapshots.append([p.step, p.elapsed])
    rss = peak_rss_mb()
    stages = [steps for _, steps in transfer.options.schedule()]
    return {"setup_seconds": setup, "elapsed": elapsed, "J": J, "snapshots": snapshots, "peak_rss_mb": rss,
            "final_stage_steps": stages[-1], "total_seconds": p.elapsed}


def run_preset(args) -> dict:
    """An app preset end to end (weights load + stylize), with the objective J it reached (the app's own), the
    time its evaluations and forward passes took, and its cost in 512-px evaluation equivalents (reach_cost.py).
    ``--options`` overrides preset fields (``precision``, a schedule)."""
    from nst_core.images import load_image
    from nst_core.options import preset_options
    from reach_cost import CountingTransfer, Ledger

    content, style = load_image(args.content), load_image(args.style)
    start = time.perf_counter()
    transfer = CountingTransfer(preset_options(args.preset, **json.loads(args.options)))
    transfer.ledger = ledger = Ledger()
    for p in transfer.iter_stylize(content, [style]):
        pass
    seconds = time.perf_counter() - start
    np.save(Path(args.out).with_suffix(".npy"), p.image)
    network = ledger.eval_seconds + ledger.forward_seconds
    return {"seconds": seconds, "objective": p.J, "J_content": p.J_content, "J_style": p.J_style, "steps": p.step,
            "options": transfer.options.to_dict(), "peak_rss_mb": peak_rss_mb(),
            "evaluations": ledger.evaluations, "forwards": ledger.forwards, "equivalents": ledger.equivalents,
            "eval_seconds": ledger.eval_seconds, "forward_seconds": ledger.forward_seconds,
            "overhead_share": (seconds - network) / seconds,
            "overhead_share_evaluations_only": (seconds - ledger.eval_seconds) / seconds}


def run_floor(args) -> dict:
    """The floor of one evaluation at ``--size`` px: the bare convolutions of the layers it uses (conv1_1 to the
    deepest layer of nst_core's default J), forward and backward to the input (no weight gradients), in the
    fastest kernel torch has here (bf16 where the CPU has it and ``--options`` does not ask for fp32, else fp32),
    each layer in channels-last and in contiguous memory, the faster kept. Median of ``--steps`` repeats."""
    import statistics

    import torch.nn.functional as F

    from nst_core.options import StyleOptions
    from nst_core.stylize import StyleTransfer
    from nst_core.vgg import CONV_LAYERS, LAYER_INDEX

    options = StyleOptions(device="cpu", **json.loads(args.options))
    transfer = StyleTransfer(options)
    dtype = torch.bfloat16 if transfer.evaluation_precision() == "bf16" else torch.float32
    deepest = max(LAYER_INDEX[n] for n in [options.content_layer, *options.style_layers])
    convs = [(name, transfer.model.layers[LAYER_INDEX[name]]) for name in CONV_LAYERS if LAYER_INDEX[name] <= deepest]
    gen = torch.Generator().manual_seed(0)
    layers = {}
    for name, conv in convs:
        side = args.size // 2 ** (int(name[4]) - 1)
        best = float("inf")
        for memory_format in (torch.channels_last, torch.contiguous_format):
            w = conv.weight.detach().to(dtype).contiguous(memory_format=memory_format)
            b = conv.bias.detach().to(dtype)
            x = torch.randn(1, conv.in_channels, side, side, generator=gen).to(dtype)
            x = x.contiguous(memory_format=memory_format).requires_grad_(True)
            g = torch.randn(1, conv.out_channels, side, side, generator=gen).to(dtype)
            g = g.contiguous(memory_format=memory_format)
            runs = []
            for _ in range(args.steps + 1):  # the first: oneDNN picks its kernels
                t = time.perf_counter()
                F.conv2d(x, w, b, padding=1).backward(g)
                runs.append(time.perf_counter() - t)
                x.grad = None
            best = min(best, statistics.median(runs[1:]))
        layers[name] = best
    return {"floor_seconds": sum(layers.values()), "layers": layers, "dtype": str(dtype).removeprefix("torch."),
            "size": args.size}


def run_pastiche_load(args) -> dict:
    import os

    import pastiche.pastiche as pp
    from pastiche.vgg19 import VGG19

    path = os.path.join(os.path.dirname(pp.__file__), "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")
    start = time.perf_counter()
    VGG19.from_quantized_bin(path)
    return {"load_seconds": time.perf_counter() - start}


def run_nst_core_load(args) -> dict:
    from nst_core.options import StyleOptions
    from nst_core.stylize import StyleTransfer

    start = time.perf_counter()
    StyleTransfer(StyleOptions(device="cpu"))  # load_vgg19 + move to channels_last
    return {"load_seconds": time.perf_counter() - start}


PEERS = {"pastiche": run_pastiche, "nst_core": run_nst_core, "preset": run_preset, "floor": run_floor,
         "pastiche_load": run_pastiche_load, "nst_core_load": run_nst_core_load}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("--content", help="content PNG")
    parser.add_argument("--style", help="style PNG (same size as the content)")
    parser.add_argument("--size", type=int, default=512, help="pastiche: long edge")
    parser.add_argument("--steps", type=int, default=10, help="pastiche: number of draw() steps; floor: repeats")
    parser.add_argument("--options", default="{}", help="nst_core, preset, floor: StyleOptions fields as JSON")
    parser.add_argument("--preset", default="Quick", help="preset: the app preset's name")
    parser.add_argument("--threads", type=int, required=True, help="torch intra-op threads")
    parser.add_argument("--out", required=True, help="JSON report path")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]
    report = PEERS[args.peer](args)
    report["threads"] = torch.get_num_threads()
    Path(args.out).write_text(json.dumps(report))


if __name__ == "__main__":
    main()
