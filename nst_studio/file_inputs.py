"""How files enter the app, in one sentence each when refused: an image argument of an MCP tool (an http(s) URL
or a data: URL whose base64 decodes, never a local path or file:// URL), a file payload of an API call (a path
must be an upload of this app: Gradio's ``_check_allowed``), a URL (downloaded only from a public address: Gradio's SSRF-protected download
through safehttpx, which refuses private, loopback, link-local and reserved addresses).

Gradio raises these refusals with its own wording and logs them as tracebacks; ``guard_file_inputs`` wraps the two
Gradio functions where they arise so that the user reads a sentence naming the input and the server log stays
clean. Nothing here reads or fetches a file itself.
"""
from __future__ import annotations

import base64

import gradio as gr
from gradio import processing_utils
from gradio.mcp import GradioMCPServer

from nst_core.checks import InputError, shown

from .errors import bad_input, label_of
from .mcp_arguments import EACH

FETCHED = ("http://", "https://", "data:")


def guard_file_inputs() -> None:
    """Wrap Gradio's file moves and MCP argument conversion (once per process)."""
    if not getattr(processing_utils.async_move_files_to_cache, "named", False):
        processing_utils.async_move_files_to_cache = named_file_moves(processing_utils.async_move_files_to_cache)
    if not getattr(GradioMCPServer.convert_strings_to_filedata, "named", False):
        GradioMCPServer.convert_strings_to_filedata = named_mcp_files(GradioMCPServer.convert_strings_to_filedata)


def named_mcp_files(convert):
    """MCP's conversion of file arguments (URL strings) into file payloads; a local path or a file:// URL is
    refused naming the argument, before anything is read."""
    def converted(self, value, filedata_positions):
        positions = [path for position in filedata_positions for path in paths_in(value, position)]
        for position in positions:
            given = value
            for key in position:
                given = given.get(key) if isinstance(given, dict) else given[key]
            kind = "a video clip" if position[0] == "video" else "an image"
            if isinstance(given, str) and not given.startswith(FETCHED):
                raise InputError(f"{position[0]} must be an http(s) address of {kind} or a data: URL; local paths "
                                 f"and file:// URLs are not read (got {shown(given)}).")
            if isinstance(given, str) and given.startswith("data:") and not base64_decodes(given):
                raise InputError(f"{position[0]} is a data: URL whose base64 data is broken (got {shown(given)}); "
                                 "send the file's bytes base64-encoded, as in data:image/png;base64,iVBORw0KGgo….")
        return convert(self, value, positions)
    converted.named = True
    return converted


def paths_in(value, position: list, done: tuple = ()) -> list[list]:
    """The paths of ``position`` (``mcp_arguments.value_path``) that exist in ``value``: EACH stands for every
    index of the list found there."""
    if not position:
        return [list(done)]
    key, rest = position[0], position[1:]
    if key == EACH:
        return [p for i, item in enumerate(value) for p in paths_in(item, rest, (*done, i))] if isinstance(
            value, list) else []
    if isinstance(value, dict) and key in value:
        return paths_in(value[key], rest, (*done, key))
    return []


def base64_decodes(data_url: str) -> bool:
    """Whether the data after the last comma of ``data_url`` (where Gradio reads it) is base64 of some bytes: only
    the 64 letters and its padding, white space aside (Gradio's decoder would drop other characters unsaid)."""
    data = "".join(data_url.rsplit(",", 1)[-1].split())
    try:
        return bool(base64.b64decode(data, validate=True))
    except ValueError:  # binascii.Error
        return False


def named_file_moves(move):
    """Gradio's move of an input's files into its cache (a path must be an upload: ``_check_allowed``; a URL is
    downloaded only from a public address: safehttpx), its refusals said as one sentence naming the input. Outputs
    (``postprocess``) are the app's own files: their failures stay server errors."""
    async def moved(data, block, postprocess=False, *args, **kwargs):
        if not postprocess:
            data = as_file_payloads(data)
        try:
            return await move(data, block, postprocess, *args, **kwargs)
        except gr.Error:
            raise
        except Exception as e:
            if postprocess:
                raise
            urls = [str(d.get("path")) for d in _file_dicts(data) if str(d.get("path")).startswith(("http:", "https:"))]
            if not urls:
                raise bad_input(f"{label_of(block)}: that file is not an upload; upload the image, or give a public "
                                "http(s) address of one.") from None
            if "failed validation" in str(e):  # safehttpx: a private, loopback, link-local or reserved address
                raise bad_input(f"{label_of(block)}: {shown(urls[0])} is a private or local network address, which "
                                "this server does not fetch; give a public http(s) address, or upload the file.") \
                    from None
            raise bad_input(f"{label_of(block)}: {shown(urls[0])} could not be fetched; check the address, or upload "
                            "the file.") from None
    moved.named = True
    return moved


def as_file_payloads(data):
    """Every dict with a ``path`` inside an input's data as Gradio's file payload (its ``meta`` set), so that Gradio's
    check that a path is an upload applies to it: a raw call's ``{"path": ...}`` without ``meta`` was passed on
    unchecked, and the component opened any file of the server."""
    if isinstance(data, dict):
        if "path" in data:
            return {**data, "meta": {"_type": "gradio.FileData"}}
        return {key: as_file_payloads(value) for key, value in data.items()}
    if isinstance(data, list):
        return [as_file_payloads(value) for value in data]
    return data


def _file_dicts(data) -> list[dict]:
    """The file payloads (dicts with a ``path``) anywhere inside an input's data."""
    if isinstance(data, dict):
        return [data] if "path" in data else [d for v in data.values() for d in _file_dicts(v)]
    if isinstance(data, (list, tuple)):
        return [d for v in data for d in _file_dicts(v)]
    return []
