"""MCP tool arguments that fail a tool's JSON schema (a text for a number, a missing argument, a value outside an
enum) answered in one sentence that names the argument, what it must be and the value received.

The ``mcp`` package checks arguments with ``jsonschema.validate`` before Gradio sees them and answers with the
validator's own message, which does not say which argument is wrong ("'big' is not of type 'integer'").
``name_mcp_arguments`` gives its low-level server a ``jsonschema`` whose ``validate`` says it.
"""
from __future__ import annotations

import jsonschema
from mcp.server.lowlevel import server as lowlevel

from nst_core.checks import shown

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


def name_mcp_arguments() -> None:
    """Make the MCP server's argument check name the argument (once per process)."""
    if not isinstance(lowlevel.jsonschema, NamedSchema):
        lowlevel.jsonschema = NamedSchema()
