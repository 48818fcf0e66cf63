"""Settings declared once: a settings family is a dataclass whose fields say, with ``setting``, their help, their
range or choices, the name a user calls them by and the widget that shows them. From that one declaration come:

- ``check``: the validation of every field (one sentence naming the field, what it must be and the value received),
  converting values that arrive as text or floats (a raw API call, a PNG's stored settings) to the field's type;
- ``add_flags``: the command line's flags, with their help, defaults and choices;
- the app's controls (``nst_studio/controls.py``) and the API's parameter docs, read with ``spec``.

Adding a setting is one ``setting(...)`` line in its family's dataclass. Cross-field rules (e.g. "alpha and beta
can't both be 0") stay in the family's ``validate``, after ``check``.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field

from .checks import InputError, one_of, real_number, shown, whole_number


@dataclass(frozen=True)
class Spec:
    """What a field declares besides its default: help, allowed values, the user's name for it, its widget."""

    help: str
    range: tuple[float | None, float | None] | None = None  # inclusive ends of a number
    choices: tuple[str, ...] | None = None  # the texts allowed
    label: str | None = None  # as a message or a control names it (default: the field's name with spaces)
    widget: str | None = None  # the app's control: "slider", "number", "radio", "dropdown", "checkbox", "text"
    flag: str | None = None  # the command line's flag (default: --field-name)
    said: str | None = None  # how a message describes the choices, where listing them all would be too long


def setting(help: str, *, range=None, choices=None, label=None, widget=None, flag=None, said=None, **kw):
    """A dataclass field declaring its ``Spec`` (``default=`` or ``default_factory=`` in ``kw``)."""
    spec = Spec(help, range, tuple(choices) if choices is not None else None, label, widget, flag, said)
    return field(metadata={"help": help, "spec": spec}, **kw)


def spec(cls, name: str) -> Spec:
    """The ``Spec`` of field ``name`` of the settings dataclass ``cls``."""
    return next(f.metadata["spec"] for f in dataclasses.fields(cls) if f.name == name)


def label(f: dataclasses.Field) -> str:
    return f.metadata["spec"].label or f.name.replace("_", " ")


def default_of(f: dataclasses.Field):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def check(settings) -> dict:
    """Every declared field of the dataclass instance ``settings``, checked against its ``Spec`` and converted to
    the type of its default: {name: value}. ``InputError`` names the first bad one."""
    values = {}
    for f in dataclasses.fields(settings):
        s, value, kind = f.metadata.get("spec"), getattr(settings, f.name), type(default_of(f))
        if s is None:
            values[f.name] = value
        elif kind is bool:
            if not isinstance(value, bool):
                raise InputError(f"{label(f)} must be true or false; got {shown(value)}.")
            values[f.name] = value
        elif s.choices is not None:
            values[f.name] = one_of(label(f), value, s.choices, s.said)
        elif kind is int:
            values[f.name] = whole_number(label(f), value, *(s.range or (None, None)))
        elif kind is float:
            values[f.name] = real_number(label(f), value, *(s.range or (None, None)))
        else:
            values[f.name] = value
    return values


def add_flags(parser: argparse.ArgumentParser, cls, *, skip: tuple[str, ...] = (), suppress: bool = False) -> None:
    """A flag for each declared field of ``cls`` not in ``skip``: ``--learning-rate`` for ``learning_rate`` (or the
    field's ``flag``), its help with the default, its choices; a setting that is on by default gets ``--no-NAME``.
    With ``suppress`` a flag left out sets nothing (so defaults can come from elsewhere, e.g. a PNG)."""
    for f in dataclasses.fields(cls):
        s = f.metadata.get("spec")
        if s is None or f.name in skip:
            continue
        default = default_of(f)
        flag = s.flag or "--" + f.name.replace("_", "-")
        kw = {"dest": f.name, "default": argparse.SUPPRESS if suppress else default}
        if isinstance(default, bool) and default:
            parser.add_argument(f"--no-{f.name.replace('_', '-')}", action="store_false",
                                help=f"leave out the {s.help}", **kw)
        elif isinstance(default, bool):
            parser.add_argument(flag, action="store_true", help=s.help, **kw)
        else:
            parser.add_argument(flag, type=type(default) if s.choices is None else str, choices=s.choices,
                                help=f"{s.help} (default: {default})", **kw)
