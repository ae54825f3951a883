"""JSON responses rendered with :func:`gateway.jsonbytes.json_bytes` (lone surrogates escaped)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from gateway.jsonbytes import json_bytes


class JSONBody(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json_bytes(content)
