"""Document citations: Converse documents with ``citations.enabled`` <-> Anthropic's citations via LiteLLM.

Request: such a document becomes an Anthropic ``document`` content part (``citations: {enabled:
true}``, ``title`` = its name, ``context``), which LiteLLM hands to Claude unchanged. LiteLLM
forwards it unchanged to other providers too, which do not know that part and refuse the request,
as Bedrock refuses citations for models without them.

Response: LiteLLM puts Claude's citations in the message's ``provider_specific_fields.citations``,
one list per cited text block, each citation carrying the block's text as ``supported_text``; the
message ``content`` is all blocks' text joined. Each cited block's text is found in order in that
text and becomes a ``citationsContent`` block between plain ``text`` blocks. Streamed, a citation
arrives as ``delta.provider_specific_fields.citation`` just before the text it supports.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from gateway.errors import validation

_TEXT_FORMATS = ("txt", "md", "html", "csv")

# Anthropic citation type -> (Converse location member, start key, end key, index key)
_LOCATIONS = {
    "char_location": ("documentChar", "start_char_index", "end_char_index", "document_index"),
    "page_location": ("documentPage", "start_page_number", "end_page_number", "document_index"),
    "content_block_location": ("documentChunk", "start_block_index", "end_block_index", "document_index"),
    "search_result_location": ("searchResultLocation", "start_block_index", "end_block_index", "search_result_index"),
}
_LOCATION_INDEX = {
    "documentChar": "documentIndex",
    "documentPage": "documentIndex",
    "documentChunk": "documentIndex",
    "searchResultLocation": "searchResultIndex",
}


def citable_document(fmt: str, name: str, kind: str, source: Any, context: str | None, path: str) -> dict:
    """An Anthropic ``document`` part with citations enabled (``kind``: bytes | text | content)."""
    if kind == "content":
        texts = [{"type": "text", "text": block["text"]} for block in source]
        doc_source: dict = {"type": "content", "content": texts}
    elif kind == "text":
        doc_source = {"type": "text", "media_type": "text/plain", "data": source}
    elif fmt == "pdf":
        doc_source = {"type": "base64", "media_type": "application/pdf", "data": source}
    elif fmt in _TEXT_FORMATS:
        try:
            text = base64.b64decode(source, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise validation(f"{path}.source.bytes must be UTF-8 text for a {fmt} document with citations") from None
        doc_source = {"type": "text", "media_type": "text/plain", "data": text}
    else:
        raise validation(
            f"{path}.citations can only be enabled for pdf and text documents ({', '.join(_TEXT_FORMATS)})"
        )
    part: dict = {"type": "document", "source": doc_source, "title": name, "citations": {"enabled": True}}
    if context is not None:
        part["context"] = context
    return part


def converse_document(part: dict) -> dict | None:
    """A stored Anthropic ``document`` part -> the Converse document block it was made from (None if foreign)."""
    source = part.get("source") if isinstance(part.get("source"), dict) else {}
    name = part.get("title") if isinstance(part.get("title"), str) and part.get("title") else "document"
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        doc: dict = {"format": "pdf", "name": name, "source": {"bytes": source["data"]}}
    elif source.get("type") == "text" and isinstance(source.get("data"), str):
        doc = {"format": "txt", "name": name, "source": {"text": source["data"]}}
    elif source.get("type") == "content" and isinstance(source.get("content"), list):
        texts = [
            {"text": c["text"]} for c in source["content"] if isinstance(c, dict) and isinstance(c.get("text"), str)
        ]
        doc = {"format": "txt", "name": name, "source": {"content": texts}}
    else:
        return None
    if isinstance(part.get("context"), str):
        doc["context"] = part["context"]
    if isinstance(part.get("citations"), dict) and part["citations"].get("enabled"):
        doc["citations"] = {"enabled": True}
    return {"document": doc}


def bedrock_citation(citation: Any) -> dict | None:
    """One Anthropic citation -> a Converse ``Citation`` (None for a shape it does not know)."""
    if not isinstance(citation, dict):
        return None
    out: dict[str, Any] = {}
    title = citation.get("document_title") or citation.get("title")
    if isinstance(title, str) and title:
        out["title"] = title
    if isinstance(citation.get("source"), str):
        out["source"] = citation["source"]
    if isinstance(citation.get("cited_text"), str):
        out["sourceContent"] = [{"text": citation["cited_text"]}]
    kind = citation.get("type")
    if kind == "web_search_result_location" and isinstance(citation.get("url"), str):
        out["location"] = {"web": {"url": citation["url"]}}
    elif kind in _LOCATIONS:
        member, start, end, index = _LOCATIONS[kind]
        location = {
            key: citation[src]
            for key, src in ((_LOCATION_INDEX[member], index), ("start", start), ("end", end))
            if _is_int(citation.get(src))
        }
        out["location"] = {member: location}
    return out or None


def citation_blocks(text: str, groups: Any) -> list[dict]:
    """The reply ``text`` split into ``text`` and ``citationsContent`` blocks (see the module doc)."""
    blocks: list[dict] = []
    cursor = 0
    for group in groups if isinstance(groups, list) else []:
        group = group if isinstance(group, list) else [group]
        citations = [c for c in map(bedrock_citation, group) if c]
        supported = next((x["supported_text"] for x in group if isinstance(x, dict) and "supported_text" in x), None)
        if not citations or not isinstance(supported, str):
            continue
        found = text.find(supported, cursor) if supported else -1
        if found < 0:  # not in the text as relayed: keep the citations, next to the text they came with
            blocks.append({"citationsContent": {"content": [{"text": supported}], "citations": citations}})
            continue
        if found > cursor:
            blocks.append({"text": text[cursor:found]})
        blocks.append({"citationsContent": {"content": [{"text": supported}], "citations": citations}})
        cursor = found + len(supported)
    if cursor < len(text):
        blocks.append({"text": text[cursor:]})
    return blocks


def cited_text(block: Any, path: str) -> str:
    """An assistant turn's ``citationsContent`` block sent back -> the text it holds (for the model)."""
    if not isinstance(block, dict):
        raise validation(f"{path} must be an object")
    content = block.get("content") if block.get("content") is not None else []
    if not isinstance(content, list):
        raise validation(f"{path}.content must be a list")
    texts = []
    for k, item in enumerate(content):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise validation(f"{path}.content[{k}].text must be a string")
        texts.append(item["text"])
    return "".join(texts)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
