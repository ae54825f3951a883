"""A chat turn: history in, LiteLLM call, history out — shared by the OpenAI and Converse routes.

Ordering sent upstream: the request's own system/developer messages, then the stored history,
then the request's new messages. Stored per turn: the new (non-system) messages and the complete
assistant reply. A failed or interrupted model call stores nothing. History is written after the
reply is complete (for streams: after the last content chunk, before the stream's final frame),
so the first byte never waits for a history write.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from gateway.chat.accumulate import ReplyAccumulator
from gateway.chat.sse import DONE, parse_chunk, sse_data
from gateway.converse.translate import is_prompt_arn
from gateway.errors import ErrorKind, GatewayError, upstream_error, validation
from gateway.history.store import HistoryStore, SessionTurn
from gateway.identity.principal import Principal
from gateway.jsonbytes import json_bytes
from gateway.prompts import PromptResolver, apply_prompt
from gateway.upstream import LiteLLMClient, stream_lines

CHAT_PATH = "/v1/chat/completions"
INSTRUCTION_ROLES = frozenset({"system", "developer"})
_STORED_ASSISTANT_FIELDS = ("role", "content", "tool_calls", "reasoning_content", "thinking_blocks")
# Inspects LiteLLM's answer (headers; the body when not streamed) before it is used or stored; raises
# GatewayError to refuse it.
AnswerCheck = Callable[[Mapping[str, str], dict | None], None]


@dataclass
class ChatRequest:
    """An OpenAI-format chat body plus the gateway's own fields, already taken out of it."""

    body: dict
    session_id: str | None = None
    prompt_variables: dict | None = None


@dataclass
class PreparedTurn:
    body: dict  # what LiteLLM receives
    new_messages: list[dict] = field(default_factory=list)
    session: SessionTurn | None = None
    started: float = field(default_factory=time.monotonic)
    history_skipped: str | None = None  # why this turn is not stored (told to the client, never silent)

    @property
    def session_id(self) -> str | None:
        return self.session.session_id if self.session else None

    def latency_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


