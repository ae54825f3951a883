"""Bedrock Converse request -> LiteLLM (OpenAI) chat/completions body, and OpenAI response -> Converse.

Top-level request fields, decided one by one (see ``_IGNORED`` / ``_REJECTED``):
- translated: messages, system, inferenceConfig, toolConfig, outputConfig (textFormat ->
  ``response_format``, effort -> ``reasoning_effort``), requestMetadata (-> LiteLLM ``metadata``),
  additionalModelRequestFields (merged; they win over translated fields, but may not set model,
  messages, stream or stream_options), promptVariables (returned, resolved elsewhere),
  serviceTier (-> ``service_tier``), performanceConfig and additionalModelResponseFieldPaths
  (they shape the response: ``converse/extras.py``).
- ignored (hints whose absence changes no answer): modelId (the URL's wins), projectIdentifier.
- rejected: anything the Converse API does not define. ``guardrailConfig`` is taken out of the body
  by the route before translation (``gateway.converse.guardrails``); here it would be unknown.

Messages: ``user`` and ``assistant`` turns, and Bedrock's mid-conversation ``system`` messages, which
become OpenAI ``system`` messages at the same place (text, ``guardContent``, ``cachePoint``; where the
provider takes them is LiteLLM's to decide: Claude models flagged ``supports_mid_conversation_system``
keep them in the conversation, other Claude models get them as user turns with an operator note, and
OpenAI-format providers take them as they are). Their ``toolAddition`` / ``toolRemoval`` blocks change
the tool set sent for this request (``converse/toolset.py``); an MCP ``serverName`` reference is rejected.
``toolConfig`` ``systemTool``: ``nova_grounding`` (web grounding) -> LiteLLM ``web_search_options`` (the
provider's web search; Nova on Bedrock gets ``nova_grounding`` back); other system tools are rejected.
``searchResult`` blocks (user turns and tool results) reach every model as tagged text (title, source,
content); LiteLLM 1.108.7 passes search result blocks to none, so no citations of them come back.

Content: ``cachePoint`` becomes LiteLLM ``cache_control`` on the part (or tool) right before it, and
is dropped where there is none; ``guardContent`` is sent as plain text/image. A failed tool result
(``status: "error"``) reaches the model as text prefixed with ``"Error: "``, the one signal every
provider understands. Documents keep their name, with ``.<format>`` appended as the file name;
documents with citations enabled become Anthropic ``document`` parts (``converse/citations.py``).
An assistant turn's ``citationsContent`` (a cited answer sent back) reaches the model as its text.
Message order/alternation and toolResult ids are not checked here: stored session history is
prepended later, so a lone toolResult turn may be valid.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from gateway.converse.citations import citable_document, citation_blocks, cited_text
from gateway.converse.extras import (
    NO_EXTRAS,
    ResponseExtras,
    cache_details,
    native_document,
    parse_response_extras,
    provider_fields,
    reported_stop,
)
from gateway.converse.messages import DOCUMENT_MIME, IMAGE_MIME, assistant_content, decode_redacted, reasoning_blocks
from gateway.converse.toolset import ToolChange, removed_tools, tool_change
from gateway.errors import ErrorKind, GatewayError, validation

_IGNORED = frozenset({"modelId", "projectIdentifier"})
_RESPONSE_SHAPING = frozenset({"performanceConfig", "serviceTier", "additionalModelResponseFieldPaths"})
_REJECTED: dict[str, str] = {}
_AUDIO_FORMATS = ("wav", "mp3")
_RESERVED_EXTRA = ("model", "messages", "stream", "stream_options")
_VIDEO_REASON = "LiteLLM's chat completions have no video input"
# Bedrock system tool -> the LiteLLM request fields that ask the model for the same thing
_SYSTEM_TOOLS: dict[str, dict[str, Any]] = {"nova_grounding": {"web_search_options": {}}}
_PROMPT_ARN = re.compile(r"arn:aws[a-z-]*:bedrock:[^:]*:\d*:prompt/.+")
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filtered",
}
_CONVERSE_STOP_REASONS = frozenset(
    {
        "end_turn",
        "tool_use",
        "max_tokens",
        "stop_sequence",
        "guardrail_intervened",
        "content_filtered",
        "malformed_model_output",
        "malformed_tool_use",
        "model_context_window_exceeded",
    }
)


@dataclass
class ConverseCall:
    openai_body: dict  # ready to POST to LiteLLM /v1/chat/completions (without "stream")
    session_id: str | None  # additionalModelRequestFields.session_id, removed from the upstream body
    prompt_variables: dict | None  # body["promptVariables"] as given (resolved elsewhere)
    extras: ResponseExtras = NO_EXTRAS  # what shapes the response (tier, field paths, stops)


def is_prompt_arn(model_id: str) -> bool:
    """True for a Prompt management ARN, where ``messages`` may be absent (they are appended)."""
    return bool(_PROMPT_ARN.fullmatch(model_id))


# ---------------------------------------------------------------- small validators (path-named errors)


def _obj(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise validation(f"{path} must be an object")
    return value


def _list(value: Any, path: str, *, non_empty: bool = False) -> list:
    if not isinstance(value, list):
        raise validation(f"{path} must be a list")
    if non_empty and not value:
        raise validation(f"{path} must not be empty")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise validation(f"{path} must be a non-empty string")
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise validation(f"{path} must be a number")
    return value


def _positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise validation(f"{path} must be a positive integer")
    return value


def _str_list(value: Any, path: str) -> list[str]:
    for k, item in enumerate(_list(value, path)):
        _str(item, f"{path}[{k}]")
    return value


def _known(value: dict, allowed: Collection[str], path: str) -> None:
    unknown = [k for k in value if k not in allowed]
    if unknown:
        raise validation(f"{path} has unknown field(s): {', '.join(sorted(map(str, unknown)))}")


def _union(value: Any, path: str, members: Collection[str]) -> tuple[str, Any]:
    """A Smithy union: an object with exactly one member set (None-valued members count as unset)."""
    if type(value) is dict and len(value) == 1:  # the common, valid case without building lists
        ((kind, member),) = value.items()
        if member is not None and kind in members:
            return kind, member
    set_members = [k for k, v in _obj(value, path).items() if v is not None]
    if len(set_members) != 1:
        got = ", ".join(map(str, set_members)) or "nothing"
        raise validation(f"{path} must set exactly one of {', '.join(members)} (got {got})")
    kind = set_members[0]
    if kind not in members:
        raise validation(f"{path} has unknown type '{kind}'; expected one of {', '.join(members)}")
    return kind, value[kind]


def _blob(value: Any, path: str) -> str:
    """A base64 blob as boto3 sends it over JSON; returned unchanged once checked."""
    if not isinstance(value, str) or not value:
        raise validation(f"{path} must be a non-empty base64 string")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise validation(f"{path} is not valid base64") from None
    return value


# ---------------------------------------------------------------- content blocks


def _text_part(value: Any, path: str) -> dict:
    if not isinstance(value, str):
        raise validation(f"{path} must be a string")
    return {"type": "text", "text": value}


def _image_part(value: Any, path: str) -> dict:
    value = _obj(value, path)
    fmt = value.get("format")
    if not isinstance(fmt, str) or fmt not in IMAGE_MIME:
        raise validation(f"{path}.format must be one of {', '.join(IMAGE_MIME)}")
    kind, source = _union(value.get("source"), f"{path}.source", ("bytes", "s3Location"))
    if kind == "s3Location":
        raise validation(f"{path}.source.s3Location is not supported: send the image as bytes")
    data = _blob(source, f"{path}.source.bytes")
    return {"type": "image_url", "image_url": {"url": f"data:{IMAGE_MIME[fmt]};base64,{data}"}}


def _document_part(value: Any, path: str) -> dict:
    value = _obj(value, path)
    _known(value, ("format", "name", "source", "context", "citations"), path)
    name = _str(value.get("name"), f"{path}.name")
    kind, source = _union(value.get("source"), f"{path}.source", ("bytes", "text", "content", "s3Location"))
    fmt = value.get("format", "txt" if kind in ("text", "content") else None)
    if not isinstance(fmt, str) or fmt not in DOCUMENT_MIME:
        raise validation(f"{path}.format must be one of {', '.join(DOCUMENT_MIME)}")
    spath = f"{path}.source.{kind}"
    if kind == "s3Location":
        raise validation(f"{spath} is not supported: send the document as bytes")
    if _citations_enabled(value, path):
        context = _text_part(value["context"], f"{path}.context")["text"] if value.get("context") is not None else None
        if kind == "bytes":
            source = _blob(source, spath)
        elif kind == "text":
            source = _text_part(source, spath)["text"]
        else:
            for k, block in enumerate(_list(source, spath)):
                _text_part(_union(block, f"{spath}[{k}]", ("text",))[1], f"{spath}[{k}].text")
        return citable_document(fmt, name, kind, source, context, path)
    if kind == "bytes":
        data = _blob(source, spath)
    else:
        if kind == "text":
            text = _text_part(source, spath)["text"]
        else:
            texts = [_union(b, f"{spath}[{k}]", ("text",))[1] for k, b in enumerate(_list(source, spath))]
            text = "\n".join(_text_part(t, f"{spath}[{k}].text")["text"] for k, t in enumerate(texts))
        data = base64.b64encode(text.encode()).decode("ascii")
    filename = name if name.endswith(f".{fmt}") else f"{name}.{fmt}"
    return {
        "type": "file",
        "file": {"file_data": f"data:{DOCUMENT_MIME[fmt]};base64,{data}", "filename": filename},
    }


def _audio_part(value: Any, path: str) -> dict:
    """OpenAI ``input_audio`` (wav and mp3 are the formats the OpenAI API and LiteLLM know)."""
    value = _obj(value, path)
    fmt = value.get("format")
    if fmt not in _AUDIO_FORMATS:
        raise validation(
            f"{path}.format must be one of {', '.join(_AUDIO_FORMATS)} (what OpenAI-format audio input takes)"
        )
    kind, source = _union(value.get("source"), f"{path}.source", ("bytes", "s3Location"))
    if kind == "s3Location":
        raise validation(f"{path}.source.s3Location is not supported: send the audio as bytes")
    return {"type": "input_audio", "input_audio": {"data": _blob(source, f"{path}.source.bytes"), "format": fmt}}


def _citations_enabled(document: dict, path: str) -> bool:
    if document.get("citations") is None:
        return False
    enabled = _obj(document["citations"], f"{path}.citations").get("enabled")
    if not isinstance(enabled, bool):
        raise validation(f"{path}.citations.enabled must be a boolean")
    return enabled


def _guard_part(value: Any, path: str) -> dict:
    kind, inner = _union(value, path, ("text", "image"))
    if kind == "image":
        return _image_part(inner, f"{path}.image")
    return _text_part(_obj(inner, f"{path}.text").get("text"), f"{path}.text.text")


def _cache_control(value: Any, path: str) -> dict:
    value = _obj(value, path)
    if value.get("type") != "default":
        raise validation(f"{path}.type must be default")
    control = {"type": "ephemeral"}
    if "ttl" in value:
        if value["ttl"] not in ("5m", "1h"):
            raise validation(f"{path}.ttl must be one of 5m, 1h")
        control["ttl"] = value["ttl"]
    return control


def _tool_call(value: Any, path: str) -> dict:
    value = _obj(value, path)
    if "input" not in value:
        raise validation(f"{path}.input is required")
    return {
        "id": _str(value.get("toolUseId"), f"{path}.toolUseId"),
        "type": "function",
        "function": {
            "name": _str(value.get("name"), f"{path}.name"),
            "arguments": json.dumps(value["input"], ensure_ascii=False),
        },
    }


def _search_result_part(value: Any, path: str) -> dict:
    """A ``searchResult`` as text every model reads (LiteLLM 1.108.7 passes search result blocks to none)."""
    value = _obj(value, path)
    _known(value, ("source", "title", "content", "citations"), path)
    title = _text_part(value.get("title"), f"{path}.title")["text"]
    source = _text_part(value.get("source"), f"{path}.source")["text"]
    texts = []
    for k, block in enumerate(_list(value.get("content"), f"{path}.content")):
        block = _obj(block, f"{path}.content[{k}]")
        _known(block, ("text",), f"{path}.content[{k}]")
        texts.append(_text_part(block.get("text"), f"{path}.content[{k}].text")["text"])
    _citations_enabled(value, path)  # checked; citations of search results are not produced (see docs)
    return {"type": "text", "text": search_result_text(title, source, texts)}


def search_result_text(title: str, source: str, texts: list[str]) -> str:
    """The text a ``searchResult`` block reaches the model as."""
    return "\n".join(
        ["<search_result>", f"title: {title}", f"source: {source}", "content:", *texts, "</search_result>"]
    )


def _no_video(value: Any, path: str) -> dict:
    raise validation(f"{path} content blocks are not supported: {_VIDEO_REASON}")


_TOOL_RESULT_PARTS: dict[str, Callable[[Any, str], dict]] = {
    "text": _text_part,
    "json": lambda v, p: {"type": "text", "text": json.dumps(v, ensure_ascii=False)},
    "image": _image_part,
    "document": _document_part,
    "searchResult": _search_result_part,
    "video": _no_video,
}


def _tool_message(value: Any, path: str) -> dict:
    value = _obj(value, path)
    call_id = _str(value.get("toolUseId"), f"{path}.toolUseId")
    status = value.get("status", "success")
    if status not in ("success", "error"):
        raise validation(f"{path}.status must be one of success, error")
    parts = []
    for k, block in enumerate(_list(value.get("content"), f"{path}.content")):
        kind, inner = _union(block, f"{path}.content[{k}]", _TOOL_RESULT_PARTS)
        parts.append(_TOOL_RESULT_PARTS[kind](inner, f"{path}.content[{k}].{kind}"))
    if all(p["type"] == "text" for p in parts):
        text = "\n".join(p["text"] for p in parts)
        content: str | list = ("Error: " + text if text else "Error") if status == "error" else text
    else:
        content = [{"type": "text", "text": "Error"}, *parts] if status == "error" else parts
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def _thinking_block(value: Any, path: str) -> dict:
    kind, inner = _union(value, path, ("reasoningText", "redactedContent"))
    if kind == "redactedContent":
        return {"type": "redacted_thinking", "data": decode_redacted(_blob(inner, f"{path}.redactedContent"))}
    inner = _obj(inner, f"{path}.reasoningText")
    text = _text_part(inner.get("text"), f"{path}.reasoningText.text")["text"]
    block = {"type": "thinking", "thinking": text}
    if inner.get("signature") is not None:
        block["signature"] = _text_part(inner["signature"], f"{path}.reasoningText.signature")["text"]
    return block


# block type -> (builder, role it is allowed in or None for every role, bucket)
_BLOCKS: dict[str, tuple[Callable[[Any, str], Any], str | None, str]] = {
    "text": (_text_part, None, "parts"),
    "guardContent": (_guard_part, None, "parts"),
    "image": (_image_part, "user", "parts"),
    "document": (_document_part, "user", "parts"),
    "toolUse": (_tool_call, "assistant", "tool_calls"),
    "toolResult": (_tool_message, "user", "tool_messages"),
    "reasoningContent": (_thinking_block, "assistant", "thinking"),
    "citationsContent": (lambda v, p: {"type": "text", "text": cited_text(v, p)}, "assistant", "parts"),
    "audio": (_audio_part, "user", "parts"),
    "searchResult": (_search_result_part, "user", "parts"),
    "toolAddition": (lambda v, p: tool_change("toolAddition", v, p), "system", "tool_changes"),
    "toolRemoval": (lambda v, p: tool_change("toolRemoval", v, p), "system", "tool_changes"),
}
# block type -> why it cannot reach a model through LiteLLM (told to the caller)
_UNSUPPORTED_BLOCKS = {"video": _VIDEO_REASON}
_BLOCK_TYPES = (*_BLOCKS, "cachePoint", *_UNSUPPORTED_BLOCKS)
_SYSTEM_BLOCK_TYPES = ("text", "guardContent", "cachePoint")


def _convert_blocks(blocks: list, path: str, role: str, types: tuple = _BLOCK_TYPES) -> dict[str, list]:
    """Converse content blocks -> OpenAI pieces, sorted into buckets (parts, tool_calls, ...)."""
    out: dict[str, list] = {"parts": [], "tool_calls": [], "tool_messages": [], "thinking": [], "tool_changes": []}
    previous: dict | None = None  # the part a following cachePoint applies to
    for j, block in enumerate(blocks):
        bpath = f"{path}[{j}]"
        kind, value = _union(block, bpath, types)
        if kind == "cachePoint":
            control = _cache_control(value, f"{bpath}.cachePoint")
            if previous is not None:
                previous["cache_control"] = control
            continue
        if kind in _UNSUPPORTED_BLOCKS:
            raise validation(f"{bpath}.{kind} content blocks are not supported: {_UNSUPPORTED_BLOCKS[kind]}")
        build, allowed_role, bucket = _BLOCKS[kind]
        if allowed_role is not None and role != allowed_role:
            raise validation(f"{bpath}.{kind} is only allowed in {allowed_role} messages")
        piece = build(value, f"{bpath}.{kind}")
        out[bucket].append(piece)
        previous = piece if bucket == "parts" else None
    return out


def _content(parts: list[dict]) -> str | list[dict]:
    """A single plain text part travels as a string (cheapest, understood by every provider)."""
    if len(parts) == 1 and parts[0]["type"] == "text" and "cache_control" not in parts[0]:
        return parts[0]["text"]
    return parts


def _message(msg: Any, path: str, changes: list[ToolChange]) -> list[dict]:
    """One Converse message -> OpenAI messages; a system message's tool changes go to ``changes``."""
    msg = _obj(msg, path)
    _known(msg, ("role", "content"), path)
    role = msg.get("role")
    if role not in ("user", "assistant", "system"):
        raise validation(f"{path}.role must be one of user, assistant, system")
    got = _convert_blocks(_list(msg.get("content"), f"{path}.content", non_empty=True), f"{path}.content", role)
    if role == "system":
        # Bedrock's mid-conversation system message: an OpenAI system message at the same place
        changes.extend(got["tool_changes"])
        if not got["parts"] and not got["tool_changes"]:
            raise validation(f"{path}.content has no content besides cache points")
        return [{"role": "system", "content": _content(got["parts"])}] if got["parts"] else []
    if role == "assistant":
        out: dict[str, Any] = {
            "role": "assistant",
            # OpenAI allows null content only next to tool_calls
            "content": _content(got["parts"]) if got["parts"] else (None if got["tool_calls"] else ""),
        }
        if got["tool_calls"]:
            out["tool_calls"] = got["tool_calls"]
        if got["thinking"]:
            out["thinking_blocks"] = got["thinking"]
            out["reasoning_content"] = "".join(t.get("thinking", "") for t in got["thinking"])
        return [out]
    # OpenAI wants tool results right after the assistant's tool_calls, before any new user text.
    user = [{"role": "user", "content": _content(got["parts"])}] if got["parts"] else []
    if not user and not got["tool_messages"]:
        raise validation(f"{path}.content has no content besides cache points")
    return got["tool_messages"] + user


