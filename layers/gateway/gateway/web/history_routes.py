"""Reading stored conversations: ``/chat-history`` (OpenAI format), ``/bedrock/chat-history``
(Converse format) and ``/session-ids`` (the caller's sessions, newest first).

All three are paginated the same way: ``limit`` and ``next_token`` in the body, ``next_token`` in
the answer (null on the last page). A session's messages come oldest first, at most ``limit``
(default 100) and ``HISTORY_PAGE_MAX_BYTES`` per page, so a first call without a token answers as
before for any session that fits one page.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from gateway.chat.service import session_id_field
from gateway.converse.messages import openai_messages_to_converse
from gateway.errors import ErrorKind, GatewayError, validation
from gateway.history.store import HistoryPage
from gateway.identity.principal import Principal
from gateway.web.requests import principal_of, read_json_object
from gateway.web.responses import JSONBody

MAX_PAGE = 100  # session ids per /session-ids page
MAX_MESSAGES_PAGE = 1000  # messages per history page (bytes are capped by HISTORY_PAGE_MAX_BYTES too)
DEFAULT_MESSAGES_PAGE = 100


def _store(request: Request):
    store = request.app.state.gw.chat.history
    if store is None:
        raise GatewayError(ErrorKind.UNAVAILABLE, "chat history is not configured on this gateway")
    return store


async def _reader(request: Request) -> Principal:
    """The caller; a JWT's subject must be a plain user (a token naming an admin's id is refused, 403)."""
    principal = principal_of(request)
    if principal.type == "jwt":
        await request.app.state.gw.accounts.managed_key(principal)  # checks the user's role; cached
    return principal


def _limit(body: dict, default: int, maximum: int) -> int:
    limit = body.get("limit", default)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= maximum:
        raise validation(f"limit must be a whole number from 1 to {maximum}", param="limit")
    return limit


def _next_token(body: dict) -> str | None:
    """The previous page's token; absent, null or "" asks for the first page."""
    token = body.get("next_token")
    if token is not None and not isinstance(token, str):
        raise validation("next_token must be the string returned by the previous page", param="next_token")
    return token or None


async def _session_page(request: Request) -> tuple[str, HistoryPage]:
    principal = await _reader(request)
    body = await read_json_object(request)
    session_id = session_id_field(body.get("session_id"), "session_id")
    if session_id is None:
        raise validation("session_id is required", param="session_id")
    limit = _limit(body, DEFAULT_MESSAGES_PAGE, MAX_MESSAGES_PAGE)
    token = _next_token(body)
    store = _store(request)
    page = await anyio.to_thread.run_sync(lambda: store.read_page(session_id, principal, limit=limit, next_token=token))
    return session_id, page


async def chat_history(request: Request) -> Response:
    session_id, page = await _session_page(request)
    return JSONBody({"session_id": session_id, "messages": page.messages, "next_token": page.next_token})


async def bedrock_chat_history(request: Request) -> Response:
    session_id, page = await _session_page(request)
    system, converse_messages = openai_messages_to_converse(page.messages)
    return JSONBody(
        {"session_id": session_id, "messages": converse_messages, "system": system, "next_token": page.next_token}
    )


async def session_ids(request: Request) -> Response:
    principal = await _reader(request)
    body = await read_json_object(request)
    limit = _limit(body, 50, MAX_PAGE)
    cursor = _next_token(body)
    owner = principal.owner_id
    ids, next_token = await anyio.to_thread.run_sync(lambda: _store(request).list_sessions(owner, limit, cursor))
    return JSONBody({"session_ids": ids, "next_token": next_token})
