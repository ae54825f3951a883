"""The OpenAI Responses API with the gateway's chat history as its state (``gateway/responses/``).

``POST /v1/responses`` (sync and ``stream: true``), ``GET``/``DELETE /v1/responses/{id}`` and
``GET /v1/responses/{id}/input_items``. Reads are owner-checked: someone else's id answers exactly
like a missing one; the admin (master key) reads any.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.errors import ErrorKind, GatewayError, validation
from gateway.identity.principal import Principal
from gateway.responses.items import message_to_items
from gateway.responses.service import ResponsesService
from gateway.responses.state import ResponseStore
from gateway.web.requests import principal_of, read_json_object, upstream_authorization
from gateway.web.responses import JSONBody

MAX_LIST_LIMIT = 100


def _service(request: Request) -> ResponsesService:
    return request.app.state.gw.responses


def _records(request: Request) -> ResponseStore:
    records = _service(request).records
    if records is None:
        raise GatewayError(ErrorKind.UNAVAILABLE, "chat history is turned off on this gateway")
    return records


async def _reader(request: Request) -> Principal:
    """The caller; a JWT's subject must be a plain user (a token naming an admin's id is refused, 403)."""
    principal = principal_of(request)
    if principal.type == "jwt":
        await request.app.state.gw.accounts.managed_key(principal)  # checks the user's role; cached
    return principal


async def create_response(request: Request) -> Response:
    principal = principal_of(request)
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
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIST_LIMIT:
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


def stored_items(session_id: str, stored) -> list[dict]:
    """Items (with ids stable across reads) of stored messages."""
    items: list[dict] = []
    for message in stored:
        ids = lambda prefix, k, seq=message.seq: f"{prefix}_{session_id}_{seq}_{k}"  # noqa: E731
        items.extend(message_to_items(message.message, ids))
    return items


async def response_input_items(request: Request) -> Response:
    principal = await _reader(request)
    limit, order, after = list_params(request)
    records = _records(request)
    record = await anyio.to_thread.run_sync(records.read, request.path_params["response_id"], principal)
    first, last = record.input_seqs
    stored = await anyio.to_thread.run_sync(records.messages, record.session_id, first, last)
    return JSONBody(item_page(stored_items(record.session_id, stored), limit, order, after))