# ---------------------------------------------------------------- top-level fields


def _system(value: Any) -> list[dict]:
    got = _convert_blocks(_list(value, "system"), "system", "system", _SYSTEM_BLOCK_TYPES)
    return [{"role": "system", "content": _content(got["parts"])}] if got["parts"] else []


_INFERENCE: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "maxTokens": ("max_tokens", _positive_int),
    "temperature": ("temperature", _number),
    "topP": ("top_p", _number),
    "stopSequences": ("stop", _str_list),
}


def _inference(value: Any, body: dict) -> None:
    value = _obj(value, "inferenceConfig")
    _known(value, _INFERENCE, "inferenceConfig")
    for key, item in value.items():
        if item is not None:
            name, check = _INFERENCE[key]
            body[name] = check(item, f"inferenceConfig.{key}")


def _tool_spec(value: Any, path: str) -> dict:
    value = _obj(value, path)
    _known(value, ("name", "description", "inputSchema", "strict"), path)
    fn: dict[str, Any] = {"name": _str(value.get("name"), f"{path}.name")}
    if value.get("description") is not None:
        fn["description"] = _str(value["description"], f"{path}.description")
    _, schema = _union(value.get("inputSchema"), f"{path}.inputSchema", ("json",))
    fn["parameters"] = _obj(schema, f"{path}.inputSchema.json")
    if value.get("strict") is not None:
        if not isinstance(value["strict"], bool):
            raise validation(f"{path}.strict must be a boolean")
        fn["strict"] = value["strict"]
    return {"type": "function", "function": fn}


