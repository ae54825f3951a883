"""The OpenAPI 3 document of the routes the gateway serves itself, at ``GET /gateway/openapi.json``.

It describes what this middleware answers — the OpenAI chat routes, the Bedrock Converse and
InvokeModel routes, chat history and the two account routes — with each route family's error format. Every other
path is LiteLLM's own API, relayed unchanged (LiteLLM documents it at ``/openapi.json``).

Converse shapes come from botocore's service model (``openapi_bedrock``); error statuses come from
``gateway.errors.ErrorKind``, so the document cannot drift from what the code answers. It is
built on first request, not at import (the Lambda's cold start does not pay for it).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import ErrorKind
from gateway.web import openapi_responses
from gateway.web.key_routes import KEY_WRITE_PATHS
from gateway.web.openapi_bedrock import ShapeSchemas, path_parameter
from gateway.web.openapi_discovery import discovery_paths

OPENAPI_PATH = "/gateway/openapi.json"
EVENTSTREAM = "application/vnd.amazon.eventstream"
_REF = "#/components/schemas/"

_STRING = {"type": "string"}
_SESSION_ID = {"type": "string", "minLength": 1, "description": "a stored conversation (chat history)"}
_ANY_OBJECT = {"type": "object", "additionalProperties": True}


async def openapi_route(_: Request) -> Response:
    return JSONResponse(openapi_document())


@functools.cache
def openapi_document() -> dict[str, Any]:
    shapes = ShapeSchemas()
    components = _openai_components() | _history_components() | _error_components()
    paths: dict[str, Any] = {}
    for path in ("/v1/chat/completions", "/chat/completions"):
        paths[path] = {"post": _chat_completions(path)}
    converse_in = shapes.body("Converse", "input")
    converse_in["properties"]["additionalModelRequestFields"] = {
        "description": "model parameters passed to LiteLLM as they are; `session_id` (a string) "
        "continues a stored conversation and is not sent to the model",
    }
    components["ConverseRequest"] = converse_in
    components["ConverseResponse"] = shapes.body("Converse", "output")
    shapes.ref("ConverseStreamOutput")  # documents the stream's events
    paths["/bedrock/model/{modelId}/converse"] = {"post": _converse(stream=False)}
    paths["/bedrock/model/{modelId}/converse-stream"] = {"post": _converse(stream=True)}
    components["AnthropicMessagesRequest"] = _ANTHROPIC_REQUEST
    paths["/bedrock/model/{modelId}/invoke"] = {"post": _invoke(stream=False)}
    paths["/bedrock/model/{modelId}/invoke-with-response-stream"] = {"post": _invoke(stream=True)}
    control = ShapeSchemas("bedrock")  # the control plane's shapes, for discovery
    paths |= discovery_paths(shapes, control, _error_responses(bedrock=True))
    paths["/chat-history"] = {"post": _history("OpenAI", "ChatHistoryRequest", "ChatHistory", bedrock=False)}
    paths["/bedrock/chat-history"] = {
        "post": _history("Converse", "ChatHistoryRequest", "BedrockChatHistory", bedrock=True)
    }
    paths["/session-ids"] = {"post": _history("", "SessionIdsRequest", "SessionIds", bedrock=False)}
    paths["/user/new"] = {"post": _account("/user/new")}
    for path in KEY_WRITE_PATHS:
        paths[path] = {"post": _account(path)}
    paths |= openapi_responses.paths(_error_responses)
    components |= openapi_responses.components()
    paths["/gateway/health"] = {"get": _health()}
    paths[OPENAPI_PATH] = {"get": _self()}
    clash = components.keys() & shapes.components.keys()
    assert not clash, f"component names used twice: {clash}"
    components |= shapes.components
    clash = {n for n in components.keys() & control.components.keys() if components[n] != control.components[n]}
    assert not clash, f"component names used twice: {clash}"
    components |= control.components
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "GenAI Gateway",
            "version": "1",
            "description": __doc__.split("\n\n")[1].replace("\n", " "),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the master key, a LiteLLM virtual key, or an OIDC (Okta) JWT",
                }
            },
        },
        "security": [{"bearer": []}],
    }


# ---------------------------------------------------------------- errors, per route family


def _error_responses(*, bedrock: bool, relayed: bool = False) -> dict[str, Any]:
    """One response per status the gateway's error kinds produce (plus LiteLLM's own on relays)."""
    out: dict[str, Any] = {}
    for kind in ErrorKind:
        shape = kind.shape
        status, name = (shape.bedrock_status, shape.bedrock_name) if bedrock else (shape.openai_status, None)
        entry = out.setdefault(str(status), {"names": [], "kinds": []})
        entry["kinds"].append(kind.name.lower().replace("_", " "))
        if name and name not in entry["names"]:
            entry["names"].append(name)
    responses = {status: _error_response(e["kinds"], e["names"], bedrock) for status, e in sorted(out.items())}
    if relayed:
        responses["4XX"] = _error_response(["LiteLLM's own refusal, relayed"], [], bedrock)
    return responses


def _error_response(kinds: list[str], names: list[str], bedrock: bool) -> dict[str, Any]:
    description = "; ".join(kinds)
    if not bedrock:
        return {"description": description, "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}}}
    header: dict[str, Any] = {"type": "string"}
    if names:
        header["enum"] = names
    return {
        "description": description,
        "headers": {"x-amzn-errortype": {"required": True, "schema": header}},
        "content": {"application/json": {"schema": {"$ref": _REF + "BedrockError"}}},
    }


def _error_components() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["message", "type", "code"],
                    "properties": {
                        "message": _STRING,
                        "type": _STRING,
                        "code": {"oneOf": [_STRING, {"type": "integer"}], "nullable": True},
                        "param": {"type": "string", "nullable": True},
                    },
                }
            },
        },
        "BedrockError": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": _STRING},
            "description": "the error's name is in the x-amzn-errortype header",
        },
    }


# ---------------------------------------------------------------- OpenAI chat


def _openai_components() -> dict[str, Any]:
    part = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["text", "image_url", "file", "input_audio", "refusal"]},
            "text": _STRING,
            "image_url": {"type": "object", "properties": {"url": _STRING, "detail": _STRING}},
            "file": {"type": "object", "properties": {"file_data": _STRING, "file_id": _STRING, "filename": _STRING}},
            "cache_control": _ANY_OBJECT,
        },
    }
    tool_call = {
        "type": "object",
        "required": ["id", "type", "function"],
        "properties": {
            "id": _STRING,
            "type": {"type": "string", "enum": ["function"]},
            "function": {
                "type": "object",
                "required": ["name", "arguments"],
                "properties": {"name": _STRING, "arguments": _STRING},
            },
        },
    }
    message = {
        "type": "object",
        "required": ["role"],
        "properties": {
            "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
            "content": {
                "nullable": True,
                "oneOf": [_STRING, {"type": "array", "items": {"$ref": _REF + "ContentPart"}}],
            },
            "name": _STRING,
            "tool_calls": {"type": "array", "items": {"$ref": _REF + "ToolCall"}},
            "tool_call_id": _STRING,
            "thinking_blocks": {"type": "array", "items": _ANY_OBJECT},
            "reasoning_content": {"type": "string", "nullable": True},
        },
    }
    request = {
        "type": "object",
        "required": ["model"],
        "additionalProperties": True,
        "description": "an OpenAI chat completion request; other provider parameters are passed to "
        "LiteLLM as they are. `messages` may be omitted only when `model` is a prompt ARN.",
        "properties": {
            "model": {"type": "string", "minLength": 1, "description": "a LiteLLM model name or a prompt ARN"},
            "messages": {"type": "array", "items": {"$ref": _REF + "ChatMessage"}},
            "stream": {"type": "boolean"},
            "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "max_tokens": {"type": "integer", "minimum": 1},
            "max_completion_tokens": {"type": "integer", "minimum": 1},
            "stop": {"oneOf": [_STRING, {"type": "array", "items": _STRING}]},
            "tools": {"type": "array", "items": _ANY_OBJECT},
            "tool_choice": {"oneOf": [_STRING, _ANY_OBJECT]},
            "response_format": _ANY_OBJECT,
            "user": _STRING,
            "metadata": _ANY_OBJECT,
            "session_id": _SESSION_ID,
            "promptVariables": {
                "type": "object",
                "additionalProperties": True,
                "description": "values for a prompt ARN's {{variables}}",
            },
        },
    }
    response = {
        "type": "object",
        "required": ["id", "object", "choices"],
        "properties": {
            "id": _STRING,
            "object": _STRING,
            "created": {"type": "integer"},
            "model": _STRING,
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "message": {"$ref": _REF + "ChatMessage"},
                        "finish_reason": {"type": "string", "nullable": True},
                    },
                },
            },
            "usage": _ANY_OBJECT,
            "session_id": _SESSION_ID,
        },
    }
    return {
        "ContentPart": part,
        "ToolCall": tool_call,
        "ChatMessage": message,
        "ChatCompletionRequest": request,
        "ChatCompletion": response,
    }


def _chat_completions(path: str) -> dict[str, Any]:
    return {
        "operationId": "chatCompletions" if path.startswith("/v1") else "chatCompletionsNoPrefix",
        "summary": "OpenAI chat completion through LiteLLM, with optional server-side history",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF + "ChatCompletionRequest"}}},
        },
        "responses": {
            "200": {
                "description": "`stream: false`: a chat completion; `stream: true`: server-sent events, "
                "one chat completion chunk per `data:` line, `data: [DONE]` last (errors after the first "
                "byte arrive as a `data:` line holding an error object)",
                "headers": {"x-history-skipped": {"schema": _STRING, "description": "why the turn was not stored"}},
                "content": {
                    "application/json": {"schema": {"$ref": _REF + "ChatCompletion"}},
                    "text/event-stream": {"schema": _STRING},
                },
            },
            **_error_responses(bedrock=False, relayed=True),
        },
    }


# ---------------------------------------------------------------- Bedrock Converse


def _converse(*, stream: bool) -> dict[str, Any]:
    if stream:
        ok = {
            "description": "an AWS event stream; each frame's payload is one member of ConverseStreamOutput "
            "(named by its `:event-type` header); failures after the first byte are exception frames",
            "content": {EVENTSTREAM: {"schema": {"type": "string", "format": "binary"}}},
        }
    else:
        ok = {
            "description": "the Converse response",
            "content": {"application/json": {"schema": {"$ref": _REF + "ConverseResponse"}}},
        }
    ok["headers"] = {"x-session-id": {"schema": _STRING, "description": "the stored conversation of this turn"}}
    return {
        "operationId": "converseStream" if stream else "converse",
        "summary": "Bedrock " + ("ConverseStream" if stream else "Converse") + " for any LiteLLM model",
        "parameters": [
            path_parameter(
                "modelId", "a LiteLLM model name (Bedrock ids are accepted as aliases) or a prompt ARN, URL-encoded"
            )
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF + "ConverseRequest"}}},
        },
        "responses": {"200": ok, **_error_responses(bedrock=True)},
    }


# ---------------------------------------------------------------- Bedrock InvokeModel (Anthropic Messages)

_ANTHROPIC_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "Anthropic's Messages request as Bedrock takes it: no `model` or `stream` (the path says "
    "which), `anthropic_beta` as a list; system, every content block type, tools, tool_choice, thinking, "
    "stop_sequences, temperature/top_p/top_k, metadata go to the model as they are",
    "required": ["anthropic_version", "max_tokens", "messages"],
    "properties": {
        "anthropic_version": {"type": "string", "example": "bedrock-2023-05-31"},
        "anthropic_beta": {"type": "array", "items": _STRING},
        "max_tokens": {"type": "integer", "minimum": 1},
        "messages": {"type": "array", "minItems": 1, "items": _ANY_OBJECT},
    },
    "additionalProperties": True,
}


def _invoke(*, stream: bool) -> dict[str, Any]:
    if stream:
        ok = {
            "description": "an AWS event stream of `chunk` events whose `bytes` (base64) hold Anthropic stream "
            "events; `message_stop` carries `amazon-bedrock-invocationMetrics`; failures after the first byte "
            "are exception frames",
            "content": {EVENTSTREAM: {"schema": {"type": "string", "format": "binary"}}},
        }
    else:
        ok = {
            "description": "the Anthropic Message",
            "content": {"application/json": {"schema": _ANY_OBJECT}},
        }
    return {
        "operationId": "invokeModelWithResponseStream" if stream else "invokeModel",
        "summary": "Bedrock "
        + ("InvokeModelWithResponseStream" if stream else "InvokeModel")
        + " with an Anthropic Messages body, for any LiteLLM model (no chat history)",
        "parameters": [
            path_parameter(
                "modelId", "a LiteLLM model name or a Bedrock model id (resolved through the alias map), URL-encoded"
            )
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF + "AnthropicMessagesRequest"}}},
        },
        "responses": {"200": ok, **_error_responses(bedrock=True)},
    }


# ---------------------------------------------------------------- history and accounts


def _history_components() -> dict[str, Any]:
    return {
        "ChatHistoryRequest": {
            "type": "object",
            "required": ["session_id"],
            "properties": {"session_id": _SESSION_ID},
        },
        "ChatHistory": {
            "type": "object",
            "required": ["session_id", "messages"],
            "properties": {
                "session_id": _STRING,
                "messages": {"type": "array", "items": {"$ref": _REF + "ChatMessage"}},
            },
        },
        "BedrockChatHistory": {
            "type": "object",
            "required": ["session_id", "messages", "system"],
            "properties": {
                "session_id": _STRING,
                "messages": {"type": "array", "items": {"$ref": _REF + "Message"}},
                "system": {"type": "array", "items": {"$ref": _REF + "SystemContentBlock"}},
            },
        },
        "SessionIdsRequest": {
            "type": "object",
            "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                "next_token": {"type": "string", "description": "`next_token` of the previous page"},
            },
        },
        "SessionIds": {
            "type": "object",
            "required": ["session_ids", "next_token"],
            "properties": {
                "session_ids": {"type": "array", "items": _STRING},
                "next_token": {"type": "string", "nullable": True},
            },
        },
    }


def _history(fmt: str, request: str, response: str, *, bedrock: bool) -> dict[str, Any]:
    summary = f"a stored conversation in {fmt} format" if fmt else "the caller's sessions, newest first"
    return {
        "operationId": {"ChatHistory": "chatHistory", "BedrockChatHistory": "bedrockChatHistory"}.get(
            response, "sessionIds"
        ),
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": _REF + request}}}},
        "responses": {
            "200": {"description": summary, "content": {"application/json": {"schema": {"$ref": _REF + response}}}},
            **_error_responses(bedrock=bedrock),
        },
    }


def _account(path: str) -> dict[str, Any]:
    if path == "/user/new":
        summary = (
            "JWT: provision the token's user and return a new key for it (the body is not read); "
            "any other credential: LiteLLM's /user/new"
        )
    else:
        summary = (
            f"admins: LiteLLM's {path}; users and JWTs: their own keys only, from an allow-list of fields "
            "(a refused field is a 403 naming it)"
        )
    words = [w for w in re.split(r"[^A-Za-z]+", path) if w]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{(\w+)\}", path)
    ]
    return {
        "operationId": words[0] + "".join(w.capitalize() for w in words[1:]),
        **({"parameters": parameters} if parameters else {}),
        "summary": summary,
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {**_ANY_OBJECT, "description": "LiteLLM's request body"}}},
        },
        "responses": {
            "200": {
                "description": "LiteLLM's answer (for a JWT on /user/new: user_id, user_created, key, …)",
                "content": {"application/json": {"schema": _ANY_OBJECT}},
            },
            **_error_responses(bedrock=False, relayed=True),
        },
    }


# ---------------------------------------------------------------- the gateway's own service routes


def _health() -> dict[str, Any]:
    return {
        "operationId": "health",
        "summary": "liveness of the middleware (no credential needed)",
        "security": [],
        "responses": {
            "200": {
                "description": "the middleware is up",
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "required": ["status"], "properties": {"status": _STRING}}
                    }
                },
            }
        },
    }


def _self() -> dict[str, Any]:
    return {
        "operationId": "openapi",
        "summary": "this document",
        "responses": {
            "200": {"description": "OpenAPI 3.0", "content": {"application/json": {"schema": _ANY_OBJECT}}},
            **_error_responses(bedrock=False),
        },
    }
