"""Checks of user-given values, shared by every entry point (CLI, app, HTTP API, settings stored in a PNG).

Each check takes the setting's name as the user sees it and raises ``InputError`` with one sentence that names the
setting, its allowed range and the value received. Values may arrive as text, floats or huge integers from a raw
API call; the checks accept any of them and return a clean ``int`` / ``float``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


class InputError(ValueError):
    """Input a user can fix. The message is one sentence, fit to show as it is (no paths, no class names)."""


def shown(value: Any, limit: int = 40) -> str:
    """``value`` as a short repr for a message (long ones cut with an ellipsis)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def number_text(x) -> str:
    """A limit as every message writes it: a whole number (int) in digits, with thousands separators from 10,000 on
    (4096, 1,000,000,000); a real one as %g (0.0001, 1e+12)."""
    if isinstance(x, int):
        return f"{x:,}" if abs(x) >= 10_000 else str(x)
    return f"{x:g}"


def _span(lo, hi) -> str:
    if hi is None:
        return f"at least {number_text(lo)}"
    return f"from {number_text(lo)} to {number_text(hi)}"


def real_number(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a finite float in [lo, hi] (either end may be None), else ``InputError`` naming ``name``."""
    wanted = f"a number {_span(lo, hi)}" if lo is not None else "a number"
    if hi is not None and lo is None:
        wanted = f"a number up to {number_text(hi)}"
    if isinstance(value, bool):
        raise InputError(f"{name} must be {wanted}; got {shown(value)}.")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be {wanted}; got {shown(value)}.") from None
    if not math.isfinite(number) or (lo is not None and number < lo) or (hi is not None and number > hi):
        raise InputError(f"{name} must be {wanted}; got {shown(value)}.")
    return number


def whole_number(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int in [lo, hi]; 3.0 and "3" pass, 3.5, inf, nan and 10**30 (beyond ``hi``) do not."""
    wanted = f"a whole number {_span(lo, hi)}" if lo is not None else "a whole number"
    if isinstance(value, bool):
        raise InputError(f"{name} must be {wanted}; got {shown(value)}.")
    if isinstance(value, int):
        number = value
    else:
        try:
            text = value.strip() if isinstance(value, str) else value
            number = int(text) if isinstance(text, str) and text.lstrip("+-").isdigit() else float(text)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"{name} must be {wanted}; got {shown(value)}.") from None
        if isinstance(number, float):
            if not math.isfinite(number) or number != int(number):
                raise InputError(f"{name} must be {wanted}; got {shown(value)}.")
            number = int(number)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise InputError(f"{name} must be {wanted}; got {shown(value)}.")
    return number


def one_of(name: str, value: Any, choices: Iterable[str], described: str | None = None) -> str:
    """``value`` if it is one of ``choices``, else ``InputError`` listing them (or saying ``described``)."""
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        listed = described or "one of " + ", ".join(choices)
        raise InputError(f"{name} must be {listed}; got {shown(value)}.")
    return value
