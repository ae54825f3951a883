"""Reading stored conversations: ``/chat-history`` (OpenAI format), ``/bedrock/chat-history``
(Converse format) and ``/session-ids`` (the caller's sessions, newest first, paginated)."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.chat.service import session_id_field
from gateway.converse.messages import openai_messages_to_converse
from gateway.errors import ErrorKind, GatewayError, validation
from gateway.identity.principal import Principal
from gateway.web.requests import principal_of, read_json_object

MAX_PAGE = 100


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


async def _session_messages(request: Request) -> tuple[str, list[dict]]:
    principal = await _reader(request)
    body = await read_json_object(request)
    session_id = session_id_field(body.get("session_id"), "session_id")
    if session_id is None:
        raise validation("session_id is required", param="session_id")
    messages = await anyio.to_thread.run_sync(lambda: _store(request).load(session_id, principal, trim=False))
    return session_id, messages


async def chat_history(request: Request) -> Response:
    session_id, messages = await _session_messages(request)
    return JSONResponse({"session_id": session_id, "messages": messages})


async def bedrock_chat_history(request: Request) -> Response:
    session_id, messages = await _session_messages(request)
    system, converse_messages = openai_messages_to_converse(messages)
    return JSONResponse({"session_id": session_id, "messages": converse_messages, "system": system})


async def session_ids(request: Request) -> Response:
    principal = await _reader(request)
    body = await read_json_object(request)
    limit = body.get("limit", 50)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise validation(f"limit must be a whole number from 1 to {MAX_PAGE}", param="limit")
    cursor = body.get("next_token")
    if cursor is not None and not isinstance(cursor, str):
        raise validation("next_token must be the string returned by the previous page", param="next_token")
    owner = principal.owner_id
    ids, next_token = await anyio.to_thread.run_sync(lambda: _store(request).list_sessions(owner, limit, cursor))
    return JSONResponse({"session_ids": ids, "next_token": next_token})
