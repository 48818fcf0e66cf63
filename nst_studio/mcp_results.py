"""MCP tool results: one content item per thing a tool shows (an image, a text), never the page's bookkeeping.

Gradio's MCP server runs a queued endpoint through its own client, which answers an endpoint with several outputs
with one tuple. The server takes that tuple for a single output: the agent got its Python text (server paths,
``{'__type__': 'update'}`` markers, a plot's base64), and a tool with a ``gr.State`` output failed outright ("pop
index out of range"). ``tidy_mcp_results`` makes the server

- take the tuple as one value per output, less the page's own outputs (``PAGE_ONLY``: a ``gr.State``, the
  before/after slider of images the tool already gives);
- leave out what a handler did not change (``gr.skip()``, an update without a value) and empty outputs;
- give an update's value, a plot as its image, a gallery as its images and captions, a table as Markdown, data as
  JSON, and a number with its label;
- give a file once, though a later output gives it again (the result as the PNG to download).
"""
from __future__ import annotations

import json

from gradio import ImageSlider, Number, State
from gradio.mcp import GradioMCPServer

PAGE_ONLY = (State, ImageSlider)


def one_per_output(results: list) -> list:
    """The loopback client's answer, [value] or [(value, ...)], as one value per output."""
    (result,) = results
    return list(result) if isinstance(result, tuple) else [result]


def shown_outputs(components, data: list) -> list:
    """``data`` less the values of ``PAGE_ONLY`` outputs; a number with its label ("Page: 4", not "4")."""
    return [f"{component.label}: {value}" if isinstance(component, Number) and isinstance(value, (int, float))
            and component.label else value
            for component, value in zip(components, data) if not isinstance(component, PAGE_ONLY)]


def is_file(value) -> bool:
    """A file payload as Gradio sends it: {"path": ..., "meta": {...}, ...}."""
    return isinstance(value, dict) and "path" in value and "meta" in value


def markdown_table(table: dict) -> str:
    """A Dataframe's value ({"headers": [...], "data": [[...], ...]}) as a Markdown table."""
    rows = [table["headers"], ["---"] * len(table["headers"]), *table["data"]]
    return "\n".join("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)


def items_of(value) -> list:
    """What an output shows, as a list of files, data: URL images and texts (an empty list: nothing)."""
    if value is None or value == "" or value == []:
        return []
    if is_file(value):
        return [value]
    if isinstance(value, dict) and "update" in value.get("__type__", ""):
        return items_of(value["value"]) if "value" in value else []
    if isinstance(value, dict) and isinstance(value.get("plot"), str) and value["plot"].startswith("data:image/"):
        return [value["plot"]]
    if isinstance(value, dict) and "image" in value and "caption" in value:  # a gallery's item
        return [value["image"], *([value["caption"]] if value["caption"] else [])]
    if isinstance(value, dict) and {"headers", "data"} <= value.keys():
        return [markdown_table(value)]
    if isinstance(value, (list, tuple)) and value and all(is_file(v) or isinstance(v, dict) and "image" in v
                                                          for v in value):
        return [item for v in value for item in items_of(v)]
    if isinstance(value, (list, tuple, dict)):  # data (gr.JSON): as JSON
        return [json.dumps(value, ensure_ascii=False)]
    return [value]


def tidy_mcp_results() -> None:
    """Give MCP tools their outputs as ``one_per_output``, ``shown_outputs`` and ``items_of``, each file once (once
    per process)."""
    if getattr(GradioMCPServer.postprocess_output_data, "tidy", False):
        return
    execute, postprocess = GradioMCPServer._execute_tool_without_progress, GradioMCPServer.postprocess_output_data

    async def execute_per_output(self, job) -> list:
        return one_per_output(await execute(self, job))

    def postprocess_items(self, data, root_url: str) -> list:
        content, files = [], set()
        for value in data:
            if is_file(value):
                if value["path"] in files:  # the result again, as the file to download
                    continue
                files.add(value["path"])
            content.extend(contents(self, items_of(value), root_url))
        return content

    def contents(self, items: list, root_url: str) -> list:
        content = []
        for item in items:
            if isinstance(item, str) and item.startswith("data:image/"):  # a plot: the image itself
                kind, encoded = item[len("data:"):].split(";base64,", 1)
                content.append(self.types.ImageContent(type="image", data=encoded, mimeType=kind))
            else:
                content.extend(postprocess(self, [item], root_url))
        return content

    postprocess_items.tidy = True
    GradioMCPServer._execute_tool_without_progress = execute_per_output
    GradioMCPServer.pop_returned_state = staticmethod(shown_outputs)
    GradioMCPServer.postprocess_output_data = postprocess_items
