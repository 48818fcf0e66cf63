"""A real MCP client, the ``mcp`` package's streamable-HTTP transport, for tests/test_mcp.py and
scripts/check_install.py: each call opens a session, initialises it, does one request and closes."""
from __future__ import annotations

import asyncio

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def _in_session(url: str, request):
    async with streamable_http_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await request(session)


def list_tools(url: str) -> list:
    """The server's tools (``mcp.types.Tool``: name, description, inputSchema)."""
    return asyncio.run(_in_session(url, lambda session: session.list_tools())).tools


def call_tool(url: str, name: str, arguments: dict):
    """``tools/call``: the ``mcp.types.CallToolResult`` (``content`` items, ``isError``)."""
    return asyncio.run(_in_session(url, lambda session: session.call_tool(name, arguments)))


def text_of(result) -> str:
    """The text items of a tool's result, joined by newlines."""
    return "\n".join(item.text for item in result.content if item.type == "text")
