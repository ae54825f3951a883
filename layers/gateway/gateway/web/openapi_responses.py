"""The OpenAPI description of the Responses API routes (``responses_routes.py``), merged by ``openapi.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_REF = "#/components/schemas/"
_STRING = {"type": "string"}
_OBJECT = {"type": "object", "additionalProperties": True}
_ITEM = {
    "type": "object",
    "additionalProperties": True,
    "description": "a Responses item: message, function_call, function_call_output or reasoning",
}

_ITEMS_TO_ADD = {"type": "array", "minItems": 1, "maxItems": 20, "items": _ITEM}

ErrorResponses = Callable[..., dict[str, Any]]


def components() -> dict[str, Any]:
    return {
        "ResponseRequest": {
            "type": "object",
            "required": ["model", "input"],
            "additionalProperties": True,
            "properties": {
                "model": {"type": "string", "minLength": 1},
                "input": {"oneOf": [_STRING, {"type": "array", "items": _ITEM}]},
                "instructions": {"type": "string", "description": "for this response only (not carried over)"},
                "previous_response_id": {"type": "string", "description": "continue this stored response's chain"},
                "conversation": {
                    "description": "a conversation (a chat-history session) this response is added to",
                    "oneOf": [_STRING, {"type": "object", "required": ["id"], "properties": {"id": _STRING}}],
                },
                "store": {"type": "boolean", "default": True},
                "stream": {"type": "boolean", "default": False},
            },
        },
        "Response": {
            "type": "object",
            "required": ["id", "object", "output"],
            "additionalProperties": True,
            "properties": {
                "id": _STRING,
                "object": _STRING,
                "status": _STRING,
                "output": {"type": "array", "items": _ITEM},
                "session_id": {"type": "string", "description": "the chat-history session holding it"},
            },
        },
        "ConversationRequest": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "maxItems": 20, "items": _ITEM},
                "metadata": {"type": "object", "additionalProperties": _STRING},
            },
        },
        "Conversation": {
            "type": "object",
            "required": ["id", "object", "created_at", "metadata"],
            "properties": {
                "id": {"type": "string", "description": "conv_ + the chat-history session id"},
                "object": _STRING,
                "created_at": {"type": "integer"},
                "metadata": _OBJECT,
            },
        },
        "ResponseItemList": {
            "type": "object",
            "required": ["object", "data", "has_more"],
            "properties": {
                "object": _STRING,
                "data": {"type": "array", "items": _ITEM},
                "first_id": {"type": "string", "nullable": True},
                "last_id": {"type": "string", "nullable": True},
                "has_more": {"type": "boolean"},
            },
        },
    }


def _json(description: str, schema: str | dict) -> dict[str, Any]:
    body = {"$ref": _REF + schema} if isinstance(schema, str) else schema
    return {"description": description, "content": {"application/json": {"schema": body}}}


def _id_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_LIST_PARAMETERS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"], "default": "desc"}},
    {"name": "after", "in": "query", "schema": {"type": "string"}, "description": "an item id of the previous page"},
]


def paths(errors: ErrorResponses) -> dict[str, Any]:
    openai_errors = errors(bedrock=False)
    create_ok = _json("`stream: false`: the response", "Response")
    create_ok["content"]["text/event-stream"] = {"schema": _STRING}
    create_ok["description"] += "; `stream: true`: its server-sent events, `response.completed` last"
    create_ok["headers"] = {"x-history-skipped": {"schema": _STRING, "description": "why it was not stored"}}
    return {
        "/v1/responses": {
            "post": {
                "operationId": "createResponse",
                "summary": "OpenAI Responses API for any LiteLLM model, its state kept in chat history",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": _REF + "ResponseRequest"}}},
                },
                "responses": {"200": create_ok, **errors(bedrock=False, relayed=True)},
            }
        },
        "/v1/responses/{response_id}": {
            "get": {
                "operationId": "getResponse",
                "summary": "a stored response (the caller's own; the admin reads any)",
                "parameters": [_id_parameter("response_id")],
                "responses": {"200": _json("the response", "Response"), **openai_errors},
            },
            "delete": {
                "operationId": "deleteResponse",
                "summary": "delete a stored response (its messages stay in the conversation)",
                "parameters": [_id_parameter("response_id")],
                "responses": {"200": _json("deleted", _OBJECT), **openai_errors},
            },
        },
        "/v1/responses/{response_id}/input_items": {
            "get": {
                "operationId": "listResponseInputItems",
                "summary": "the input items of a stored response, paginated",
                "parameters": [_id_parameter("response_id"), *_LIST_PARAMETERS],
                "responses": {"200": _json("a page of items", "ResponseItemList"), **openai_errors},
            }
        },
        "/v1/conversations": {
            "post": {
                "operationId": "createConversation",
                "summary": "a new conversation (a chat-history session), optionally with items",
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"$ref": _REF + "ConversationRequest"}}},
                },
                "responses": {"200": _json("the conversation", "Conversation"), **openai_errors},
            }
        },
        "/v1/conversations/{conversation_id}": {
            "get": {
                "operationId": "getConversation",
                "summary": "a conversation (the caller's own; the admin reads any)",
                "parameters": [_id_parameter("conversation_id")],
                "responses": {"200": _json("the conversation", "Conversation"), **openai_errors},
            }
        },
        "/v1/conversations/{conversation_id}/items": {
            "get": {
                "operationId": "listConversationItems",
                "summary": "the conversation's items (its stored messages as Responses items), paginated",
                "parameters": [_id_parameter("conversation_id"), *_LIST_PARAMETERS],
                "responses": {"200": _json("a page of items", "ResponseItemList"), **openai_errors},
            },
            "post": {
                "operationId": "addConversationItems",
                "summary": "append items to the conversation (stored as its session's messages)",
                "parameters": [_id_parameter("conversation_id")],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["items"],
                                "properties": {
                                    "items": {"type": "array", "minItems": 1, "maxItems": 20, "items": _ITEM}
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _json("the added items", "ResponseItemList"), **openai_errors},
            },
        },
    }
