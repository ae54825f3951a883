"""A fast, scriptable OpenAI-compatible upstream for tests and `make bench` (loopback only).

Replies are deterministic so tests can assert them:
- plain chat: ``"Echo: <last user text>"``; with ``tools`` (and no tool result yet): one call to the
  requested/first tool, arguments filled from its JSON schema's required properties;
  after a tool result: ``"Tool said: <result>"``.
- magic words in the last user text: ``__status_NNN__`` answers HTTP NNN with an OpenAI error,
  ``__sleep_S__`` waits S seconds first, ``__drip__`` streams with 0.3 s between chunks (``__drip_S__``: S seconds),
  ``__echo_request__`` answers the JSON of the request it got (to see what the gateway sent),
  ``__think__`` adds extended thinking as LiteLLM relays Claude's: ``reasoning_content`` and signed
  ``thinking_blocks`` (plus one ``redacted_thinking`` block); streamed in fragments, one block's
  text first and its signature last, as Anthropic's ``thinking_delta``/``signature_delta`` arrive;
  ``__stop__`` with ``stop`` set answers as vLLM does when a stop string ended the answer: the choice
  carries ``stop_reason`` = the first stop string.
- ``/anthropic/v1/messages``: the Anthropic-format stand-in of ``tests.support.fake_anthropic``.
- ``GET /_fake/connections``: how many distinct TCP connections carried chat requests.
- ``POST /v1/guardrail/{id}/version/{version}/apply``: a stand-in for Bedrock's ApplyGuardrail (AWS
  is not reachable here) that blocks any text holding ``topsecret`` with a denied topic ``Secrets``
  and answers ``BEDROCK_BLOCKED_MESSAGE`` (point LiteLLM's ``aws_bedrock_runtime_endpoint`` at ``/v1``).
Run: ``python -m tests.support.fake_openai PORT`` (or ``serve(port)`` in a thread).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from tests.support import fake_anthropic

_STATUS = re.compile(r"__status_(\d{3})__")
_SLEEP = re.compile(r"__sleep_([0-9.]+)__")
_DRIP = re.compile(r"__drip(?:_([0-9.]+))?__")
THINKING = "Let me think about this step by step."
THINKING_SIGNATURE = "EqQBCkYIBxgCKkDfake-signature=="
REDACTED_THINKING = "EmwKAhgBEgy3fake-redacted=="


def thinking_blocks() -> list[dict]:
    """What a non-streamed Claude answer with extended thinking carries (LiteLLM's OpenAI form)."""
    return [
        {"type": "thinking", "thinking": THINKING, "signature": THINKING_SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED_THINKING},
    ]


def thinking_deltas() -> list[dict]:
    """The same thinking as stream deltas, the way LiteLLM relays Anthropic's content-block deltas."""
    words = re.findall(r"\S+\s*", THINKING)
    deltas = [
        {"reasoning_content": w, "thinking_blocks": [{"type": "thinking", "thinking": w, "index": 0}]} for w in words
    ]
    signed = [{"type": "thinking", "thinking": "", "signature": THINKING_SIGNATURE, "index": 0}]
    deltas.append({"reasoning_content": "", "thinking_blocks": signed})
    deltas.append({"thinking_blocks": [{"type": "redacted_thinking", "data": REDACTED_THINKING, "index": 1}]})
    return deltas


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _sample_value(schema: dict):
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}.get(kind, "test")


def _tool_call(body: dict) -> dict | None:
    tools = body.get("tools") or []
    messages = body.get("messages") or []
    if not tools or (messages and messages[-1].get("role") == "tool") or body.get("tool_choice") == "none":
        return None
    choice = body.get("tool_choice")
    chosen = tools[0]["function"]
    if isinstance(choice, dict):
        chosen = next(t["function"] for t in tools if t["function"]["name"] == choice["function"]["name"])
    params = chosen.get("parameters") or {}
    props = params.get("properties") or {}
    args = {name: _sample_value(props.get(name, {})) for name in params.get("required", [])}
    return {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
            "function": {"name": chosen["name"], "arguments": json.dumps(args)}}  # fmt: skip


