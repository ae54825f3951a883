"""Responses API items ⇄ chat-history messages (pure; no I/O).

Chat history stores OpenAI chat messages (the canonical form every route reads). A response's
input and output items are stored as the messages a chat completion would have produced:

- ``message`` (user, system, developer): the same role; parts ``input_text`` → ``text``,
  ``input_image`` → ``image_url``, ``input_file`` → ``file``;
- ``message`` (assistant): ``assistant`` with the text of its ``output_text``/``refusal`` parts;
- ``function_call``: a ``tool_calls`` entry (``call_id`` → ``id``) of the assistant message;
- ``function_call_output``: a ``tool`` message (``call_id`` → ``tool_call_id``);
- ``reasoning``: the assistant message's ``reasoning_content`` (summary text) and signed
  ``thinking_blocks`` (LiteLLM's ``encrypted_content`` form of them).

Reasoning, text and function calls that follow each other form one assistant message, as one
chat completion answer does. The reverse mapping gives the items in the order reasoning, message,
function calls. Other item types (hosted tools, item references) cannot be expressed as chat
messages: a response that needs them stored is refused with a 400 naming the item.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from gateway.errors import validation

INPUT_ROLES = frozenset({"user", "system", "developer"})
_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "refusal", "summary_text", "reasoning_text"})
_FILE_FIELDS = ("file_data", "file_id", "filename")


def input_items(value: Any) -> list[dict]:
    """The request's ``input`` as a list of items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise validation("input must be a string or a list of item objects", param="input")
    return value


def item_type(item: dict) -> Any:
    """An item's type; an item with a ``role`` and no ``type`` is a message (EasyInputMessage)."""
    return item.get("type", "message" if "role" in item else None)


# -- items → chat messages -------------------------------------------------------------------------


def items_to_messages(items: list[dict], *, where: str = "input") -> list[dict]:
    """Chat messages for ``items``; a 400 naming the first item that has no chat form."""
    out: list[dict] = []
    assistant: dict | None = None

    def flush() -> None:
        nonlocal assistant
        if assistant is not None:
            if assistant.get("reasoning_content") == "":
                del assistant["reasoning_content"]
            if len(assistant) > 1:  # an empty reasoning item alone has nothing to keep or replay
                assistant.setdefault("content", None)
                out.append(assistant)
            assistant = None

    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise validation(f"{at} must be an object", param=where)
        kind = item_type(item)
        if kind == "message":
            role = item.get("role")
            if role == "assistant":
                if assistant is not None and (assistant.get("content") is not None or assistant.get("tool_calls")):
                    flush()
                assistant = assistant or {"role": "assistant"}
                assistant["content"] = _assistant_text(item.get("content"), at)
            elif role in INPUT_ROLES:
                flush()
                out.append({"role": role, "content": _input_content(item.get("content"), at)})
            else:
                raise validation(f"{at}.role must be user, system, developer or assistant", param=where)
        elif kind == "function_call":
            call_id, name, arguments = (item.get(k) for k in ("call_id", "name", "arguments"))
            if not all(isinstance(v, str) and v for v in (call_id, name)) or not isinstance(arguments, str):
                raise validation(f"{at}: a function_call needs string call_id, name and arguments", param=where)
            assistant = assistant or {"role": "assistant"}
            call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            assistant.setdefault("tool_calls", []).append(call)
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str) or not call_id:
                raise validation(f"{at}: a function_call_output needs a string call_id", param=where)
            flush()
            out.append({"role": "tool", "tool_call_id": call_id, "content": _tool_output(item.get("output"), at)})
        elif kind == "reasoning":
            if assistant is not None and (
                assistant.get("content") is not None or assistant.get("tool_calls") or "reasoning_content" in assistant
            ):
                flush()
            assistant = assistant or {"role": "assistant"}
            text = _reasoning_text(item, at)
            assistant["reasoning_content"] = text
            blocks = decode_thinking_blocks(item.get("encrypted_content"))
            if blocks:
                assistant["thinking_blocks"] = blocks
        elif kind == "item_reference":
            raise validation(
                f"{at}: item references are not supported by the gateway; send the item itself, or "
                "previous_response_id / conversation to continue a stored response",
                param=where,
            )
        else:
            raise validation(
                f"{at}: items of type {kind!r} cannot be kept in chat history (supported: message, "
                "function_call, function_call_output, reasoning); send store: false to use them",
                param=where,
            )
    flush()
    return out


def _text_of_parts(parts: list, at: str) -> str:
    texts = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or part.get("type") not in _TEXT_PARTS or not isinstance(part.get("text"), str):
            if isinstance(part, dict) and part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                texts.append(part["refusal"])
                continue
            raise validation(f"{at}.content[{i}] must be a text part", param="input")
        texts.append(part["text"])
    return "".join(texts)


