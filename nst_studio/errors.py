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

from nst_core.checks import InputError, number_text, shown

log = logging.getLogger("nst_studio")


def user_error(error: BaseException, doing: str) -> gr.Error:
    """A ``gr.Error`` with one sentence for ``error``, raised while ``doing`` (e.g. "stylizing")."""
    if isinstance(error, gr.Error):
        return error
    if isinstance(error, InputError):
        sentence = str(error).splitlines()[0]
        return gr.Error(sentence if sentence.endswith((".", "?", "!")) else sentence + ".", print_exception=False)
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


CONTROLS = (gr.Slider, gr.Number, gr.Dropdown, gr.Radio, gr.Checkbox)
PAYLOADS = {"image": "an image file (an upload, or a URL), as gradio_client's handle_file sends it",
            "video": "a video file (an upload, or a URL), as gradio_client's handle_file sends it",
            "file": "a file (an upload, or a URL), as gradio_client's handle_file sends it",
            "imageeditor": 'the editor\'s value {"background": …, "layers": [image files], "composite": …}',
            "dataframe": 'a table {"headers": [...], "data": [[...], ...]}'}


def guard_inputs(blocks: gr.Blocks) -> None:
    """Make every input component's own check (a slider's range, a dropdown's choices, a number's type, a file's
    payload) answer with a sentence that names the control, its allowed values and the value received, instead of
    Gradio's nameless message. A raw API call bypasses the widgets, so this is where such values enter (files:
    ``file_inputs``). The checks are the component classes' own, so that they also hold for the copies of a
    component that Gradio keeps per browser session once a handler has updated it."""
    guard_controls()
    if not getattr(gr.Blocks.validate_inputs, "named", False):
        gr.Blocks.validate_inputs = named_input_count(gr.Blocks.validate_inputs)
    for cls in {type(block) for block in blocks.blocks.values()}:
        model = inspect.getattr_static(cls, "data_model", None)
        if model is not None and not isinstance(model, _NamedModels):  # images, files, tables
            cls.data_model = _NamedModels(model)


def guard_controls() -> None:
    """The controls' and images' named checks of ``guard_inputs`` (once per process)."""
    for cls in CONTROLS:
        if not getattr(cls.preprocess, "named", False):
            cls.preprocess = _named_preprocess(cls.preprocess)
    for cls in (gr.Image, gr.ImageEditor):
        if not getattr(cls.preprocess, "named", False):
            cls.preprocess = named_image_check(cls.preprocess)


def named_input_count(validate):
    """Gradio's check that a call gave every input of its endpoint (a raw HTTP call may leave some out), whose
    refusal names the inputs in order, instead of a ValueError the caller never sees."""
    def validated(self, block_fn, inputs):  # self: the Blocks
        if len(inputs) < len(block_fn.inputs):
            endpoint = f"/{block_fn.api_name}" if block_fn.api_name else "this event"
            try:  # the handler's parameters name its inputs, in order
                names = [p for p in inspect.signature(block_fn.fn).parameters if p not in ("request", "progress")]
            except (TypeError, ValueError):
                names = []
            if len(names) < len(block_fn.inputs):
                names = [label_of(b, type(b).__name__) for b in block_fn.inputs]
            sent = [name for name, b in zip(names, block_fn.inputs) if not b.stateful]  # a gr.State is the page's
            got = len(inputs) if len(inputs) <= len(sent) else len(inputs) - (len(block_fn.inputs) - len(sent))
            raise bad_input(f"{endpoint} takes {len(sent)} input{'s' * (len(sent) != 1)}, in this order: "
                            f"{', '.join(sent)}; got {got}. Send them all (the page's 'Use via API' lists "
                            "them).")
        return validate(self, block_fn, inputs)
    validated.named = True
    return validated


def label_of(block, default: str = "an input") -> str:
    """What the user calls an input: its label, else its element id."""
    return getattr(block, "label", None) or getattr(block, "elem_id", None) or default


def named_image_check(preprocess):
    """An image component's ``preprocess`` (Gradio opens the upload with Pillow) whose failure is one sentence
    naming the input and the file."""
    def checked(self, payload):  # self: the image component
        try:
            return preprocess(self, payload)
        except gr.Error:
            raise
        except Image.DecompressionBombError:
            raise bad_input(f"{label_of(self)}: the image has more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels; "
                            "resize it first.") from None
        except Exception:
            name = os.path.basename(str(getattr(payload, "orig_name", None) or "the upload"))[:60]
            raise bad_input(f"{label_of(self)}: {name} is not an image file Pillow can read; give a PNG, JPEG, "
                            "WebP, GIF, BMP or TIFF.") from None
    checked.named = True
    return checked


class _NamedModels:
    """A component class's ``data_model``, whose payload check on an instance names the instance (``_NamedModel``)."""

    def __init__(self, model):
        self.model = model

    def __get__(self, block, owner):
        model = self.model.__get__(block, owner) if hasattr(self.model, "__get__") else self.model
        return model if block is None or model is None else _NamedModel(model, block)


class _NamedModel:
    """A component's payload model whose validation failure names the component and what to send, instead of
    listing pydantic's internals (a table sent as a bare string, an image sent as a number)."""

    def __init__(self, model, block):
        self._model, self._block = model, block

    def model_validate(self, obj, **kwargs):
        try:
            return self._model.model_validate(obj, **kwargs)
        except Exception:
            got = (f"an object with the keys {', '.join(map(str, list(obj)[:4]))}" if isinstance(obj, dict) else
                   f"a list of {len(obj)} items" if isinstance(obj, list) and "{" in repr(obj)  # may hold paths
                   else shown(obj))
            wanted = PAYLOADS.get(type(self._block).__name__.lower(), "the value the API describes")
            raise bad_input(f"{label_of(self._block)} must be {wanted}; got {got}.") from None

    def __getattr__(self, name):
        return getattr(self._model, name)


def whole(block) -> bool:
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
    if whole(block):
        lo, hi = (None if v is None else int(v) for v in (lo, hi))
    kind = "a whole number" if whole(block) else "a number"
    if lo is not None and hi is not None:
        return f"{kind} from {number_text(lo)} to {number_text(hi)}"
    if lo is not None:
        return f"{kind} of at least {number_text(lo)}"
    return kind


def _named_preprocess(preprocess):
    """A control class's ``preprocess`` whose refusal names the control, what it takes and the value received."""
    def checked(self, payload):  # self: the control
        message = f"{label_of(self, 'a setting')} must be {_allowed(self)}; got {shown(payload)}."
        if isinstance(self, gr.Checkbox):
            if not isinstance(payload, bool):
                raise bad_input(message)
            return payload
        if isinstance(self, (gr.Slider, gr.Number)):
            if isinstance(payload, bool) or not isinstance(payload, (int, float)) or payload != payload \
                    or payload in (float("inf"), float("-inf")):
                raise bad_input(message)
            if whole(self) and payload != int(payload):  # Gradio would silently round 1.5 to 2
                raise bad_input(message)
        try:
            return preprocess(self, payload)
        except Exception:
            raise bad_input(message) from None
    checked.named = True
    return checked
