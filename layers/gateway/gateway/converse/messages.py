"""OpenAI-format messages -> Converse-format messages, plus the tables both directions share.

Used to show stored chat history (kept in OpenAI canonical form) in Converse format, and by the
response translation (an OpenAI assistant message -> Converse content blocks).

Choices worth knowing:
- Converse requires alternating roles, so consecutive messages of the same role are merged
  (tool results and the user text that follows them become one user turn, as Bedrock expects);
  messages that end up with no content are dropped.
- Content that Converse cannot carry (an image given by http URL, a file given by id, audio) becomes
  a visible text placeholder such as ``[image: https://...]`` rather than an error, so one odd stored
  message never makes a whole history unreadable. Malformed structure is still a validation error.
- A tool message's text is returned as text; the "Error: " prefix written for failed tool results
  is not parsed back into ``status`` (it cannot be told apart from a tool that printed "Error: ").
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from typing import Any

from gateway.converse.citations import converse_document
from gateway.errors import validation

IMAGE_MIME = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
DOCUMENT_MIME = {
    "pdf": "application/pdf",
    "csv": "text/csv",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "txt": "text/plain",
    "md": "text/markdown",
}
_MIME_TO_IMAGE = {mime: fmt for fmt, mime in IMAGE_MIME.items()} | {"image/jpg": "jpeg"}
_MIME_TO_DOCUMENT = {mime: fmt for fmt, mime in DOCUMENT_MIME.items()}
_DATA_URL = re.compile(r"data:([^;,]+)(?:;[^,;]*)*;base64,(.*)", re.DOTALL)


def parse_tool_arguments(arguments: Any) -> Any:
    """OpenAI tool-call ``arguments`` (a JSON string) -> Converse ``toolUse.input``.

    Blank -> ``{}``; valid JSON -> the parsed value; otherwise the raw string is kept (lossless:
    ``input`` is a Document, so a string is legal and the caller still sees what the model wrote).
    """
    if isinstance(arguments, (dict, list)):
        return arguments
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def encode_redacted(data: str) -> str:
    """LiteLLM ``redacted_thinking.data`` -> Converse ``redactedContent`` (a blob, base64 on the wire)."""
    return base64.b64encode(data.encode()).decode("ascii")


def decode_redacted(blob: str) -> str:
    """Converse ``redactedContent`` (base64) -> LiteLLM ``redacted_thinking.data`` (inverse of encode)."""
    try:
        return base64.b64decode(blob, validate=True).decode()
    except (binascii.Error, ValueError):
        return blob


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def reasoning_blocks(message: dict) -> list[dict]:
    """Converse ``reasoningContent`` blocks from LiteLLM's ``thinking_blocks`` or ``reasoning_content``."""
    blocks: list[dict] = []
    for tb in _dicts(message.get("thinking_blocks")):
        if tb.get("type") == "redacted_thinking" and isinstance(tb.get("data"), str):
            blocks.append({"reasoningContent": {"redactedContent": encode_redacted(tb["data"])}})
        elif tb.get("type") == "thinking":
            text = {"text": _str(tb.get("thinking"))}
            if _str(tb.get("signature")):
                text["signature"] = tb["signature"]
            blocks.append({"reasoningContent": {"reasoningText": text}})
    if not blocks and _str(message.get("reasoning_content")):
        blocks.append({"reasoningContent": {"reasoningText": {"text": message["reasoning_content"]}}})
    return blocks


def assistant_content(message: dict) -> list[dict]:
    """An OpenAI assistant message -> Converse content: reasoning, then text, then one toolUse per call."""
    blocks = reasoning_blocks(message)
    blocks.extend(_text_blocks(message.get("content"), "message.content"))
    for call in _dicts(message.get("tool_calls")):
        fn = call.get("function") if isinstance(call.get("function"), dict) else {}
        tool_use = {
            "toolUseId": _str(call.get("id")) or f"tooluse_{uuid.uuid4().hex[:24]}",
            "name": _str(fn.get("name")),
            "input": parse_tool_arguments(fn.get("arguments")),
        }
        blocks.append({"toolUse": tool_use})
    return blocks


def openai_messages_to_converse(messages: list[dict]) -> tuple[list[dict], list[dict]]:
    """OpenAI chat messages -> ``(system blocks, Converse messages)``."""
    if not isinstance(messages, list):
        raise validation("messages must be a list")
    system: list[dict] = []
    turns: list[dict] = []
    for i, msg in enumerate(messages):
        path = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise validation(f"{path} must be an object")
        role = msg.get("role")
        if role in ("system", "developer"):
            system.extend(_text_blocks(msg.get("content"), f"{path}.content"))
            continue
        convert = _ROLE_CONVERTERS.get(role) if isinstance(role, str) else None
        if convert is None:
            raise validation(f"{path}.role must be one of system, developer, user, assistant, tool")
        conv_role, content = convert(msg, path)
        if not content:
            continue
        if turns and turns[-1]["role"] == conv_role:
            turns[-1]["content"].extend(content)
        else:
            turns.append({"role": conv_role, "content": content})
    return system, turns


