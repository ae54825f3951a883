"""``POST /v1/responses``: the gateway keeps the state, LiteLLM's Responses support makes the call.

LiteLLM always gets ``store: false`` and the whole chain as explicit input items (the stored
session's messages as items, then the request's own input), so no provider and no LiteLLM spend
log is asked to remember anything: every model sees the same context, the moment the previous
response completed. ``instructions`` go to the model for this response only (never stored as a
message, so never carried over).

Where a response goes (unless ``store: false``):
- no ``previous_response_id``/``conversation``: a new session;
- ``previous_response_id`` of the newest response of its session: appended to that session;
- ``previous_response_id`` of an older response (a branch): a new session holding a copy of the
  chain up to that response, then this response;
- ``conversation``: appended to that session.

The response is stored only once it completed (or ended ``incomplete``); a failed call stores
nothing. Nothing is written before the model call; a dead store is a 503 before it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import httpx

from gateway.chat.service import HISTORY_SKIPPED_HEADER
from gateway.chat.sse import DONE, parse_chunk, sse_data
from gateway.errors import ErrorKind, GatewayError, upstream_error, validation
from gateway.history.store import SESSION_MOVED_ON, HistoryStore, SessionTurn
from gateway.identity.principal import Principal
from gateway.jsonbytes import json_bytes
from gateway.log import logger
from gateway.responses.ids import conversation_id, ephemeral_response_id, mint_response_id, parse_conversation_id
from gateway.responses.items import input_items, items_to_messages, messages_to_input
from gateway.responses.state import Conversations, ResponseStore, not_found, record_items
from gateway.upstream import LiteLLMClient, stream_lines

RESPONSES_PATH = "/v1/responses"
_GATEWAY_FIELDS = ("previous_response_id", "conversation", "store")
_STORED_STATUSES = frozenset({"completed", "incomplete"})


@dataclass
class PreparedResponse:
    body: dict  # what LiteLLM receives
    response_id: str
    store: bool
    principal: Principal
    previous_response_id: str | None = None
    conversation: str | None = None
    session: SessionTurn | None = None  # where the response is appended (None: not stored)
    record_seq: int = 0
    copied: list[dict] = field(default_factory=list)  # a branch's chain, copied into its new session
    new_messages: list[dict] = field(default_factory=list)
    skipped: str | None = None  # why this response is not stored (told to the client)
    at_tail: bool = False  # continues the newest response of its session: store only right after it
    started: float = field(default_factory=time.monotonic)

    def headers(self) -> dict[str, str]:
        if not self.skipped:
            return {}
        return {HISTORY_SKIPPED_HEADER: self.skipped.encode("ascii", "replace").decode()}

    def shape(self, response: dict, *, stored: bool) -> dict:
        """The response object as the client sees it: the gateway's id and state fields."""
        shaped = {**response, "id": self.response_id, "previous_response_id": self.previous_response_id}
        shaped["store"] = stored
        if self.conversation:
            shaped["conversation"] = {"id": self.conversation}
        if self.session is not None:
            shaped["session_id"] = self.session.session_id
        return shaped


