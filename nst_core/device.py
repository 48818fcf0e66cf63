"""Where VGG19 runs and in what precision: the one resolver the run, its plan, the calibration and the explorer use.

``precision="auto"`` resolves to bf16 on a CPU with native bf16 instructions (AVX512-BF16 or AMX: measured faster,
benchmarks/bench_stylize.py), else fp32; on CUDA to bf16 where the GPU has it, else fp16; on MPS to fp32. Only the
convolutions run in the resolved precision: the costs stay float32.
"""
from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("auto", "fp32", "bf16")  # what a user may ask for
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}  # what a run resolves to


def pick_device(name: str = "auto") -> torch.device:
    """'auto' -> CUDA if available, then MPS, then CPU."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def platform_cpu() -> str:
    """This machine's CPU model name (the calibration's key)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "cpu")
    except OSError:
        return "cpu"


def cpu_supports_bf16() -> bool:
    """True when this CPU has native bf16 matrix instructions (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(device: torch.device, precision: str) -> str:
    """The precision the convolutions run in on ``device`` when ``precision`` is asked for: "fp32", "bf16" or
    "fp16"."""
    if precision == "fp32" or device.type == "mps":
        return "fp32"
    if device.type == "cpu":
        return "bf16" if precision == "bf16" or cpu_supports_bf16() else "fp32"
    return "bf16" if precision == "bf16" or torch.cuda.is_bf16_supported() else "fp16"


def autocast_for(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The convolutions' precision context: autocast to the resolved low precision, or nothing for fp32."""
    resolved = resolve_precision(device, precision)
    if resolved == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[resolved])