def _tool_choice(value: Any) -> str | dict:
    kind, inner = _union(value, "toolConfig.toolChoice", ("auto", "any", "tool"))
    if kind == "tool":
        name = _str(_obj(inner, "toolConfig.toolChoice.tool").get("name"), "toolConfig.toolChoice.tool.name")
        return {"type": "function", "function": {"name": name}}
    return "auto" if kind == "auto" else "required"


def _system_tool(value: Any, path: str) -> tuple[str, dict[str, Any]]:
    """A Bedrock system tool -> its name and the LiteLLM fields that ask for the same capability."""
    value = _obj(value, path)
    _known(value, ("name",), path)
    name = _str(value.get("name"), f"{path}.name")
    if name not in _SYSTEM_TOOLS:
        raise validation(
            f"{path}.name '{name}' is not supported: LiteLLM has no counterpart for it "
            f"(supported: {', '.join(_SYSTEM_TOOLS)})"
        )
    return name, _SYSTEM_TOOLS[name]


def _tools(value: Any, body: dict) -> None:
    value = _obj(value, "toolConfig")
    _known(value, ("tools", "toolChoice"), "toolConfig")
    tools: list[dict] = []
    system_tools: list[str] = []
    for k, item in enumerate(_list(value.get("tools"), "toolConfig.tools", non_empty=True)):
        path = f"toolConfig.tools[{k}]"
        kind, inner = _union(item, path, ("toolSpec", "systemTool", "cachePoint"))
        if kind == "systemTool":
            name, fields = _system_tool(inner, f"{path}.systemTool")
            system_tools.append(name)
            body.update(fields)
            continue
        if kind == "cachePoint":
            control = _cache_control(inner, f"{path}.cachePoint")
            if tools:
                tools[-1]["cache_control"] = control
            continue
        tools.append(_tool_spec(inner, f"{path}.toolSpec"))
    if not tools and not system_tools:
        raise validation("toolConfig.tools must contain at least one toolSpec or systemTool")
    if tools:
        body["tools"] = tools
    if value.get("toolChoice") is not None:
        choice = _tool_choice(value["toolChoice"])
        if tools:
            body["tool_choice"] = choice
        elif choice != "auto":
            raise validation("toolConfig.toolChoice can only be auto when toolConfig.tools has no toolSpec")


