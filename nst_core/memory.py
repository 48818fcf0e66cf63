"""The memory budget every job checks its estimated peak against, and the parser of sizes such as ``4G``.

The budget is ``--max-memory`` / an explicit value where one is given, else ``NST_MAX_MEMORY``, else
``BUDGET_SHARE`` of the memory available on this machine now (``MemAvailable`` in ``/proc/meminfo``).
"""
from __future__ import annotations

import os
import re

from .checks import InputError, shown

BUDGET_SHARE = 0.6  # of the memory available now, when no budget is set
UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
MIN_BUDGET, MAX_BUDGET = 2**26, 2**50  # 64 MiB .. 1 PiB
SIZE_SAID = "a size such as 4G, 1500M or 2.5GB"
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)


def parse_size(name: str, text) -> int:
    """``'4G'``, ``'1500M'``, ``'2.5GB'``, ``'512MiB'`` or a plain number of bytes -> bytes (int, powers of 1024).

    Anything else, or a size outside [64 MiB, 1 PiB], raises ``InputError`` naming ``name``."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise InputError(f"{name} must be {SIZE_SAID}; got {shown(text)}.")
    match = _SIZE.fullmatch(str(text)) if len(str(text)) <= 40 else None
    if match is None:
        raise InputError(f"{name} must be {SIZE_SAID}; got {shown(text)}.")
    number = float(match.group(1)) * UNITS[match.group(2).lower()]
    if not MIN_BUDGET <= number <= MAX_BUDGET:
        raise InputError(f"{name} must be from 64M to 1P; got {shown(text)}.")
    return int(number)


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (MemAvailable), or the physical total if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_budget(explicit=None) -> int:
    """Bytes a job may use at its peak: ``explicit`` (a size text or bytes), else ``NST_MAX_MEMORY``, else
    ``BUDGET_SHARE`` of the available memory."""
    if explicit not in (None, ""):
        return parse_size("the memory budget", explicit)
    env = os.environ.get("NST_MAX_MEMORY", "").strip()
    if env:
        return parse_size("NST_MAX_MEMORY", env)
    return int(BUDGET_SHARE * available_memory())


def gigabytes(n_bytes: float) -> str:
    """Bytes as a short text for a message: ``'1.6 GB'``."""
    return f"{n_bytes / 1e9:.1f} GB"
