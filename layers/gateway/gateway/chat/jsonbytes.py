"""Compact JSON as UTF-8 bytes that never fails on a lone surrogate.

Request bodies holding one are refused (``web/requests.py``), but a model's reply can still carry a
``\\ud800`` escape, and once stored it is replayed on every later turn and read back by
``/chat-history``. UTF-8 cannot encode it, so such text is written with ``\\uXXXX`` escapes (valid
JSON, the same string) instead of failing the turn. ``NaN`` is written as Python's ``json`` writes
it rather than failing (request bodies cannot hold one: ``web/requests.py`` refuses them).
"""

from __future__ import annotations

import json

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode
_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=True).encode


def json_bytes(value: object) -> bytes:
    text = _compact(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _ascii(value).encode("ascii")
