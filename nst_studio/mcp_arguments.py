"""MCP tool arguments that fail a tool's JSON schema (a text for a number, a missing argument, a value outside an
enum) answered in one sentence that names the argument, what it must be and the value received.

The ``mcp`` package checks arguments with ``jsonschema.validate`` before Gradio sees them and answers with the
validator's own message, which does not say which argument is wrong ("'big' is not of type 'integer'").
``name_mcp_arguments`` gives its low-level server a ``jsonschema`` whose ``validate`` says it, and gives each tool a
schema that stands on its own (``tidy_schema``): Gradio's schema of a file nested in an argument (the painted
regions, a list of uploads) pointed at definitions that are not there, so every call naming it failed.
"""
from __future__ import annotations

import jsonschema
from mcp.server.lowlevel import server as lowlevel

from gradio.mcp import GradioMCPServer

from nst_core.checks import number_text, shown

from .errors import whole

FILE_FORMAT = "Gradio File Input"  # how Gradio marks a file argument given as a URL string
EACH = "*"  # a file position's step into every item of a list
# what every tool with a file argument adds to its description (Gradio's names an upload tool this server lacks)
FILES_SAID = " Give each image or clip as an http(s) URL or a data: URL (data:image/png;base64,…)."

KINDS = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
         "array": "a list", "object": "an object"}


def sentence(error: jsonschema.ValidationError) -> str:
    """One sentence for ``error``: the argument, what it must be, the value received."""
    name = ".".join(str(p) for p in error.absolute_path) or "an argument"
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else "an argument"
        return f"{missing} is missing; give it a value."
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(KINDS.get(k, str(k)) for k in kinds)
        return f"{name} must be {wanted}; got {shown(error.instance)}."
    if error.validator in ("minimum", "maximum"):
        lo, hi = error.schema.get("minimum"), error.schema.get("maximum")
        span = f"from {number_text(lo)} to {number_text(hi)}" if None not in (lo, hi) else (
            f"at least {number_text(lo)}" if lo is not None else f"at most {number_text(hi)}")
        kind = "a whole number" if error.schema.get("type") == "integer" else "a number"
        return f"{name} must be {kind} {span}; got {shown(error.instance)}."
    if error.validator == "additionalProperties":
        extra = [key for key in error.instance if key not in error.schema.get("properties", {})]
        return (f"{', '.join(map(str, extra))} {'is not an argument' if len(extra) == 1 else 'are not arguments'} of "
                f"this tool; its arguments are {', '.join(error.schema.get('properties', {}))}.")
    if error.validator in ("anyOf", "oneOf"):
        kinds = [KINDS.get(option.get("type"), "nothing" if option.get("type") == "null" else "a value")
                 for option in error.validator_value]
        return f"{name} must be {' or '.join(dict.fromkeys(kinds))}; got {shown(error.instance)}."
    if error.validator == "enum":
        return f"{name} must be one of {', '.join(map(str, error.validator_value))}; got {shown(error.instance)}."
    return f"{name}: {error.message[:200]}."


class NamedSchema:
    """``jsonschema`` with a ``validate`` whose errors are ``sentence``s; everything else is jsonschema's own."""

    ValidationError = jsonschema.ValidationError

    def __getattr__(self, name):
        return getattr(jsonschema, name)

    @staticmethod
    def validate(instance, schema, *args, **kwargs) -> None:
        try:
            jsonschema.validate(instance, schema, *args, **kwargs)
        except jsonschema.ValidationError as e:
            raise jsonschema.ValidationError(sentence(e)) from None


def tidy_schema(node):
    """A copy of a tool's argument schema that stands on its own: a file is a URL string (no ``$ref`` to Gradio's
    FileData, no nested ``$defs``), a default is never a server file, and an enum of whole numbers is typed so."""
    if isinstance(node, list):
        return [tidy_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    tidy = {key: tidy_schema(value) for key, value in node.items() if key != "$defs"}
    if str(tidy.get("format", "")).startswith(FILE_FORMAT):
        for key in ("$ref", "required", "title", "additional_description"):
            tidy.pop(key, None)
    if isinstance(tidy.get("default"), dict) and "path" in tidy["default"]:
        del tidy["default"]
    if tidy.get("type") == "string" and tidy.get("enum") and all(type(v) is int for v in tidy["enum"]):
        tidy["type"] = "integer"
    return tidy


def with_defaults(schema: dict, parameters: list[dict]) -> None:
    """Give each argument its default, 0, False and "" included (Gradio's schema leaves out the falsy ones, so that
    ``size=0``, ``seed=0`` or ``transposed=False`` read as having none)."""
    for p in parameters:
        argument = schema["properties"].get(p["parameter_name"])
        if argument is not None and p.get("parameter_has_default") and "default" not in argument:
            argument["default"] = p.get("parameter_default")


def with_ranges(schema: dict, parameters: list[dict], block_fn) -> None:
    """Give each number argument its control's range (``minimum``, ``maximum``), so that an agent reads it before
    calling, and the schema's check names it."""
    controls = [block for block in getattr(block_fn, "inputs", []) if not block.stateful]
    for p, control in zip(parameters, controls):
        argument = schema["properties"].get(p["parameter_name"])
        if argument is None or p.get("label") != getattr(control, "label", None):
            continue
        if argument.get("type") not in ("number", "integer"):
            continue
        for key in ("minimum", "maximum"):
            if getattr(control, key, None) is not None:
                argument[key] = getattr(control, key)
        if whole(control):
            argument["type"] = "integer"


def value_path(schema_path: list) -> list:
    """Where a file sits in a tool's arguments, from where it sits in the schema: ["regions", "background",
    "anyOf", 0] -> ["regions", "background"]; ["uploads", "items"] -> ["uploads", EACH]."""
    path, keys = [], iter(schema_path)
    for key in keys:
        if key in ("anyOf", "oneOf", "allOf"):
            next(keys, None)  # which alternative: not part of the value
        elif key == "items":
            path.append(EACH)
        elif key != "properties":
            path.append(key)
    return path


def name_mcp_arguments() -> None:
    """Make the MCP server's argument check name the argument, and its schemas ``tidy_schema`` (once per process)."""
    if not isinstance(lowlevel.jsonschema, NamedSchema):
        lowlevel.jsonschema = NamedSchema()
    if getattr(GradioMCPServer.get_input_schema, "tidy", False):
        return
    gradio_schema = GradioMCPServer.get_input_schema

    def schema(self, tool_name, parameters=None):
        schema, positions = gradio_schema(self, tool_name, parameters)
        endpoint = self.tool_to_endpoint[tool_name]
        arguments = self.api_info["named_endpoints"][endpoint]["parameters"]
        with_defaults(schema, arguments)
        with_ranges(schema, arguments, self.get_block_fn_from_endpoint_name(endpoint))
        return {**tidy_schema(schema), "additionalProperties": False}, [value_path(p) for p in positions]
    schema.tidy = True
    GradioMCPServer.get_input_schema = schema
    GradioMCPServer._file_data_tool_description = FILES_SAID
