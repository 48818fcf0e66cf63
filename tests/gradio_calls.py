"""Calling the app's handlers directly, as Gradio would: a session's request, and the error a generator raises."""
import gradio as gr
import pytest


def request(name: str) -> gr.Request:
    """The request of browser session ``name`` (its session hash keys the session's jobs)."""
    return gr.Request(session_hash=name)


def first_error(gen) -> str:
    """The message of the ``gr.Error`` a handler's generator raises before its first item."""
    with pytest.raises(gr.Error) as info:
        next(gen)
    return info.value.message
