"""OpenAI streaming chunks -> ConverseStream events, in Bedrock's order.

``messageStart``; per content block ``[contentBlockStart]`` (toolUse only), ``contentBlockDelta``...,
``contentBlockStop``; then ``messageStop``; then ``metadata``. One block is open at a time: a delta of
another kind (reasoning -> text -> tool call) closes the open block and starts the next index.

- Reasoning text comes from ``delta.reasoning_content``; LiteLLM's ``delta.thinking_blocks`` only
  add the signature (which ends that reasoning block) and redacted thinking (a block of its own).
- A tool block that received no argument text gets ``"{}"`` before its stop, so clients that
  ``json.loads`` the accumulated input see the same ``{}`` the non-streamed translation gives.
- Only choice 0 is translated (Converse has one output message).
- An ``{"error": ...}`` chunk (LiteLLM reports mid-stream failures that way) raises ``GatewayError``;
  the caller turns it into an exception frame with ``eventstream.encode_gateway_error``.
- Providers stream tool calls one after another. Should one ever resume an already-closed tool call,
  its fragment is still sent with that call's own ``contentBlockIndex`` rather than dropped.
- A citation (``delta.provider_specific_fields.citation``, Claude's ``citations_delta`` as LiteLLM
  relays it) is a ``citation`` delta in a text block; it starts a new text block when the open one
  already has text, since Claude sends a cited block's citations before its text.
- ``messageStop`` carries ``additionalModelResponseFields`` and ``metadata`` the service tier and
  performance config when the request asked for them (``converse/extras.py``).
- An error chunk's HTTP-like ``code`` and message are the ``originalStatusCode`` / ``originalMessage``
  of a ``modelStreamErrorException``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from gateway.converse.citations import bedrock_citation
from gateway.converse.extras import NO_EXTRAS, ResponseExtras, native_document, provider_fields, reported_stop
from gateway.converse.messages import encode_redacted
from gateway.converse.translate import converse_usage, stop_reason_from_finish
from gateway.errors import ErrorKind, GatewayError, kind_for_upstream_status

Event = tuple[str, dict]
_TOP_FIELDS = ("id", "model", "created", "system_fingerprint", "service_tier")
_STREAM_ONLY_FIELDS = frozenset({"citation", "thinking_blocks"})  # per-delta fragments, not answer fields


@dataclass
class _Block:
    kind: str  # "text" | "reasoning" | "tool"
    index: int
    has_input: bool = False
    has_text: bool = False


class ConverseStreamTranslator:
    """Feed parsed OpenAI chunks in order; call ``finish`` once when the upstream stream ends."""

    def __init__(self, extras: ResponseExtras = NO_EXTRAS) -> None:
        self._extras = extras
        self._top: dict[str, Any] = {}  # the answer's top-level fields, for additionalModelResponseFields
        self._fields: dict[str, Any] = {}  # choice 0's provider-specific fields, merged over the chunks
        self._reported_stop: Any = None
        self._started = False
        self._finished = False
        self._next_index = 0
        self._open: _Block | None = None
        self._tools: dict[int, _Block] = {}
        self._finish_reason: str | None = None
        self._usage: dict | None = None

    def feed(self, chunk: dict) -> list[Event]:
        events: list[Event] = []
        if not self._started:
            self._started = True
            events.append(("messageStart", {"role": "assistant"}))
        if not isinstance(chunk, dict):
            return events
        if chunk.get("error") is not None:
            raise _stream_error(chunk["error"])
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        self._top.update((k, chunk[k]) for k in _TOP_FIELDS if chunk.get(k) is not None)
        for choice in _dicts(chunk.get("choices")):
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            fields = provider_fields(choice, delta)
            self._fields.update((k, v) for k, v in fields.items() if k not in _STREAM_ONLY_FIELDS)
            self._reported_stop = reported_stop(choice, fields) or self._reported_stop
            if isinstance(delta, dict):
                self._reasoning(delta, events)
                self._citation(fields.get("citation"), events)
                if isinstance(delta.get("content"), str) and delta["content"]:
                    self._delta("text", {"text": delta["content"]}, events).has_text = True
                for call in _dicts(delta.get("tool_calls")):
                    self._tool_call(call, events)
            if isinstance(choice.get("finish_reason"), str) and choice["finish_reason"]:
                self._finish_reason = choice["finish_reason"]
        return events

    def finish(self, latency_ms: int) -> list[Event]:
        if self._finished:
            return []
        self._finished = True
        events: list[Event] = [] if self._started else [("messageStart", {"role": "assistant"})]
        self._started = True
        self._close(events)
        stop = stop_reason_from_finish(self._finish_reason)
        stop_sequence = self._extras.stop_sequence(self._reported_stop)
        if stop == "end_turn" and self._tools:
            stop = "tool_use"
        elif stop == "end_turn" and stop_sequence is not None:
            stop = "stop_sequence"
        message_stop: dict[str, Any] = {"stopReason": stop}
        answer = {**self._top, **({"usage": self._usage} if self._usage else {})}
        additional = self._extras.response_fields(native_document(answer, self._fields, stop_sequence))
        if additional is not None:
            message_stop["additionalModelResponseFields"] = additional
        events.append(("messageStop", message_stop))
        metadata = {"usage": converse_usage(self._usage), "metrics": {"latencyMs": latency_ms}}
        events.append(("metadata", {**metadata, **self._extras.echo(self._top.get("service_tier"))}))
        return events

    # ------------------------------------------------------------------ blocks

    def _start(self, kind: str, events: list[Event]) -> _Block:
        self._close(events)
        self._open = _Block(kind, self._next_index)
        self._next_index += 1
        return self._open

    def _close(self, events: list[Event]) -> None:
        block, self._open = self._open, None
        if block is None:
            return
        if block.kind == "tool" and not block.has_input:
            events.append(_delta_event(block.index, {"toolUse": {"input": "{}"}}))
        events.append(("contentBlockStop", {"contentBlockIndex": block.index}))

    def _delta(self, kind: str, delta: dict, events: list[Event]) -> _Block:
        block = self._open if self._open is not None and self._open.kind == kind else self._start(kind, events)
        events.append(_delta_event(block.index, delta))
        return block

    def _citation(self, citation: Any, events: list[Event]) -> None:
        converted = bedrock_citation(citation)
        if converted is None:
            return
        if self._open is not None and self._open.kind == "text" and self._open.has_text:
            self._start("text", events)
        self._delta("text", {"citation": converted}, events)

    def _reasoning(self, delta: dict, events: list[Event]) -> None:
        blocks = _dicts(delta.get("thinking_blocks"))
        text = delta.get("reasoning_content")
        if not isinstance(text, str):
            text = "".join(_text(b.get("thinking")) for b in blocks if b.get("type") == "thinking")
        if text:
            self._delta("reasoning", {"reasoningContent": {"text": text}}, events)
        for b in blocks:
            if b.get("type") == "thinking" and _text(b.get("signature")):
                self._delta("reasoning", {"reasoningContent": {"signature": b["signature"]}}, events)
                self._close(events)
            elif b.get("type") == "redacted_thinking" and isinstance(b.get("data"), str):
                block = self._start("reasoning", events)
                redacted = {"reasoningContent": {"redactedContent": encode_redacted(b["data"])}}
                events.append(_delta_event(block.index, redacted))
                self._close(events)

    def _tool_call(self, call: dict, events: list[Event]) -> None:
        fn = call.get("function") if isinstance(call.get("function"), dict) else {}
        position = call.get("index")
        if not isinstance(position, int):  # no index: a new call if it names itself, else a continuation
            named = _text(call.get("id")) or _text(fn.get("name"))
            position = len(self._tools) - (0 if named or not self._tools else 1)
        block = self._tools.get(position)
        if block is None:
            block = self._tools[position] = self._start("tool", events)
            start = {
                "toolUseId": _text(call.get("id")) or f"tooluse_{uuid.uuid4().hex[:24]}",
                "name": _text(fn.get("name")),
            }
            events.append(("contentBlockStart", {"contentBlockIndex": block.index, "start": {"toolUse": start}}))
        arguments = fn.get("arguments")
        if isinstance(arguments, str) and arguments:
            events.append(_delta_event(block.index, {"toolUse": {"input": arguments}}))
            block.has_input = block.has_input or bool(arguments.strip())


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _delta_event(index: int, delta: dict[str, Any]) -> Event:
    return ("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})


def _stream_error(error: Any) -> GatewayError:
    """An upstream error chunk -> GatewayError, kind from its HTTP-like ``code`` when it has one."""
    error = error if isinstance(error, dict) else {"message": str(error)}
    code = str(error.get("code") or "")
    status = int(code) if code.isdigit() and 100 <= int(code) <= 599 else None
    kind = kind_for_upstream_status(status) if status is not None else ErrorKind.MODEL_ERROR
    message = str(error.get("message") or "upstream stream failed")
    original = (status, message) if status is not None and error.get("message") else None
    return GatewayError(kind, message, original=original)
