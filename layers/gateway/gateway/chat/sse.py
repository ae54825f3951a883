"""Server-sent events from LiteLLM's streaming chat completions, one ``data:`` payload at a time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

DONE = "[DONE]"


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` field of each event (multi-line data joined with newlines), ``[DONE]`` included."""
    buffer: list[str] = []
    async for line in lines:
        if not line:
            if buffer:
                yield "\n".join(buffer)
                buffer.clear()
            continue
        if line.startswith("data:"):
            buffer.append(line[5:].lstrip(" ") if line[5:6] == " " else line[5:])
        # comments (":...") and other fields (event:, id:, retry:) carry nothing we use
    if buffer:
        yield "\n".join(buffer)


def parse_chunk(data: str) -> dict | None:
    """A JSON chunk, or None for ``[DONE]`` and anything that is not a JSON object."""
    if data == DONE:
        return None
    try:
        chunk = json.loads(data)
    except ValueError:
        return None
    return chunk if isinstance(chunk, dict) else None