def session_id_field(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise validation(f"{name} must be a non-empty string", param=name)
    return value.strip()


def _messages_checked(body: dict) -> dict:
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise validation("messages must be a list of message objects", param="messages")
    return body


def stored_reply(message: dict) -> dict:
    """The assistant message in canonical form (no provider-specific extras)."""
    kept = {k: message[k] for k in _STORED_ASSISTANT_FIELDS if message.get(k) not in (None, [], "")}
    kept["role"] = "assistant"
    kept.setdefault("content", None)
    return kept


class ChatService:
    def __init__(
        self, upstream: LiteLLMClient, history: HistoryStore | None, prompts: PromptResolver | None = None
    ) -> None:
        self.upstream = upstream
        self.history = history
        self.prompts = prompts or PromptResolver()  # one per process: its cache is shared by all turns

    async def prepare(self, principal: Principal, request: ChatRequest) -> PreparedTurn:
        body = dict(request.body)
        model = body.get("model")
        resolved = None
        if isinstance(model, str) and is_prompt_arn(model):
            resolved = await anyio.to_thread.run_sync(self.prompts.resolve, model, request.prompt_variables)
        elif request.prompt_variables is not None:
            raise validation("promptVariables can only be used when the model is a prompt ARN", param="promptVariables")
        if resolved is None:
            _messages_checked(body)  # before any read: a malformed body is a 400 whatever the session
        if self.history is None:
            return PreparedTurn(_messages_checked(apply_prompt(body, resolved)) if resolved else body)
        session = None
        if request.session_id:
            # a session's turns are stored: a prompt's own messages open it once and are never added again
            session = await anyio.to_thread.run_sync(self.history.load_for_turn, request.session_id, principal)
        if resolved:
            body = apply_prompt(body, resolved, conversation=session is None or session.last_seq == 0)
        messages = _messages_checked(body)["messages"]
        # the leading instructions go before the stored history; a later system message (Bedrock's
        # mid-conversation ones) keeps its place in the turn and is stored with it
        lead = next((i for i, m in enumerate(messages) if m.get("role") not in INSTRUCTION_ROLES), len(messages))
        instructions, new_messages = messages[:lead], messages[lead:]
        if session is not None:
            # the client asked for this turn to be kept: refuse what cannot be stored, before the model call
            await anyio.to_thread.run_sync(self.history.check_size, new_messages)
        else:
            try:
                await anyio.to_thread.run_sync(self.history.check_size, new_messages)
            except GatewayError as exc:
                if exc.kind is not ErrorKind.VALIDATION:
                    raise
                # too large to keep, and no session was asked for: answer anyway, start no session, say so
                return PreparedTurn(body, history_skipped=exc.message)
            await anyio.to_thread.run_sync(self.history.check_reachable)  # a read, cached: no write before the model
            session = self.history.open_session(principal.owner_id)
        body["messages"] = [*instructions, *session.messages, *new_messages]
        return PreparedTurn(body, new_messages, session)

    async def complete(
        self, turn: PreparedTurn, authorization: str, check: AnswerCheck | None = None
    ) -> tuple[dict, dict[str, str]]:
        """The non-streamed answer (stored in history) and LiteLLM's ``x-litellm-*`` headers."""
        body = {**turn.body, "stream": False}
        body.pop("stream_options", None)
        response = await self._post(body, authorization, stream=False)
        if response.status_code >= 300:
            raise upstream_error(response.status_code, response.content)
        try:
            data = response.json()
            message = data["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise GatewayError(ErrorKind.MODEL_ERROR, "the model returned an answer the gateway cannot read") from None
        if check is not None:
            check(response.headers, data)
        try:
            await self._record(turn, message)
        except GatewayError as exc:  # the answer is good and paid for: deliver it, and say it was not stored
            if exc.kind not in (ErrorKind.VALIDATION, ErrorKind.UNAVAILABLE):
                raise
            turn.history_skipped = exc.message
            turn.session = None if turn.session and turn.session.new else turn.session
        return data, litellm_headers(response.headers)

    async def stream(
        self, turn: PreparedTurn, authorization: str, *, include_usage: bool, check: AnswerCheck | None = None
    ) -> ChatStream:
        """Open the upstream stream; errors before the first byte raise here (a normal error answer)."""
        body = {**turn.body, "stream": True}
        if include_usage:
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        response = await self._post(body, authorization, stream=True)
        if response.status_code >= 300:
            content = await response.aread()
            await response.aclose()
            raise upstream_error(response.status_code, content)
        if check is not None:
            try:
                check(response.headers, None)
            except GatewayError:
                await response.aclose()
                raise
        return ChatStream(self, turn, response)

    async def _post(self, body: dict, authorization: str, *, stream: bool):
        headers = {"authorization": authorization, "content-type": "application/json"}
        content = json_bytes(body)
        return await self.upstream.send("POST", CHAT_PATH, headers=headers, content=content, stream=stream)

    async def _record(self, turn: PreparedTurn, reply: dict) -> None:
        if self.history is None or turn.session is None:
            return
        messages = [*turn.new_messages, stored_reply(reply)]
        await anyio.to_thread.run_sync(self.history.append, turn.session, messages, turn.body.get("model"))


def litellm_headers(headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower().startswith("x-litellm-")}


HISTORY_SKIPPED_HEADER = "x-history-skipped"


def history_headers(turn: PreparedTurn, session_header: str | None = None) -> dict[str, str]:
    """``x-history-skipped: <why>`` when the turn was not stored; the session id header if asked for."""
    headers = {}
    if turn.history_skipped:
        headers[HISTORY_SKIPPED_HEADER] = turn.history_skipped.encode("ascii", "replace").decode()
    if session_header and turn.session_id:
        headers[session_header] = turn.session_id
    return headers


class ChatStream:
    """An open upstream stream: iterate ``events()``; history is stored once the reply is complete."""

    def __init__(self, service: ChatService, turn: PreparedTurn, response) -> None:
        self._service = service
        self.turn = turn
        self._response = response
        self.reply = ReplyAccumulator()
        self.headers = litellm_headers(response.headers)

    async def events(self) -> AsyncIterator[tuple[str, dict | None]]:
        """(raw ``data`` payload, parsed chunk or None) for every upstream event, ``[DONE]`` last.

        Before yielding ``[DONE]`` (or ending, if upstream never sends it) the complete reply is
        stored; a stream that carried an error chunk or broke off stores nothing.
        """
        failed = done = False
        try:
            async for data in sse_data(stream_lines(self._response)):
                if done or data == DONE:
                    # read to the end rather than stop here: a fully read response returns its
                    # keep-alive connection to the pool (a half-read one would be closed)
                    done = True
                    continue
                chunk = parse_chunk(data)
                if chunk is not None:
                    if "error" in chunk:
                        failed = True
                    else:
                        self.reply.feed(chunk)
                yield data, chunk
            if not failed and self.reply.finish_reason:
                await self._service._record(self.turn, self.reply.message())
            yield DONE, None
        finally:
            await self._response.aclose()
