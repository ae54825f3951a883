"""Compact JSON as UTF-8 that never fails on a lone surrogate — the one encoder for what the gateway
writes (responses, bodies sent to LiteLLM, event-stream payloads, stored history).

Request bodies holding a lone surrogate are refused (``web/requests.py``), but a model's reply can
still carry a ``\\ud800`` escape, and once stored it is replayed on every later turn and read back by
``/chat-history``. UTF-8 cannot encode it, so such a value is written with ``\\uXXXX`` escapes (valid
JSON, the same string) instead of failing; everything else keeps its UTF-8 (smaller than escapes).
"""

from __future__ import annotations

import json

_SEPARATORS = (",", ":")
_UTF8 = {
    nan: json.JSONEncoder(ensure_ascii=False, separators=_SEPARATORS, allow_nan=nan).encode for nan in (True, False)
}
_ASCII = {
    nan: json.JSONEncoder(ensure_ascii=True, separators=_SEPARATORS, allow_nan=nan).encode for nan in (True, False)
}


def json_bytes(value: object, *, allow_nan: bool = True) -> bytes:
    """``value`` as compact JSON in UTF-8 (``allow_nan=False``: ``NaN``/``Infinity`` raise ValueError)."""
    try:
        return _UTF8[allow_nan](value).encode("utf-8")
    except UnicodeEncodeError:
        return _ASCII[allow_nan](value).encode("ascii")