def _assistant_text(content: Any, at: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return _text_of_parts(content, at)
    raise validation(f"{at}.content must be a string or a list of output_text parts", param="input")


def _input_content(content: Any, at: str) -> str | list[dict]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        raise validation(f"{at}.content must be a string or a non-empty list of content parts", param="input")
    return [_input_part(part, f"{at}.content[{i}]") for i, part in enumerate(content)]


def _input_part(part: Any, at: str) -> dict:
    if not isinstance(part, dict):
        raise validation(f"{at} must be an object", param="input")
    kind = part.get("type")
    if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
        return {"type": "text", "text": part["text"]}
    if kind == "input_image" and isinstance(part.get("image_url"), str) and part["image_url"]:
        image = {"url": part["image_url"]}
        if isinstance(part.get("detail"), str):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file" and any(isinstance(part.get(k), str) for k in _FILE_FIELDS):
        return {"type": "file", "file": {k: part[k] for k in _FILE_FIELDS if isinstance(part.get(k), str)}}
    raise validation(
        f"{at}: content parts of type {kind!r} (or without their data) cannot be kept in chat history "
        "(supported: input_text, input_image with image_url, input_file with file_data or file_id)",
        param="input",
    )


def _tool_output(output: Any, at: str) -> str | list[dict]:
    if isinstance(output, str):
        return output
    if isinstance(output, list) and output:
        return [_input_part(part, f"{at}.output[{i}]") for i, part in enumerate(output)]
    raise validation(f"{at}.output must be a string or a list of content parts", param="input")


def _reasoning_text(item: dict, at: str) -> str:
    for field in ("summary", "content"):
        parts = item.get(field)
        if parts is None:
            continue
        if not isinstance(parts, list):
            raise validation(f"{at}.{field} must be a list", param="input")
        if parts:
            return "\n\n".join(_text_of_parts([p], f"{at}.{field}") for p in parts)
    return ""


def decode_thinking_blocks(encrypted: Any) -> list[dict] | None:
    """Signed thinking blocks from LiteLLM's ``encrypted_content`` (a JSON list), else None.

    Another provider's opaque ``encrypted_content`` has no chat form and is not kept.
    """
    if not isinstance(encrypted, str) or not encrypted.startswith("["):
        return None
    try:
        blocks = json.loads(encrypted)
    except ValueError:
        return None
    if not isinstance(blocks, list):
        return None
    kept = [b for b in blocks if isinstance(b, dict) and _signed(b)]
    return kept or None


def _signed(block: dict) -> bool:
    if block.get("type") == "thinking":
        return bool(block.get("signature"))
    return block.get("type") == "redacted_thinking" and bool(block.get("data"))


def encode_thinking_blocks(blocks: Any) -> str | None:
    """LiteLLM's ``encrypted_content`` form of signed thinking blocks (what its bridge decodes)."""
    if not isinstance(blocks, list):
        return None
    kept = decode_thinking_blocks(json.dumps(blocks))
    if not kept:
        return None
    return json.dumps([{k: v for k, v in b.items() if k != "index"} for b in kept], separators=(",", ":"))


# -- chat messages → items -------------------------------------------------------------------------

ItemIds = Callable[[str, int], str]  # (prefix, index of the item within its message) → item id


def message_to_items(message: dict, ids: ItemIds | None = None) -> list[dict]:
    """The Responses items of one stored chat message (order: reasoning, message, function calls)."""
    role = message.get("role")
    items: list[dict] = []

    def add(prefix: str, item: dict) -> None:
        if ids is not None:
            item = {"id": ids(prefix, len(items)), **item}
        items.append(item)

    if role == "tool":
        add("fco", {"type": "function_call_output", "call_id": message.get("tool_call_id") or "",
                    "output": _output_parts(message.get("content")), "status": "completed"})  # fmt: skip
        return items
    if role != "assistant":
        content = _input_parts(message.get("content"))
        if ids is not None and isinstance(content, str):  # listed items always carry parts, as OpenAI's do
            content = [{"type": "input_text", "text": content}]
        add("msg", {"type": "message", "role": role, "content": content, "status": "completed"})
        return items
    reasoning = message.get("reasoning_content")
    encrypted = encode_thinking_blocks(message.get("thinking_blocks"))
    if reasoning or encrypted:
        item: dict = {"type": "reasoning", "summary": []}
        if reasoning:
            item["summary"] = [{"type": "summary_text", "text": reasoning}]
        if encrypted:
            item["encrypted_content"] = encrypted
        add("rs", item)
    text = _plain_text(message.get("content"))
    if text:
        add("msg", {"type": "message", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]})  # fmt: skip
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        add("fc", {"type": "function_call", "call_id": call.get("id") or "", "name": function.get("name") or "",
                   "arguments": function.get("arguments") or "", "status": "completed"})  # fmt: skip
    return items


def messages_to_input(messages: list[dict], session_id: str) -> list[dict]:
    """A stored chain as input items for the model (reasoning items get stable ``rs_<uuid4>`` ids)."""
    items: list[dict] = []
    for position, message in enumerate(messages):
        for item in message_to_items(message):
            if item["type"] == "reasoning":
                item = {"id": reasoning_id(session_id, position), **item}
            else:
                item.pop("status", None)
            items.append(item)
    return items


def reasoning_id(session_id: str, position: int) -> str:
    """A stable ``rs_`` + uuid4-form id (the form LiteLLM mints for the reasoning it bridges)."""
    digest = hashlib.sha256(f"{session_id}:{position}".encode()).digest()[:16]
    return f"rs_{uuid.UUID(bytes=digest, version=4)}"


def _plain_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _input_parts(content: Any) -> Any:
    if not isinstance(content, list):
        return content if isinstance(content, str) else ""
    return [_response_part(part) for part in content]


def _output_parts(content: Any) -> Any:
    return content if isinstance(content, str) else _input_parts(content)


def _response_part(part: Any) -> Any:
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "text":
        return {"type": "input_text", "text": part.get("text", "")}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        detail = image.get("detail", "auto") if isinstance(image, dict) else "auto"
        return {"type": "input_image", "image_url": url, "detail": detail}
    if kind == "file":
        file = part.get("file") if isinstance(part.get("file"), dict) else {}
        return {"type": "input_file", **{k: file[k] for k in _FILE_FIELDS if k in file}}
    return part  # a chat-only part (e.g. input_audio) is shown as stored
