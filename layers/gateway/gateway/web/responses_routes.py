"""The OpenAI Responses API with the gateway's chat history as its state (``gateway/responses/``).

``POST /v1/responses`` (sync and ``stream: true``), ``GET``/``DELETE /v1/responses/{id}``,
``GET /v1/responses/{id}/input_items``; conversations (chat-history sessions):
``POST /v1/conversations``, ``GET /v1/conversations/{id}`` and ``/items``. Reads are
owner-checked: someone else's id answers exactly like a missing one; the admin (master key) reads any.
"""

from __future__ import annotations

import re

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.errors import ErrorKind, GatewayError, validation
from gateway.identity.principal import Principal
from gateway.responses.ids import conversation_id, parse_conversation_id
from gateway.responses.items import input_items, items_to_messages
from gateway.responses.service import ResponsesService
from gateway.responses.state import Conversation, Conversations, ResponseStore, stored_items
from gateway.web.requests import parse_json_object, principal_of, read_json_object, upstream_authorization
from gateway.web.responses import JSONBody

MAX_LIST_LIMIT = 100
MAX_CONVERSATION_ITEMS = 20  # items a conversation can be created with (OpenAI's limit)
MAX_METADATA_KEYS = 16


def _service(request: Request) -> ResponsesService:
    return request.app.state.gw.responses


def _records(request: Request) -> ResponseStore:
    records = _service(request).records
    if records is None:
        raise GatewayError(ErrorKind.UNAVAILABLE, "chat history is turned off on this gateway")
    return records


def _conversations(request: Request) -> Conversations:
    conversations = _service(request).conversations
    if conversations is None:
        raise GatewayError(ErrorKind.UNAVAILABLE, "chat history is turned off on this gateway")
    return conversations


async def _reader(request: Request) -> Principal:
    """The caller; a JWT's subject must be a plain user (a token naming an admin's id is refused, 403)."""
    principal = principal_of(request)
    if principal.type == "jwt":
        await request.app.state.gw.accounts.managed_key(principal)  # checks the user's role; cached
    return principal


async def create_response(request: Request) -> Response:
    principal = await _reader(request)  # a JWT's role is checked before any state is read
    body = await read_json_object(request)
    service = _service(request)
    prepared = await service.prepare(principal, body)
    authorization = await upstream_authorization(request, principal)
    if body.get("stream") is not True:
        data = await service.create(prepared, authorization)
        return JSONBody(data, headers=prepared.headers())
    stream = await service.stream(prepared, authorization)
    return StreamingResponse(stream.events(), media_type="text/event-stream", headers=prepared.headers())


async def get_response(request: Request) -> Response:
    principal = await _reader(request)
    records = _records(request)
    record = await anyio.to_thread.run_sync(records.read, request.path_params["response_id"], principal)
    return JSONBody(record.response)


async def delete_response(request: Request) -> Response:
    principal = await _reader(request)
    records = _records(request)
    record = await anyio.to_thread.run_sync(records.read, request.path_params["response_id"], principal)
    await anyio.to_thread.run_sync(records.delete, record)
    return JSONBody({"id": record.response_id, "object": "response.deleted", "deleted": True})


def list_params(request: Request) -> tuple[int, str, str | None]:
    """``limit`` (1-100, default 20), ``order`` (asc/desc, default desc) and ``after`` (an item id)."""
    query = request.query_params
    raw = query.get("limit", "20")
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_LIST_LIMIT:
        raise validation(f"limit must be a whole number from 1 to {MAX_LIST_LIMIT}", param="limit")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise validation("order must be asc or desc", param="order")
    return int(raw), order, query.get("after") or None


def item_page(items: list[dict], limit: int, order: str, after: str | None) -> dict:
    """One page of a list of items (oldest first in ``items``) in OpenAI's list shape."""
    ordered = items if order == "asc" else items[::-1]
    if after is not None:
        position = next((i for i, item in enumerate(ordered) if item.get("id") == after), None)
        if position is None:
            raise validation("after is not an item id of this list", param="after")
        ordered = ordered[position + 1 :]
    page = ordered[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(ordered) > limit,
    }


async def response_input_items(request: Request) -> Response:
    principal = await _reader(request)
    limit, order, after = list_params(request)
    records = _records(request)
    record = await anyio.to_thread.run_sync(records.read, request.path_params["response_id"], principal)
    first, last = record.input_seqs
    stored = await anyio.to_thread.run_sync(records.messages, record.session_id, first, last)
    return JSONBody(item_page(stored_items(record.session_id, stored), limit, order, after))


# -- conversations ---------------------------------------------------------------------------------


def conversation_object(conversation: Conversation) -> dict:
    return {
        "id": conversation_id(conversation.session_id),
        "object": "conversation",
        "created_at": conversation.created_at,
        "metadata": conversation.metadata,
    }


def _short(value: object, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _metadata(body: dict) -> dict:
    metadata = body.get("metadata")
    if metadata is None:
        return {}
    if (
        not isinstance(metadata, dict)
        or len(metadata) > MAX_METADATA_KEYS
        or not all(
            isinstance(k, str) and len(k) <= 64 and isinstance(v, str) and len(v) <= 512 for k, v in metadata.items()
        )
    ):
        raise validation(
            f"metadata must be an object of at most {MAX_METADATA_KEYS} string values (keys up to 64 characters, "
            "values up to 512)",
            param="metadata",
        )
    return metadata


async def create_conversation(request: Request) -> Response:
    principal = await _reader(request)
    body = parse_json_object(await request.body(), empty_is={})
    conversations = _conversations(request)
    items = input_items(body.get("items", []))
    if len(items) > MAX_CONVERSATION_ITEMS:
        raise validation(f"a conversation is created with at most {MAX_CONVERSATION_ITEMS} items", param="items")
    messages = items_to_messages(items, where="items")
    metadata = _metadata(body)
    conversation = await anyio.to_thread.run_sync(conversations.create, principal.owner_id, messages, metadata)
    return JSONBody(conversation_object(conversation))


async def add_conversation_items(request: Request) -> Response:
    principal = await _reader(request)
    body = await read_json_object(request)
    conversations = _conversations(request)
    items = input_items(body.get("items"))
    if not 1 <= len(items) <= MAX_CONVERSATION_ITEMS:
        raise validation(f"items must hold 1 to {MAX_CONVERSATION_ITEMS} items", param="items")
    messages = items_to_messages(items, where="items")
    session_id = parse_conversation_id(request.path_params["conversation_id"])
    added = await anyio.to_thread.run_sync(conversations.add_items, session_id, principal, messages)
    return JSONBody(item_list(added, has_more=False))


def item_list(items: list[dict], *, has_more: bool) -> dict:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": has_more,
    }


async def get_conversation(request: Request) -> Response:
    principal = await _reader(request)
    conversations = _conversations(request)
    session_id = parse_conversation_id(request.path_params["conversation_id"])
    conversation = await anyio.to_thread.run_sync(conversations.read, session_id, principal)
    return JSONBody(conversation_object(conversation))


async def conversation_items(request: Request) -> Response:
    principal = await _reader(request)
    limit, order, after = list_params(request)
    conversations = _conversations(request)
    session_id = parse_conversation_id(request.path_params["conversation_id"])
    page = await anyio.to_thread.run_sync(
        lambda: conversations.items(session_id, principal, limit=limit, order=order, after=after)
    )
    return JSONBody(item_list(page.items, has_more=page.has_more))
