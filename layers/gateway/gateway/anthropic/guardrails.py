"""InvokeModel's guardrail headers and body fields, and a guardrail's verdict in Anthropic Messages form.

Pure: the resolution and the reading of LiteLLM's block are shared with Converse
(``gateway.converse.guardrails``); this module only speaks InvokeModel's dialect of them.

- Request: ``X-Amzn-Bedrock-GuardrailIdentifier`` / ``-GuardrailVersion`` / ``-Trace`` name the
  guardrail (the version is required, as on Bedrock). The body's ``amazon-bedrock-guardrailConfig``
  (``tagSuffix``, ``streamProcessingMode``) is checked and taken out of the body (the model never sees
  it); without the identifier header it is a ValidationException, as on Bedrock.
- Answer: Bedrock adds ``amazon-bedrock-guardrailAction`` (``INTERVENED`` | ``NONE``) to the model's
  body and, when the trace is enabled, ``amazon-bedrock-trace: {"guardrail": ...}``; on the stream both
  travel in the last event (``message_stop``), next to the invocation metrics. A blocked request is
  answered with HTTP 200 and an Anthropic message whose text is the guardrail's message.
- The trace keeps InvokeModel's shape (``input: {<id>: assessment}``, ``outputs: [{<id>: assessment}]``),
  not Converse's (``inputAssessment``, ``outputAssessments``); the assessments are the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from gateway.converse.guardrails import (
    APPLIED_HEADER,
    GuardrailRequest,
    Intervention,
    ResolvedGuardrails,
    guardrail_request_from_headers,
)
from gateway.errors import validation

BODY_CONFIG_KEY = "amazon-bedrock-guardrailConfig"
ACTION_KEY = "amazon-bedrock-guardrailAction"
TRACE_KEY = "amazon-bedrock-trace"
IDENTIFIER_HEADER = "X-Amzn-Bedrock-GuardrailIdentifier"
_STREAM_MODES = ("SYNCHRONOUS", "ASYNCHRONOUS")
#: Anthropic has no stop reason for a guardrail; Bedrock's documented signal is ``ACTION_KEY``.
BLOCKED_STOP_REASON = "end_turn"


def invoke_guardrail_request(headers: Mapping[str, str], body_config: Any, *, stream: bool) -> GuardrailRequest | None:
    """The guardrail an invoke request asks for (``headers`` case-insensitive), its body config checked."""
    request = guardrail_request_from_headers(headers)
    if request is not None and request.version is None:
        # Bedrock: "You provide a guardrail identifier, but guardrailVersion isn't specified"
        raise validation(f"{IDENTIFIER_HEADER} needs X-Amzn-Bedrock-GuardrailVersion")
    if body_config is not None:
        _check_body_config(body_config, stream=stream)
        if request is None:
            raise validation(f"{BODY_CONFIG_KEY} in the body needs the {IDENTIFIER_HEADER} header")
    return request


def _check_body_config(value: Any, *, stream: bool) -> None:
    if not isinstance(value, dict):
        raise validation(f"{BODY_CONFIG_KEY} must be an object")
    allowed = ("tagSuffix", *(("streamProcessingMode",) if stream else ()))
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise validation(f"{BODY_CONFIG_KEY} has unknown field(s): {', '.join(unknown)}")
    suffix = value.get("tagSuffix")
    if suffix is not None and (not isinstance(suffix, str) or not suffix.strip()):
        raise validation(f"{BODY_CONFIG_KEY}.tagSuffix must be a non-empty string")
    mode = value.get("streamProcessingMode")
    if mode is not None and mode not in _STREAM_MODES:
        raise validation(f"{BODY_CONFIG_KEY}.streamProcessingMode must be one of {', '.join(_STREAM_MODES)}")


def passthrough_intervention(
    guardrails: ResolvedGuardrails, headers: Mapping[str, str], message: dict
) -> Intervention | None:
    """The block of a guardrail in passthrough mode (``disable_exception_on_block``), which LiteLLM's
    ``/v1/messages`` answers with a message it builds itself (``ModifyResponseException``): one text
    block, the guardrail's message, and neither the applied-guardrails header nor any other header of
    an answer LiteLLM processed (``x-litellm-call-id``). Anything else is not a block."""
    if not guardrails.passthrough or headers.get("x-litellm-call-id") is not None:
        return None
    applied = {g.strip() for g in (headers.get(APPLIED_HEADER) or "").split(",")}
    missing = [name for name in guardrails.names if name not in applied]
    content = message.get("content")
    if not missing or not isinstance(content, list) or len(content) != 1 or not isinstance(content[0], dict):
        return None
    text = content[0].get("text")
    if content[0].get("type") != "text" or not isinstance(text, str) or not text:
        return None
    return Intervention(", ".join(missing), text, False, {})


def invoke_trace(guardrails: ResolvedGuardrails, intervention: Intervention | None = None) -> dict | None:
    """``amazon-bedrock-trace`` (InvokeModel's shape of the Converse trace), when the request enabled it."""
    converse = guardrails.trace(intervention)
    if converse is None:
        return None
    guardrail = converse["guardrail"]
    out: dict[str, Any] = {}
    if "inputAssessment" in guardrail:
        out["input"] = guardrail["inputAssessment"]
    if "outputAssessments" in guardrail:
        out["outputs"] = [{key: item} for key, items in guardrail["outputAssessments"].items() for item in items]
    if "actionReason" in guardrail:
        out["actionReason"] = guardrail["actionReason"]
    return {"guardrail": out}


def verdict_fields(guardrails: ResolvedGuardrails, intervention: Intervention | None = None) -> dict:
    """What Bedrock adds to the model's body (or the stream's last event): the action and the trace."""
    fields: dict[str, Any] = {ACTION_KEY: "NONE" if intervention is None else "INTERVENED"}
    trace = invoke_trace(guardrails, intervention)
    if trace is not None:
        fields[TRACE_KEY] = trace
    return fields


def blocked_message(guardrails: ResolvedGuardrails, intervention: Intervention, model: str) -> dict:
    """The Anthropic message Bedrock answers when its guardrail intervenes (no tokens used or billed)."""
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": intervention.message}],
        "stop_reason": BLOCKED_STOP_REASON,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
        **verdict_fields(guardrails, intervention),
    }
