"""Rebuild the assistant message from streamed chunks, so a streamed reply can be stored."""

from __future__ import annotations

from typing import Any


class ThinkingAccumulator:
    """Joins streamed ``thinking_blocks`` fragments into whole, signed blocks.

    LiteLLM relays Claude's extended thinking as one-block fragments per delta: the block's text in
    pieces, then its signature (an empty-text fragment), and ``redacted_thinking`` blocks whole. The
    joining rule is LiteLLM's own (``stream_chunk_builder``): a signature closes a block, and a block
    that never got one is dropped, since Anthropic refuses to replay an unsigned block (its text
    stays in ``reasoning_content``). A fragment with another ``index`` starts a new block.
    """

    def __init__(self) -> None:
        self.blocks: list[dict[str, str]] = []
        self._text: list[str] = []
        self._index: Any = None

    def feed(self, fragments: Any) -> None:
        if not isinstance(fragments, list):
            return
        for fragment in fragments:
            if not isinstance(fragment, dict):
                continue
            if fragment.get("type") == "redacted_thinking":
                self._close(None)
                if isinstance(fragment.get("data"), str) and fragment["data"]:
                    self.blocks.append({"type": "redacted_thinking", "data": fragment["data"]})
                continue
            index = fragment.get("index")
            if index is not None and self._index is not None and index != self._index:
                self._close(None)
            self._index = index if index is not None else self._index
            if isinstance(fragment.get("thinking"), str):
                self._text.append(fragment["thinking"])
            signature = fragment.get("signature")
            if isinstance(signature, str) and signature:
                self._close(signature)

    def finish(self) -> list[dict[str, str]]:
        self._close(None)
        return self.blocks

    def _close(self, signature: str | None) -> None:
        if signature:
            self.blocks.append({"type": "thinking", "thinking": "".join(self._text), "signature": signature})
        self._text = []
        self._index = None


class ReplyAccumulator:
    """Feed OpenAI chat chunks; ``message()`` is the reply as a non-streamed answer would carry it."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._thinking = ThinkingAccumulator()
        self._calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: dict | None = None

    def feed(self, chunk: dict) -> None:
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                continue
            if isinstance(delta.get("content"), str):
                self._text.append(delta["content"])
            if isinstance(delta.get("reasoning_content"), str):
                self._reasoning.append(delta["reasoning_content"])
            self._thinking.feed(delta.get("thinking_blocks"))
            for call in delta.get("tool_calls") or []:
                if isinstance(call, dict):
                    self._tool_call(call)

    def _tool_call(self, call: dict) -> None:
        slot = self._calls.setdefault(
            call.get("index", len(self._calls)), {"id": None, "type": "function", "name": "", "arguments": []}
        )
        if call.get("id"):
            slot["id"] = call["id"]
        function = call.get("function") or {}
        if function.get("name"):
            slot["name"] = function["name"]
        if function.get("arguments"):
            slot["arguments"].append(function["arguments"])

    def message(self) -> dict:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self._text) or None}
        if self._reasoning:
            message["reasoning_content"] = "".join(self._reasoning)
        if thinking := self._thinking.finish():
            message["thinking_blocks"] = thinking
        if self._calls:
            message["tool_calls"] = [
                {
                    "id": slot["id"] or f"call_{index}",
                    "type": "function",
                    "function": {"name": slot["name"], "arguments": "".join(slot["arguments"])},
                }
                for index, slot in sorted(self._calls.items())
            ]
        return message