def _declared_tools(body: dict) -> list[str]:
    """Names a tool change may reference: the toolSpecs sent, and the system tools asked for."""
    names = [tool["function"]["name"] for tool in body.get("tools") or []]
    return names + [name for name, fields in _SYSTEM_TOOLS.items() if all(key in body for key in fields)]


def _apply_tool_changes(body: dict, changes: list[ToolChange]) -> None:
    """Send the tool set as the system messages' ``toolAddition``/``toolRemoval`` left it."""
    if not changes:
        return
    removed = removed_tools(_declared_tools(body), changes)
    for name in removed & _SYSTEM_TOOLS.keys():
        for key in _SYSTEM_TOOLS[name]:
            body.pop(key, None)
    kept = [tool for tool in body.get("tools") or [] if tool["function"]["name"] not in removed]
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice["function"]["name"] in removed:
        raise validation(
            f"toolConfig.toolChoice.tool.name '{choice['function']['name']}' names a tool the messages removed"
        )
    if kept:
        body["tools"] = kept
        return
    body.pop("tools", None)
    if body.pop("tool_choice", "auto") == "required":
        raise validation("toolConfig.toolChoice.any needs a tool, but the messages removed every toolSpec")


def _output_config(value: Any, body: dict) -> None:
    value = _obj(value, "outputConfig")
    _known(value, ("textFormat", "effort"), "outputConfig")
    if value.get("effort") is not None:
        body["reasoning_effort"] = _str(value["effort"], "outputConfig.effort")
    if value.get("textFormat") is None:
        return
    fmt = _obj(value["textFormat"], "outputConfig.textFormat")
    if fmt.get("type") != "json_schema":
        raise validation("outputConfig.textFormat.type must be json_schema")
    _, spec = _union(fmt.get("structure"), "outputConfig.textFormat.structure", ("jsonSchema",))
    spec = _obj(spec, "outputConfig.textFormat.structure.jsonSchema")
    path = "outputConfig.textFormat.structure.jsonSchema.schema"
    try:
        schema = json.loads(_str(spec.get("schema"), path))
    except ValueError:
        raise validation(f"{path} must be a JSON string") from None
    json_schema = {"name": spec.get("name") or "response", "schema": _obj(schema, path)}
    if spec.get("description"):
        json_schema["description"] = spec["description"]
    body["response_format"] = {"type": "json_schema", "json_schema": json_schema}


