"""``POST /bedrock/model/{modelId}/converse`` and ``/converse-stream``: Bedrock Converse in and out.

boto3 URL-encodes ``modelId`` (a prompt ARN holds ``:`` and ``/``); the server decodes the path,
so the route takes everything between ``/model/`` and the last segment. Bedrock model ids go
through the alias map (``gateway.bedrock_ids``); prompt ARNs and LiteLLM names pass unchanged. The session id of the
turn travels in the ``x-session-id`` response header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.bedrock_ids import resolve_model_id
from gateway.chat.service import ChatRequest, ChatStream, PreparedTurn, history_headers, session_id_field
from gateway.converse.eventstream import CONTENT_TYPE, encode_event, encode_gateway_error
from gateway.converse.extras import ResponseExtras
from gateway.converse.guardrails import Event, parse_guardrail_config, whole_answer_events
from gateway.converse.stream import ConverseStreamTranslator
from gateway.converse.translate import converse_request_to_openai, openai_response_to_converse
from gateway.errors import GatewayError
from gateway.web.requests import principal_of, read_json_object, upstream_authorization
from gateway.web.responses import JSONBody

SESSION_HEADER = "x-session-id"


async def _prepare(request: Request, *, stream: bool):
    gw = request.app.state.gw
    principal = principal_of(request)
    body = await read_json_object(request)
    guardrail = parse_guardrail_config(body.pop("guardrailConfig", None), stream=stream)
    call = converse_request_to_openai(resolve_model_id(request.path_params["model_id"], gw.settings), body)
    chat_request = ChatRequest(
        body=call.openai_body,
        session_id=session_id_field(call.session_id, "additionalModelRequestFields.session_id"),
        prompt_variables=call.prompt_variables,
    )
    turn = await gw.chat.prepare(principal, chat_request)
    authorization = await upstream_authorization(request, principal)
    resolved = await gw.guardrails.resolve(guardrail, authorization) if guardrail else None
    if resolved is not None:
        resolved.apply_to(turn.body)
    return gw, turn, call.extras, authorization, resolved


async def converse(request: Request) -> Response:
    gw, turn, extras, authorization, guardrails = await _prepare(request, stream=False)
    check = guardrails.check_applied if guardrails else None
    try:
        data, litellm_headers = await gw.chat.complete(turn, authorization, check)
    except GatewayError as exc:
        blocked = guardrails.intervention(exc) if guardrails else None
        if blocked is None:
            raise
        _not_stored(turn)
        return JSONBody(guardrails.blocked_response(blocked, turn.latency_ms()), headers=_headers(turn))
    reply = openai_response_to_converse(data, turn.latency_ms(), extras)
    trace = guardrails.trace() if guardrails else None
    if trace:
        reply["trace"] = trace
    return JSONBody(reply, headers=_headers(turn, litellm_headers))  # x-litellm-* (cost, model) as on OpenAI


async def converse_stream(request: Request) -> Response:
    gw, turn, extras, authorization, guardrails = await _prepare(request, stream=True)
    try:
        if guardrails and guardrails.whole_answer_first:
            data, litellm_headers = await gw.chat.complete(turn, authorization, guardrails.check_applied)
            events = _with_trace(whole_answer_events(data, turn.latency_ms(), extras), guardrails.trace())
            return _event_response(_encoded(events), _headers(turn, litellm_headers))
        check = guardrails.check_applied if guardrails else None
        stream = await gw.chat.stream(turn, authorization, include_usage=True, check=check)
    except GatewayError as exc:
        blocked = guardrails.intervention(exc) if guardrails else None
        if blocked is None:
            raise
        _not_stored(turn)
        return _event_response(_encoded(guardrails.blocked_events(blocked, turn.latency_ms())), _headers(turn))
    trace = guardrails.trace() if guardrails else None
    return _event_response(_frames(stream, extras, trace), _headers(turn, stream.headers))


def _headers(turn: PreparedTurn, litellm_headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(litellm_headers or {}), **history_headers(turn, SESSION_HEADER)}


def _not_stored(turn: PreparedTurn) -> None:
    """A turn a guardrail blocked is not stored (its text would be replayed into every later turn, and
    the guardrail would block the session from then on); a session it would have opened is not opened."""
    turn.history_skipped = "a guardrail intervened: this turn is not stored"
    if turn.session is not None and turn.session.new:
        turn.session = None


def _event_response(frames: AsyncIterator[bytes], headers: dict[str, str]) -> StreamingResponse:
    return StreamingResponse(frames, media_type=CONTENT_TYPE, headers=headers)


async def _encoded(events: Iterable[Event]) -> AsyncIterator[bytes]:
    yield b"".join(encode_event(name, payload) for name, payload in events)


def _with_trace(events: list[Event], trace: dict | None) -> list[Event]:
    """``trace`` goes into the stream's final ``metadata`` event (``ConverseStreamMetadataEvent.trace``)."""
    if not trace:
        return events
    return [(name, {**payload, "trace": trace} if name == "metadata" else payload) for name, payload in events]


async def _frames(stream: ChatStream, extras: ResponseExtras, trace: dict | None = None) -> AsyncIterator[bytes]:
    """Translate upstream chunks to event-stream frames as they arrive; errors become exception frames."""
    translator = ConverseStreamTranslator(extras)
    try:
        async for _, chunk in stream.events():
            if chunk is None:
                continue
            events = translator.feed(chunk)
            if events:
                yield b"".join(encode_event(name, payload) for name, payload in events)
        final = _with_trace(translator.finish(stream.turn.latency_ms()), trace)
        yield b"".join(encode_event(name, payload) for name, payload in final)
    except GatewayError as exc:
        yield encode_gateway_error(exc)
