"""A setting is a dataclass field with its help text: the CLI's flag help, the app's info line and the API's docs
read it from here."""
from __future__ import annotations

from dataclasses import field


def setting(help: str, **kw):
    """A dataclass field carrying ``help`` in its metadata (``default=`` or ``default_factory=`` in ``kw``)."""
    return field(metadata={"help": help}, **kw)