def _metadata(value: Any, body: dict) -> None:
    for key, item in _obj(value, "requestMetadata").items():
        if not isinstance(item, str):
            raise validation(f"requestMetadata.{key} must be a string")
    body["metadata"] = dict(value)


_FIELDS: dict[str, Callable[[Any, dict], None]] = {
    "inferenceConfig": _inference,
    "toolConfig": _tools,
    "outputConfig": _output_config,
    "requestMetadata": _metadata,
}
_KNOWN_FIELDS = frozenset(
    {
        *_FIELDS,
        *_IGNORED,
        *_RESPONSE_SHAPING,
        *_REJECTED,
        "messages",
        "system",
        "additionalModelRequestFields",
        "promptVariables",
    }
)


def converse_request_to_openai(model_id: str, body: Any) -> ConverseCall:
    """Translate a Converse/ConverseStream JSON body; raises ``validation(...)`` naming the bad field."""
    body = _obj(body, "request body")
    _known(body, _KNOWN_FIELDS, "request body")
    for field, message in _REJECTED.items():
        if body.get(field) is not None:
            raise validation(message)

    messages: list[dict] = []
    if body.get("system") is not None:
        messages.extend(_system(body["system"]))
    raw_messages = body.get("messages")
    prompt_arn = is_prompt_arn(model_id)
    if raw_messages is None and prompt_arn:
        raw_messages = []
    changes: list[ToolChange] = []
    for i, msg in enumerate(_list(raw_messages, "messages", non_empty=not prompt_arn)):
        messages.extend(_message(msg, f"messages[{i}]", changes))

    out: dict[str, Any] = {"model": model_id, "messages": messages}
    for field, apply in _FIELDS.items():
        if body.get(field) is not None:
            apply(body[field], out)
    _apply_tool_changes(out, changes)

    session_id = None
    if body.get("additionalModelRequestFields") is not None:
        extra = dict(_obj(body["additionalModelRequestFields"], "additionalModelRequestFields"))
        if "session_id" in extra:
            session_id = _str(extra.pop("session_id"), "additionalModelRequestFields.session_id")
        for key in _RESERVED_EXTRA:
            if key in extra:
                raise validation(f"additionalModelRequestFields.{key} is not allowed: it is set by the gateway")
        out.update(extra)
    extras = parse_response_extras(body, out)

    variables = body.get("promptVariables")
    if variables is not None:
        _obj(variables, "promptVariables")
    return ConverseCall(openai_body=out, session_id=session_id, prompt_variables=variables, extras=extras)


