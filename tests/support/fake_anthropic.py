"""A scriptable Anthropic Messages API stand-in (``POST /v1/messages``), for LiteLLM ``anthropic/...`` models.

Mounted by ``tests.support.fake_openai`` under ``/anthropic``, so it shares that server's process and
port. Answers are deterministic, in Anthropic's own format (JSON or SSE events), so tests can check
what LiteLLM relays from Claude:

- plain chat: ``"Echo: <last user text>"``.
- ``__stop__`` in the last user text with ``stop_sequences`` set: the answer ends with
  ``stop_reason: "stop_sequence"`` and ``stop_sequence`` = the first one asked for.
- a ``document`` block with ``citations.enabled``: the answer cites the first sentence of the
  first such document in a text block of its own (``char_location`` for text documents,
  ``content_block_location`` for custom-content ones, ``page_location`` for PDFs), as Claude does.
- ``cache_control`` markers: ``usage.cache_creation`` reports writes per TTL
  (``CACHE_5M_TOKENS`` per 5-minute marker, ``CACHE_1H_TOKENS`` per 1-hour marker).
- ``service_tier`` in the request: ``usage.service_tier`` is ``"standard"``.
- ``__overloaded__``: the stream fails after its first text with Anthropic's ``error`` event.
- ``__echo_request__``: the answer is the JSON of the request it got.
"""

from __future__ import annotations

import json
import re
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CACHE_5M_TOKENS = 11
CACHE_1H_TOKENS = 22
CITED_PREFIX = "According to the document, "
OVERLOADED_MESSAGE = "Overloaded"


def _user_text(body: dict) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return " ".join(b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _blocks(body: dict) -> list[dict]:
    blocks = [b for b in body.get("system") or [] if isinstance(b, dict)]
    for message in body.get("messages") or []:
        if isinstance(message.get("content"), list):
            blocks.extend(b for b in message["content"] if isinstance(b, dict))
    return blocks


def _first_sentence(text: str) -> str:
    match = re.match(r"[^.!?]*[.!?]?", text)
    return (match.group(0) if match else text).strip() or text


def _citation(body: dict) -> dict | None:
    """The citation Claude would give for the first citable document of the request, if any."""
    documents = [b for b in _blocks(body) if b.get("type") == "document"]
    for index, doc in enumerate(documents):
        if not (doc.get("citations") or {}).get("enabled"):
            continue
        source = doc.get("source") or {}
        title = doc.get("title")
        if source.get("type") == "text":
            cited = _first_sentence(source.get("data", ""))
            start = source.get("data", "").find(cited)
            return {"type": "char_location", "cited_text": cited, "document_index": index, "document_title": title,
                    "start_char_index": start, "end_char_index": start + len(cited)}  # fmt: skip
        if source.get("type") == "content":
            first = next((c.get("text", "") for c in source.get("content") or [] if c.get("type") == "text"), "")
            return {"type": "content_block_location", "cited_text": first, "document_index": index,
                    "document_title": title, "start_block_index": 0, "end_block_index": 1}  # fmt: skip
        return {"type": "page_location", "cited_text": "page one", "document_index": index,
                "document_title": title, "start_page_number": 1, "end_page_number": 2}  # fmt: skip
    return None


def _content(body: dict) -> tuple[list[dict], str, str | None]:
    """(content blocks, stop_reason, stop_sequence)."""
    user_text = _user_text(body)
    if "__echo_request__" in user_text:
        return [{"type": "text", "text": json.dumps(body, sort_keys=True)}], "end_turn", None
    citation = _citation(body)
    if citation is not None:
        cited = {"type": "text", "text": citation["cited_text"], "citations": [citation]}
        return [{"type": "text", "text": CITED_PREFIX}, cited, {"type": "text", "text": "."}], "end_turn", None
    stops = body.get("stop_sequences") or []
    if "__stop__" in user_text and stops:
        return [{"type": "text", "text": "Echo: stopped early"}], "stop_sequence", stops[0]
    return [{"type": "text", "text": f"Echo: {user_text}"}], "end_turn", None


def _usage(body: dict, content: list[dict]) -> dict:
    ttls = [b["cache_control"].get("ttl", "5m") for b in _blocks(body) if isinstance(b.get("cache_control"), dict)]
    ttls += [t["cache_control"].get("ttl", "5m") for t in body.get("tools") or [] if t.get("cache_control")]
    five, hour = ttls.count("5m") * CACHE_5M_TOKENS, ttls.count("1h") * CACHE_1H_TOKENS
    usage = {
        "input_tokens": len(_user_text(body).split()) + 3,
        "output_tokens": sum(len(b.get("text", "").split()) for b in content) or 1,
        "cache_creation_input_tokens": five + hour,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour},
    }
    if body.get("service_tier"):
        usage["service_tier"] = "standard"
    return usage


def _sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def messages(request: Request) -> Response:
    body = await request.json()
    content, stop_reason, stop_sequence = _content(body)
    usage = _usage(body, content)
    message = {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
               "model": body.get("model", "claude-fake"), "content": content,
               "stop_reason": stop_reason, "stop_sequence": stop_sequence, "usage": usage}  # fmt: skip
    if not body.get("stream"):
        return JSONResponse(message)
    overloaded = "__overloaded__" in _user_text(body)

    async def events():
        start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
                 "usage": {**usage, "output_tokens": 1}}  # fmt: skip
        yield _sse("message_start", {"type": "message_start", "message": start})
        for index, block in enumerate(content):
            opened = {"type": "text", "text": ""} | ({"citations": []} if "citations" in block else {})
            yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": opened})
            for citation in block.get("citations") or []:
                delta = {"type": "citations_delta", "citation": citation}
                yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            for word in re.findall(r"\S+\s*", block["text"]):
                delta = {"type": "text_delta", "text": word}
                yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                if overloaded:
                    error = {"type": "overloaded_error", "message": OVERLOADED_MESSAGE}
                    yield _sse("error", {"type": "error", "error": error})
                    return
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
        delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence}
        yield _sse(
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": usage["output_tokens"]}},
        )
        yield _sse("message_stop", {"type": "message_stop"})

    return StreamingResponse(events(), media_type="text/event-stream")


app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