def _optional_string(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise validation(f"{name} must be a non-empty string", param=name)
    return value


def _conversation_field(body: dict) -> str | None:
    value = body.get("conversation")
    if isinstance(value, dict):
        value = value.get("id")
        if not isinstance(value, str) or not value:
            raise validation("conversation.id must be a non-empty string", param="conversation")
    elif value is not None and (not isinstance(value, str) or not value):
        raise validation("conversation must be a conversation id or an object with an id", param="conversation")
    return value


def check_body(body: dict) -> None:
    """400 for a body the gateway cannot serve (before any read or model call)."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise validation("model must be a non-empty string", param="model")
    if "input" not in body:
        raise validation("input is required", param="input")
    for name in ("store", "stream", "background"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise validation(f"{name} must be a boolean", param=name)
    if body.get("background"):
        raise validation("background responses are not supported by the gateway", param="background")
    if body.get("previous_response_id") is not None and body.get("conversation") is not None:
        raise validation("use either previous_response_id or conversation, not both", param="conversation")
    if body.get("instructions") is not None and not isinstance(body["instructions"], str | list):
        raise validation("instructions must be a string or a list of items", param="instructions")


class ResponsesService:
    def __init__(self, upstream: LiteLLMClient, history: HistoryStore | None) -> None:
        self.upstream = upstream
        self.history = history
        self.records = ResponseStore(history) if history is not None else None
        self.conversations = Conversations(history) if history is not None else None

    async def prepare(self, principal: Principal, body: dict) -> PreparedResponse:
        check_body(body)
        previous = _optional_string(body, "previous_response_id")
        conversation = _conversation_field(body)
        items = input_items(body["input"])
        store = body.get("store") is not False
        prepared = PreparedResponse({}, ephemeral_response_id(), store, principal, previous)
        history, records = self.history, self.records
        if history is None or records is None:
            if previous or conversation:
                raise GatewayError(ErrorKind.UNAVAILABLE, "chat history is turned off on this gateway")
            if store:
                prepared.skipped = "chat history is turned off on this gateway"
            prepared.store = False
            prepared.body = self._upstream_body(body, items, [], "")
            return prepared
        if store:
            prepared.new_messages = items_to_messages(items)  # a 400 for items with no chat form
        chain: list[dict] = []
        session: SessionTurn | None = None
        if previous:
            record = await anyio.to_thread.run_sync(records.read, previous, principal)
            turn = await anyio.to_thread.run_sync(history.load_for_turn, record.session_id, principal)
            if turn.last_seq == record.last_seq:
                chain, session = turn.messages, turn
                prepared.at_tail = True
            else:  # a branch from an older response: its chain as it was then
                branch = await anyio.to_thread.run_sync(
                    history.load_until, record.session_id, principal, record.last_seq
                )
                chain = prepared.copied = branch.messages
        elif conversation:
            session_id = parse_conversation_id(conversation)
            if session_id is None:
                raise not_found("conversation")
            try:
                session = await anyio.to_thread.run_sync(history.load_for_turn, session_id, principal)
            except GatewayError as exc:
                raise not_found("conversation") if exc.kind is ErrorKind.NOT_FOUND else exc from None
            chain = session.messages
            prepared.conversation = conversation_id(session_id)
        if store:
            request_fields = {"role": "response", **{k: v for k, v in body.items() if k != "input"}}
            try:
                await anyio.to_thread.run_sync(
                    history.check_size, [*prepared.copied, *prepared.new_messages, request_fields]
                )
            except GatewayError as exc:
                if exc.kind is not ErrorKind.VALIDATION or previous or conversation:
                    raise
                prepared.store, prepared.skipped = False, exc.message  # answered, not stored, and said so
            else:
                if session is None:
                    await anyio.to_thread.run_sync(history.check_reachable)  # no write before the model call
                    session = history.open_session(principal.owner_id)
                prepared.session = session
                prepared.response_id, prepared.record_seq = mint_response_id(session.session_id)
        chain_id = session.session_id if session else (previous or "")
        prepared.body = self._upstream_body(body, items, chain, chain_id)
        return prepared

    @staticmethod
    def _upstream_body(body: dict, items: list[dict], chain: list[dict], chain_id: str) -> dict:
        sent = {k: v for k, v in body.items() if k not in _GATEWAY_FIELDS}
        sent["input"] = [*messages_to_input(chain, chain_id), *items] if chain else body["input"]
        sent["store"] = False
        return sent

    async def create(self, prepared: PreparedResponse, authorization: str) -> dict:
        """The non-streamed response, stored when it completed."""
        body = {**prepared.body, "stream": False}
        response = await self._post(body, authorization, stream=False)
        if response.status_code >= 300:
            raise upstream_error(response.status_code, response.content)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("output"), list):
            raise GatewayError(ErrorKind.MODEL_ERROR, "the model returned an answer the gateway cannot read")
        stored = await self.store(prepared, data)
        return prepared.shape(data, stored=stored)

    async def stream(self, prepared: PreparedResponse, authorization: str) -> ResponseStream:
        """Open the upstream stream; errors before the first byte raise here (a normal error answer)."""
        response = await self._post({**prepared.body, "stream": True}, authorization, stream=True)
        if response.status_code >= 300:
            content = await response.aread()
            await response.aclose()
            raise upstream_error(response.status_code, content)
        return ResponseStream(self, prepared, response)

    async def store(self, prepared: PreparedResponse, response: dict) -> bool:
        """Store a finished response; False (and ``prepared.skipped`` says why) when it is not stored."""
        if not prepared.store or prepared.session is None or self.history is None:
            return False
        if response.get("status") not in _STORED_STATUSES:
            prepared.skipped = f"the response ended {response.get('status')!r}: not stored"
            return False
        try:
            output = items_to_messages(response.get("output") or [], where="output")
            messages = [*prepared.copied, *prepared.new_messages, *output]
            if not messages:
                raise GatewayError(ErrorKind.VALIDATION, "the response has neither input nor output to store")
            stored = prepared.shape(response, stored=True)
            copied, new = len(prepared.copied), len(prepared.new_messages)
            owner = prepared.session.owner_id
            budget = self.history.config.item_budget_bytes

            def record(starts: list[int], last: int):
                first = starts[copied] if new else 1
                end = starts[copied + new] - 1 if copied + new < len(starts) else last
                count = end - first + 1 if new else 0
                return record_items(prepared.record_seq, owner, stored, first, count, last, budget)

            model = prepared.body.get("model")
            at_tail = prepared.at_tail
            await anyio.to_thread.run_sync(
                lambda: self.history.append(prepared.session, messages, model, extra=record, at_tail=at_tail)
            )
        except GatewayError as exc:  # the answer is good and paid for: deliver it, and say it was not stored
            if exc.kind not in (ErrorKind.VALIDATION, ErrorKind.UNAVAILABLE, ErrorKind.NOT_FOUND):
                raise
            if exc.message == SESSION_MOVED_ON:  # storing it after that one would mix two branches in one chain
                exc.message = "another response continuing the same previous response was stored first"
            logger.warning("response not stored", extra={"reason": exc.message})
            prepared.skipped = exc.message
            return False
        return True

    async def _post(self, body: dict, authorization: str, *, stream: bool) -> httpx.Response:
        headers = {"authorization": authorization, "content-type": "application/json"}
        content = json_bytes(body)
        return await self.upstream.send("POST", RESPONSES_PATH, headers=headers, content=content, stream=stream)


def sse_event(event: dict[str, Any]) -> bytes:
    kind = event.get("type")
    prefix = f"event: {kind}\n".encode() if isinstance(kind, str) and kind.isprintable() else b""
    return prefix + b"data: " + json_bytes(event) + b"\n\n"


class ResponseStream:
    """An open upstream stream of Responses events, relayed as they arrive.

    Every event carrying the response object gets the gateway's id; the response is stored when
    ``response.completed`` (or ``response.incomplete``) arrives, before that event is relayed, so
    a client that saw it can chain on it at once. ``response.failed`` or a broken stream stores nothing.
    """

    def __init__(self, service: ResponsesService, prepared: PreparedResponse, response: httpx.Response) -> None:
        self._service = service
        self.prepared = prepared
        self._response = response

    async def events(self) -> AsyncIterator[bytes]:
        sequence = 0
        try:
            async for data in sse_data(stream_lines(self._response)):
                if data == DONE:
                    yield b"data: [DONE]\n\n"
                    continue
                event = parse_chunk(data)
                if event is None:
                    continue  # not an event (LiteLLM sends JSON objects only)
                if isinstance(event.get("sequence_number"), int):
                    sequence = event["sequence_number"]
                response = event.get("response")
                if isinstance(response, dict):
                    stored = self.prepared.store
                    if event.get("type") in ("response.completed", "response.incomplete"):
                        stored = await self._service.store(self.prepared, response)
                    elif event.get("type") == "response.failed":
                        stored = False
                    event["response"] = self.prepared.shape(response, stored=stored)
                yield sse_event(event)
        except GatewayError as exc:
            error = exc.openai_body()["error"]
            yield sse_event({"type": "error", "code": error["code"], "message": error["message"],
                             "param": error["param"], "sequence_number": sequence + 1})  # fmt: skip
        finally:
            await self._response.aclose()