# ---------------------------------------------------------------- response


def stop_reason_from_finish(finish_reason: str | None) -> str:
    """OpenAI ``finish_reason`` -> Converse ``stopReason``; Converse values pass, unknown -> end_turn."""
    if not isinstance(finish_reason, str):
        return "end_turn"
    if finish_reason in _CONVERSE_STOP_REASONS:
        return finish_reason
    return _STOP_REASONS.get(finish_reason, "end_turn")


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def converse_usage(usage: Any) -> dict:
    """OpenAI/LiteLLM usage -> Converse TokenUsage.

    LiteLLM's ``prompt_tokens`` include cache reads and writes (OpenAI semantics) while Bedrock's
    ``inputTokens`` exclude them, so they are subtracted; ``totalTokens`` is the same in both.
    """
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    prompt = _count(usage.get("prompt_tokens")) or 0
    completion = _count(usage.get("completion_tokens")) or 0
    read = _count(usage.get("cache_read_input_tokens"))
    read = read if read is not None else _count(details.get("cached_tokens"))
    write = _count(usage.get("cache_creation_input_tokens"))
    write = write if write is not None else _count(details.get("cache_creation_tokens"))
    out = {
        "inputTokens": max(prompt - (read or 0) - (write or 0), 0),
        "outputTokens": completion,
        "totalTokens": _count(usage.get("total_tokens")) or prompt + completion,
    }
    if read is not None:
        out["cacheReadInputTokens"] = read
    if write is not None:
        out["cacheWriteInputTokens"] = write
    details = cache_details(usage)
    if details:
        out["cacheDetails"] = details
    return out


