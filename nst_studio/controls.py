"""The app's controls made from the settings' declarations (``nst_core.schema``), and handlers that take their
inputs by name.

``control(Settings, "size")`` is the widget of one setting: its label, its help as the info line, its range or
choices, its default. ``by_name(fn, components)`` lists the components in the order of ``fn``'s parameters, so a
handler's inputs follow its signature and a control added anywhere cannot shift the others.
"""
from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping

import gradio as gr

from nst_core.schema import default_of


def widget_of(f: dataclasses.Field) -> str:
    """The declared widget, else the natural one: a checkbox for a flag, a radio for up to 4 choices and a dropdown
    for more, a slider for a number with both ends, a number box for one without, text for the rest."""
    s, default = f.metadata["spec"], default_of(f)
    if s.widget:
        return s.widget
    if isinstance(default, bool):
        return "checkbox"
    if s.choices is not None:
        return "radio" if len(s.choices) <= 4 else "dropdown"
    if isinstance(default, (int, float)):
        return "slider" if s.range and None not in s.range else "number"
    return "text"


def control(cls, name: str, **kw) -> gr.components.Component:
    """The control of setting ``name`` of settings dataclass ``cls``; ``kw`` overrides what the declaration gives
    (``value``, ``label``, ``minimum``/``maximum`` of a slider narrower than the core allows, ``elem_id`` …)."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    s, default = f.metadata["spec"], default_of(f)
    common = {"label": s.label or name.replace("_", " ").capitalize(), "info": s.help, "value": default, **kw}
    widget = widget_of(f)
    if widget == "checkbox":
        return gr.Checkbox(**common)
    if widget in ("radio", "dropdown"):
        return (gr.Radio if widget == "radio" else gr.Dropdown)(choices=list(s.choices), **common)
    whole = isinstance(default, int)
    if widget == "slider":
        lo, hi = s.range
        return gr.Slider(**{"minimum": lo, "maximum": hi, "step": 1 if whole else None, **common})
    if widget == "number":
        lo, hi = s.range or (None, None)
        return gr.Number(**{"minimum": lo, "maximum": hi, "precision": 0 if whole else None, **common})
    return gr.Textbox(**common)


def arguments_doc(fn: Callable, helps: Mapping[str, str]) -> str:
    """An ``Args:`` section for ``fn``'s docstring, one line per parameter found in ``helps``: the lines Gradio reads
    as the HTTP API's and the MCP tool's parameter descriptions."""
    lines = [f"    {p}: {' '.join(helps[p].split())}" for p in inspect.signature(fn).parameters if p in helps]
    return "\n\nArgs:\n" + "\n".join(lines) + "\n"


def by_name(fn: Callable, components: Mapping[str, gr.components.Component]) -> list:
    """The components that fill ``fn``'s parameters, in the order of its signature (a parameter without a component,
    such as ``request``, is left to Gradio)."""
    return [components[p] for p in inspect.signature(fn).parameters if p in components]