def _reply(body: dict) -> tuple[str, dict | None]:
    messages = body.get("messages") or []
    call = _tool_call(body)
    if call:
        return "", call
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        return f"Tool said: {_text_of(last.get('content'))}", None
    user_text = next((_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    if "__echo_request__" in user_text:
        return json.dumps(body, sort_keys=True), None
    return f"Echo: {user_text}", None


def _usage(body: dict, reply: str) -> dict:
    prompt = sum(len(_text_of(m.get("content")).split()) + 1 for m in body.get("messages") or [])
    completion = max(1, len(reply.split()))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


_CLIENTS: set[tuple[str, int]] = set()  # distinct client connections seen (address, port)


async def chat(request: Request) -> Response:
    if request.client:
        _CLIENTS.add((request.client.host, request.client.port))
    body = await request.json()
    user_text = " ".join(_text_of(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "user")
    if m := _SLEEP.search(user_text):
        await asyncio.sleep(float(m.group(1)))
    if m := _STATUS.search(user_text):
        status = int(m.group(1))
        return JSONResponse(
            {
                "error": {
                    "message": f"fake upstream error {status}",
                    "type": "fake_error",
                    "code": str(status),
                }
            },
            status_code=status,
        )
    text, call = _reply(body)
    think = "__think__" in user_text
    created, cid, model = int(time.time()), f"chatcmpl-{uuid.uuid4().hex}", body.get("model", "fake")
    finish = "tool_calls" if call else "stop"
    stops = body.get("stop") or []
    stops = [stops] if isinstance(stops, str) else stops
    stopped = {"stop_reason": stops[0]} if "__stop__" in user_text and stops and not call else {}
    if not body.get("stream"):
        message: dict = {"role": "assistant", "content": text or None}
        if call:
            message["tool_calls"] = [call]
        if think:
            message["reasoning_content"] = THINKING
            message["thinking_blocks"] = thinking_blocks()
        return JSONResponse({
            "id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish, **stopped}],
            "usage": _usage(body, text),
        })  # fmt: skip
    drip_match = _DRIP.search(user_text)
    drip = float(drip_match.group(1) or 0.3) if drip_match else 0.0
    include_usage = (body.get("stream_options") or {}).get("include_usage")

    def chunk(delta: dict, finish_reason: str | None = None, **extra) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, **(stopped if finish_reason else {})}
        payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                   "choices": [choice], **extra}  # fmt: skip
        return f"data: {json.dumps(payload)}\n\n".encode()

    async def events():
        yield chunk({"role": "assistant", "content": ""})
        for delta in thinking_deltas() if think else []:
            yield chunk(delta)
        if call:
            name_part = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
            yield chunk({"tool_calls": [{"index": 0, **name_part}]})
            args = call["function"]["arguments"]
            for i in range(0, len(args), 8):
                yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[i : i + 8]}}]})
        for word in re.findall(r"\S+\s*", text):
            if drip:
                await asyncio.sleep(drip)
            yield chunk({"content": word})
        yield chunk({}, finish)
        if include_usage:
            usage = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [], "usage": _usage(body, text)}  # fmt: skip
            yield f"data: {json.dumps(usage)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def models(_: Request) -> Response:
    return JSONResponse({"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "fake"}]})


async def connections(_: Request) -> Response:
    """How many distinct TCP connections have carried chat requests (keep-alive checks)."""
    return JSONResponse({"connections": len(_CLIENTS)})


BEDROCK_BLOCKED_MESSAGE = "Sorry, the model cannot answer this question."


async def apply_guardrail(request: Request) -> Response:
    """Bedrock ApplyGuardrail, as far as LiteLLM's Bedrock guardrail hook reads it."""
    body = await request.json()
    texts = [c.get("text", {}).get("text", "") for c in body.get("content", []) if isinstance(c, dict)]
    usage = {"topicPolicyUnits": 1, "contentPolicyUnits": 0, "wordPolicyUnits": 0}
    if not any("topsecret" in t.lower() for t in texts):
        return JSONResponse({"action": "NONE", "outputs": [], "assessments": [{}], "usage": usage})
    topic = {"name": "Secrets", "type": "DENY", "action": "BLOCKED", "detected": True}
    return JSONResponse(
        {
            "action": "GUARDRAIL_INTERVENED",
            "actionReason": "Guardrail blocked.",
            "outputs": [{"text": BEDROCK_BLOCKED_MESSAGE}],
            "assessments": [{"topicPolicy": {"topics": [topic]}}],
            "usage": usage,
        }
    )


app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                        Route("/chat/completions", chat, methods=["POST"]),
                        Route("/v1/models", models),
                        Route("/v1/guardrail/{gid}/version/{version}/apply", apply_guardrail, methods=["POST"]),
                        Route("/_fake/connections", connections),
                        Mount("/anthropic", app=fake_anthropic.app)])  # fmt: skip


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