def openai_response_to_converse(response: dict, latency_ms: int, extras: ResponseExtras = NO_EXTRAS) -> dict:
    """A LiteLLM chat completion -> the Converse response body.

    If the model called tools but the provider reported a plain ``stop`` (some do), the stop reason
    is ``tool_use``: agent loops built on Converse key off exactly that value.
    """
    choices = response.get("choices") if isinstance(response, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise GatewayError(ErrorKind.MODEL_ERROR, "upstream returned a response without choices")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content = assistant_content(message)
    fields = provider_fields(choice, message)
    if fields.get("citations"):
        text = "".join(block["text"] for block in content if "text" in block)
        tools = [block for block in content if "toolUse" in block]
        content = [*reasoning_blocks(message), *citation_blocks(text, fields["citations"]), *tools]
    stop = stop_reason_from_finish(choice.get("finish_reason"))
    stop_sequence = extras.stop_sequence(reported_stop(choice, fields))
    if stop == "end_turn" and any("toolUse" in block for block in content):
        stop = "tool_use"
    elif stop == "end_turn" and stop_sequence is not None:
        stop = "stop_sequence"
    out = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": converse_usage(response.get("usage")),
        "metrics": {"latencyMs": latency_ms},
        **extras.echo(response.get("service_tier")),
    }
    additional = extras.response_fields(native_document(response, fields, stop_sequence))
    if additional is not None:
        out["additionalModelResponseFields"] = additional
    return out
