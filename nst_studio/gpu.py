"""ZeroGPU: on a Hugging Face Space with the ``spaces`` package, heavy handlers run under ``spaces.GPU``; elsewhere
``on_gpu`` leaves them unchanged."""
from __future__ import annotations

from collections.abc import Callable

from .jobs import JOB_BUDGET_S

try:  # only a Space has the package; where it is absent the app runs on what the machine has
    import spaces
except ImportError:
    spaces = None

# Seconds of GPU a heavy call asks for: the job budget (past it a job stops and returns its best result) plus
# a margin for loading the weights and writing the PNG.
GPU_SECONDS = int(JOB_BUDGET_S) + 30


def on_gpu(handler: Callable) -> Callable:
    """``spaces.GPU(duration=GPU_SECONDS)(handler)`` where ``spaces`` is installed, else ``handler`` itself."""
    return handler if spaces is None else spaces.GPU(duration=GPU_SECONDS)(handler)