def _user(msg: dict, path: str) -> tuple[str, list[dict]]:
    return "user", _parts_to_blocks(msg.get("content"), f"{path}.content")


def _assistant(msg: dict, path: str) -> tuple[str, list[dict]]:
    if not isinstance(msg.get("tool_calls") or [], list):
        raise validation(f"{path}.tool_calls must be a list")
    return "assistant", assistant_content(msg)


def _tool(msg: dict, path: str) -> tuple[str, list[dict]]:
    call_id = msg.get("tool_call_id")
    if not isinstance(call_id, str):
        raise validation(f"{path}.tool_call_id must be a string")
    content = _parts_to_blocks(msg.get("content"), f"{path}.content")
    result = [b for b in content if "cachePoint" not in b]
    return "user", [{"toolResult": {"toolUseId": call_id, "content": result}}]


_ROLE_CONVERTERS = {"user": _user, "assistant": _assistant, "tool": _tool}


def _text_blocks(content: Any, path: str) -> list[dict]:
    """Text-only content (system, assistant): a string or a list of text/refusal parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise validation(f"{path} must be a string or a list of content parts")
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict):
            raise validation(f"{path}[{j}] must be an object")
        text = part.get("text") if part.get("type") == "text" else part.get("refusal")
        if isinstance(text, str) and text:
            texts.append({"text": text})
    return texts


def _parts_to_blocks(content: Any, path: str) -> list[dict]:
    """User/tool content (string or parts) -> Converse blocks; ``cache_control`` -> a cachePoint after."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise validation(f"{path} must be a string or a list of content parts")
    blocks: list[dict] = []
    for j, part in enumerate(content):
        if not isinstance(part, dict):
            raise validation(f"{path}[{j}] must be an object")
        kind = part.get("type")
        convert = _PART_CONVERTERS.get(kind) if isinstance(kind, str) else None
        block = convert(part) if convert else {"text": f"[{kind} content omitted]"}
        if block is None:
            continue
        blocks.append(block)
        if isinstance(part.get("cache_control"), dict):
            point = {"type": "default"}
            if part["cache_control"].get("ttl") in ("5m", "1h"):
                point["ttl"] = part["cache_control"]["ttl"]
            blocks.append({"cachePoint": point})
    return blocks


def _text_part(part: dict) -> dict | None:
    text = part.get("text")
    return {"text": text} if isinstance(text, str) and text else None


def _image_part(part: dict) -> dict:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    match = _DATA_URL.fullmatch(url) if isinstance(url, str) else None
    if match:
        mime, data = match.group(1).lower(), match.group(2)
        if mime in _MIME_TO_IMAGE:
            return {"image": {"format": _MIME_TO_IMAGE[mime], "source": {"bytes": data}}}
        if mime in _MIME_TO_DOCUMENT:
            return _document(mime, data, "document")
    return {"text": f"[image: {url if isinstance(url, str) and not match else 'unsupported data'}]"}


def _file_part(part: dict) -> dict:
    file = part.get("file") if isinstance(part.get("file"), dict) else {}
    match = _DATA_URL.fullmatch(_str(file.get("file_data")))
    mime = match.group(1).lower() if match else ""
    name = _str(file.get("filename"))
    if match and mime in _MIME_TO_DOCUMENT:
        return _document(mime, match.group(2), name or "document")
    if match and mime in _MIME_TO_IMAGE:
        return {"image": {"format": _MIME_TO_IMAGE[mime], "source": {"bytes": match.group(2)}}}
    return {"text": f"[file: {name or _str(file.get('file_id')) or 'unknown'}]"}


def _document(mime: str, data: str, filename: str) -> dict:
    fmt = _MIME_TO_DOCUMENT[mime]
    # translate.py appends ".<format>" to the Converse name; take it off again for a lossless round trip.
    name = filename.removesuffix(f".{fmt}") or filename
    return {"document": {"format": fmt, "name": name, "source": {"bytes": data}}}


_PART_CONVERTERS = {
    "text": _text_part,
    "image_url": _image_part,
    "file": _file_part,
    "refusal": lambda part: _text_part({"text": part.get("refusal")}),
    "document": lambda part: converse_document(part) or {"text": "[document content omitted]"},
}
