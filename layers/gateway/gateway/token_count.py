"""``CountTokens`` (``POST /bedrock/model/{modelId}/count-tokens``): which LiteLLM call counts the input.

The request holds exactly one of ``input.invokeModel.body`` — the InvokeModel body, an Anthropic
Messages JSON document, base64-encoded as boto3 sends blobs — or ``input.converse`` (Converse
``messages``, ``system``, ``toolConfig``). LiteLLM counts both with the tokenizer of the model the id
resolves to (the provider's own counting endpoint where it has one, else its local tokenizer):

- Anthropic Messages → ``POST /v1/messages/count_tokens`` (``{"input_tokens": N}``), which asks the
  provider's own counting endpoint. When that fails (a provider or an OpenAI-compatible server
  without one), the same messages, system and tools are estimated with LiteLLM's local tokenizer
  (:attr:`CountCall.fallback`), so a client's count never fails for want of a provider endpoint;
- Converse → translated to OpenAI messages and tools (the Converse route's own translator) →
  ``POST /utils/token_counter`` (``{"total_tokens": N, …}``).

Pure: the route sends the call and reads the answer with :func:`input_tokens`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from gateway.converse.translate import converse_request_to_openai
from gateway.errors import ErrorKind, GatewayError, validation
from gateway.web.requests import parse_json_object

ANTHROPIC_COUNT_PATH = "/v1/messages/count_tokens"
OPENAI_COUNT_PATH = "/utils/token_counter"
_MEMBERS = ("invokeModel", "converse")
_CONVERSE_FIELDS = frozenset({"messages", "system", "toolConfig", "additionalModelRequestFields"})
# Bedrock-only fields of an InvokeModel body: the version is implied by the route, betas by the model.
_INVOKE_ONLY_FIELDS = ("anthropic_version", "anthropic_beta")


@dataclass(frozen=True)
class CountCall:
    path: str
    body: dict[str, Any]
    #: The local estimate to use when the provider cannot count (``None``: the call is already local).
    fallback: CountCall | None = None


def count_tokens_call(litellm_model: str, request: dict[str, Any]) -> CountCall:
    """The LiteLLM call that counts the input of a CountTokens request body; a 400 naming what is wrong."""
    unknown = sorted(set(request) - {"input"})
    if unknown:
        raise validation(f"unknown field '{unknown[0]}': a CountTokens request holds only 'input'")
    given = request.get("input")
    if not isinstance(given, dict):
        raise validation("input is required: an object with exactly one of 'invokeModel' or 'converse'")
    members = [m for m in _MEMBERS if given.get(m) is not None]
    extra = sorted(set(given) - set(_MEMBERS))
    if extra or len(members) != 1:
        raise validation("input must hold exactly one of 'invokeModel' or 'converse'")
    if members[0] == "invokeModel":
        return _invoke_model(litellm_model, given["invokeModel"])
    return _converse(litellm_model, given["converse"])


def _invoke_model(litellm_model: str, invoke: Any) -> CountCall:
    if not isinstance(invoke, dict) or set(invoke) != {"body"} or not isinstance(invoke["body"], str):
        raise validation("input.invokeModel must be {'body': <the InvokeModel body, base64-encoded>}")
    try:
        raw = base64.b64decode(invoke["body"], validate=True)
    except (binascii.Error, ValueError):
        raise validation("input.invokeModel.body is not base64") from None
    try:
        body = parse_json_object(raw)
    except GatewayError as exc:
        raise validation(f"input.invokeModel.body: {exc.message}") from None
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise validation(
            "input.invokeModel.body must be an Anthropic Messages request "
            "(anthropic_version, messages, system, tools …) with a non-empty 'messages' list"
        )
    counted = {k: v for k, v in body.items() if k not in _INVOKE_ONLY_FIELDS}
    estimate: dict[str, Any] = {"model": litellm_model, "messages": messages}
    if body.get("system"):
        estimate["system"] = body["system"]
    tools = [_openai_tool(t) for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t]
    if tools:
        estimate["tools"] = tools
    return CountCall(
        ANTHROPIC_COUNT_PATH, {**counted, "model": litellm_model}, fallback=CountCall(OPENAI_COUNT_PATH, estimate)
    )


def _openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic custom tool as the OpenAI function tool LiteLLM's local counter reads."""
    function = {"name": tool.get("name"), "parameters": tool.get("input_schema")}
    if tool.get("description"):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _converse(litellm_model: str, converse: Any) -> CountCall:
    if not isinstance(converse, dict):
        raise validation("input.converse must be an object with 'messages' (and 'system', 'toolConfig')")
    unknown = sorted(set(converse) - _CONVERSE_FIELDS)
    if unknown:
        raise validation(f"unknown field 'input.converse.{unknown[0]}'")
    openai = converse_request_to_openai(litellm_model, converse).openai_body
    body: dict[str, Any] = {"model": litellm_model, "messages": openai["messages"]}
    if openai.get("tools"):
        body["tools"] = openai["tools"]
    return CountCall(OPENAI_COUNT_PATH, body)


def input_tokens(call: CountCall, answer: dict[str, Any]) -> int:
    """The count in LiteLLM's answer to ``call``."""
    value = answer.get("input_tokens" if call.path == ANTHROPIC_COUNT_PATH else "total_tokens")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GatewayError(ErrorKind.MODEL_ERROR, "the model gateway returned no token count")
    return value
