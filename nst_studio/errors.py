"""The one place where a failure becomes a sentence for the user.

Expected bad input (``InputError`` and its kinds, or a ``gr.Error`` raised on purpose) is shown as it is and not
logged as a traceback. Anything else is logged with its traceback on the server, and the user reads what happened
and what to try, never the exception's own text.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable

import gradio as gr
from PIL import Image

from nst_core.checks import InputError, shown

log = logging.getLogger("nst_studio")


def user_error(error: BaseException, doing: str) -> gr.Error:
    """A ``gr.Error`` with one sentence for ``error``, raised while ``doing`` (e.g. "stylizing")."""
    if isinstance(error, gr.Error):
        return error
    if isinstance(error, InputError):
        return gr.Error(str(error).splitlines()[0], print_exception=False)
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        log.error("out of memory while %s", doing, exc_info=error)
        return gr.Error(f"The server ran out of memory while {doing}. Try a smaller size or fewer images.",
                        print_exception=False)
    log.error("unexpected failure while %s", doing, exc_info=error)
    return gr.Error(f"Something went wrong while {doing}; it has been logged on the server. "
                    "Try again, or with a smaller size or other images.", print_exception=False)


def bad_input(message: str) -> gr.Error:
    """A ``gr.Error`` for input the user can fix: shown as it is, no traceback in the server log."""
    return gr.Error(message, print_exception=False)


def explained(doing: str) -> Callable[[Callable], Callable]:
    """Decorate an event handler (function or generator) so that any failure reaches the user via ``user_error``.

    The signature is kept (``functools.wraps``), so Gradio still injects ``gr.Request``, ``gr.Progress`` and event data.
    """
    def decorate(fn: Callable) -> Callable:
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                try:
                    yield from fn(*args, **kwargs)
                except Exception as e:
                    raise user_error(e, doing) from None
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as e:
                raise user_error(e, doing) from None
        return wrapper
    return decorate


def guard_inputs(blocks: gr.Blocks) -> None:
    """Make every input component's own check (a slider's range, a dropdown's choices, a number's type) answer with
    a sentence that names the control, its allowed values and the value received, instead of Gradio's nameless
    message. A raw API call bypasses the widgets, so this is where such values enter (files: ``file_inputs``)."""
    for block in blocks.blocks.values():
        if isinstance(block, (gr.Slider, gr.Number, gr.Dropdown, gr.Radio, gr.Checkbox)):
            block.preprocess = _named_preprocess(block)
        elif getattr(block, "data_model", None) is not None:  # images, files, tables: Gradio checks their shape first
            block.data_model = _NamedModel(block)
            if isinstance(block, gr.Image) and not getattr(block.preprocess, "named", False):
                block.preprocess = named_image_check(block)


def label_of(block, default: str = "an input") -> str:
    """What the user calls an input: its label, else its element id."""
    return block.label or block.elem_id or default


def named_image_check(block):
    """An image component's ``preprocess`` (Gradio opens the upload with Pillow) whose failure is one sentence
    naming the input and the file."""
    preprocess = block.preprocess

    def checked(payload):
        try:
            return preprocess(payload)
        except gr.Error:
            raise
        except Image.DecompressionBombError:
            raise bad_input(f"{label_of(block)}: the image is too large.") from None
        except Exception:
            name = os.path.basename(str(getattr(payload, "orig_name", None) or "the upload"))[:60]
            raise bad_input(f"{label_of(block)}: {name} is not an image file Pillow can read.") from None
    checked.named = True
    return checked


class _NamedModel:
    """A component's payload model whose validation failure names the component instead of listing pydantic's
    internals (a table sent as a bare string, an image sent as a number)."""

    def __init__(self, block):
        self._model, self._label = block.data_model, block.label or block.elem_id or "an input"
        self._kind = type(block).__name__.lower()

    def model_validate(self, obj, **kwargs):
        try:
            return self._model.model_validate(obj, **kwargs)
        except Exception:
            raise bad_input(f"{self._label} must be a {self._kind} value as the API describes it; got {shown(obj)}.") \
                from None

    def __getattr__(self, name):
        return getattr(self._model, name)


def _whole(block) -> bool:
    """A control that only takes whole numbers: a Number with precision 0, a Slider with whole steps."""
    if isinstance(block, gr.Slider):
        return float(block.step).is_integer() and float(block.minimum).is_integer()
    return isinstance(block, gr.Number) and block.precision == 0


def _allowed(block) -> str:
    if isinstance(block, (gr.Dropdown, gr.Radio)):
        values = [str(v) for _, v in block.choices]
        return "one of " + (", ".join(values) if len(values) <= 8 else f"{', '.join(values[:3])} … {values[-1]}")
    if isinstance(block, gr.Checkbox):
        return "true or false"
    lo, hi = getattr(block, "minimum", None), getattr(block, "maximum", None)
    kind = "a whole number" if _whole(block) else "a number"
    if lo is not None and hi is not None:
        return f"{kind} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{kind} of at least {lo:g}"
    return kind


def _named_preprocess(block):
    preprocess = block.preprocess
    label = block.label or block.elem_id or "a setting"

    def checked(payload):
        message = f"{label} must be {_allowed(block)}; got {shown(payload)}."
        if isinstance(block, gr.Checkbox):
            if not isinstance(payload, bool):
                raise bad_input(message)
            return payload
        if isinstance(block, (gr.Slider, gr.Number)):
            if isinstance(payload, bool) or not isinstance(payload, (int, float)) or payload != payload \
                    or payload in (float("inf"), float("-inf")):
                raise bad_input(message)
            if _whole(block) and payload != int(payload):  # Gradio would silently round 1.5 to 2
                raise bad_input(message)
        try:
            return preprocess(payload)
        except Exception:
            raise bad_input(message) from None
    return checked
