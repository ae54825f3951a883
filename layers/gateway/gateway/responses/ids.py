"""Response and conversation ids, and where they point in the history table.

A response id is ``resp_`` + its session's id (32 hex) + a random 62-bit token (16 hex). Its
record lives in the session's own partition at ``seq = -token`` (below every message seq, see
``state.py``), so a session's purge removes its responses too and the id alone locates it. The
token makes ids unguessable however the session id was learnt; ownership is checked on every read.

A conversation is a chat-history session: ``conv_`` + the session id.
"""

from __future__ import annotations

import re
import secrets

_RESPONSE_ID = re.compile(r"resp_([0-9a-f]{32})([0-9a-f]{16})")
_CONVERSATION_ID = re.compile(r"(?:conv_)?([0-9a-f]{32})")
_TOKEN_FLOOR = 1 << 61  # tokens in [2^61, 2^62): a record's parts (seq -token upwards) stay far below 0


def mint_response_id(session_id: str) -> tuple[str, int]:
    """A new response id in ``session_id`` and the seq of its record."""
    token = _TOKEN_FLOOR + secrets.randbits(61)
    return f"resp_{session_id}{token:016x}", -token


def parse_response_id(value: object) -> tuple[str, int] | None:
    """(session id, record seq) of a response id, or None for anything ``mint_response_id`` did not make."""
    if not isinstance(value, str) or not (match := _RESPONSE_ID.fullmatch(value)):
        return None
    token = int(match.group(2), 16)
    if token < _TOKEN_FLOOR:
        return None
    return match.group(1), -token


def ephemeral_response_id() -> str:
    """The id of a response that is not stored (``store: false``): it names nothing."""
    return f"resp_{secrets.token_hex(24)}"


def conversation_id(session_id: str) -> str:
    return f"conv_{session_id}"


def parse_conversation_id(value: object) -> str | None:
    """The session id of a conversation id (``conv_<session id>``, or a bare session id), else None."""
    if not isinstance(value, str):
        return None
    match = _CONVERSATION_ID.fullmatch(value)
    return match.group(1) if match else None
