"""The structure of OpenAI chat messages, checked before LiteLLM sees them.

LiteLLM (1.108.7) answers some malformed messages with a 500 (a ``KeyError`` in its provider code:
a user message without ``content``, an ``image_url`` part without its URL …), which a client would
see as a server error. Only what the OpenAI API itself refuses is refused here, with a 400 naming
the field; content part types the gateway does not know are left to LiteLLM and the provider.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import validation

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_CONTENT_REQUIRED = frozenset({"system", "developer", "user", "tool"})


def check_messages(messages: Any) -> None:
    """Raise a 400 for the first message OpenAI's API would refuse for its structure.

    ``messages`` absent or not a list is left to the chat service (a prompt ARN may supply them).
    """
    if not isinstance(messages, list):
        return
    for i, message in enumerate(messages):
        path = f"messages[{i}]"
        if not isinstance(message, dict):
            raise validation(f"{path} must be a message object", param="messages")
        role = message.get("role")
        if role not in ROLES:
            raise validation(f"{path}.role must be one of {', '.join(ROLES)}", param="messages")
        if role in _CONTENT_REQUIRED and "content" not in message:
            raise validation(f"{path}.content is required for a {role} message", param="messages")
        _check_content(message.get("content"), f"{path}.content")
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise validation(f"{path}.tool_call_id must be a string", param="messages")
        if role == "assistant" and message.get("tool_calls") is not None:
            _check_tool_calls(message["tool_calls"], f"{path}.tool_calls")


def _check_content(content: Any, path: str) -> None:
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise validation(f"{path} must be a string, a list of content parts or null", param="messages")
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise validation(f"{path}[{j}] must be an object with a string 'type'", param="messages")
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise validation(f"{path}[{j}].text must be a string", param="messages")
        if part["type"] == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                raise validation(f"{path}[{j}].image_url.url must be a string", param="messages")


def _check_tool_calls(calls: Any, path: str) -> None:
    if not isinstance(calls, list):
        raise validation(f"{path} must be a list", param="messages")
    for k, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise validation(f"{path}[{k}].function.name must be a string", param="messages")
        if not isinstance(function.get("arguments", ""), str):
            raise validation(f"{path}[{k}].function.arguments must be a JSON string", param="messages")
