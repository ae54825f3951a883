"""OpenAI streaming chunks -> ConverseStream events, checked as a boto3 ``converse_stream`` user sees them."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import EventStreamError

from gateway.converse.eventstream import encode_events, encode_gateway_error
from gateway.converse.stream import ConverseStreamTranslator
from gateway.converse.translate import openai_response_to_converse
from gateway.errors import GatewayError


def _chunk(delta: dict | None = None, finish_reason: str | None = None, usage: dict | None = None) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": choices}
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def _tool_delta(index: int, *, id: str | None = None, name: str | None = None, args: str = "") -> dict:
    fn = {"arguments": args} | ({"name": name} if name else {})
    call = {"index": index, "function": fn} | ({"id": id, "type": "function"} if id else {})
    return {"tool_calls": [call]}


def _run(chunks: list[dict], latency_ms: int = 42) -> list[dict]:
    translator = ConverseStreamTranslator()
    events = [event for chunk in chunks for event in translator.feed(chunk)]
    events += translator.finish(latency_ms)
    assert translator.finish(latency_ms) == []  # finishing twice adds nothing
    return [{name: payload} for name, payload in events]


def _through_boto3(bedrock, events: list[dict]) -> list[dict]:
    bedrock.respond_stream(encode_events((name, payload) for event in events for name, payload in event.items()))
    response = bedrock.client.converse_stream(modelId="m", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    return list(response["stream"])


def _accumulate(events: list[dict]) -> list[dict]:
    """Rebuild content blocks from stream events the way boto3 users do."""
    blocks: dict[int, dict] = {}
    for event in events:
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            blocks[start["contentBlockIndex"]] = {"toolUse": {**start["start"]["toolUse"], "input": ""}}
        elif "contentBlockDelta" in event:
            index, delta = (
                event["contentBlockDelta"]["contentBlockIndex"],
                event["contentBlockDelta"]["delta"],
            )
            if "text" in delta:
                blocks.setdefault(index, {"text": ""})["text"] += delta["text"]
            elif "toolUse" in delta:
                blocks[index]["toolUse"]["input"] += delta["toolUse"]["input"]
            else:
                reasoning = blocks.setdefault(index, {"reasoningContent": {}})["reasoningContent"]
                for key, value in delta["reasoningContent"].items():
                    if key == "redactedContent":
                        reasoning["redactedContent"] = value
                    else:
                        text = reasoning.setdefault("reasoningText", {"text": ""})
                        text[key] = text.get(key, "") + value
    for block in blocks.values():
        if "toolUse" in block:
            block["toolUse"]["input"] = json.loads(block["toolUse"]["input"])
    return [blocks[i] for i in sorted(blocks)]


USAGE = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
TEXT_CHUNKS = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Hel"}),
    _chunk({"content": ""}),
    _chunk({"content": "lo, wörld"}),
    _chunk({}, finish_reason="stop"),
    _chunk(usage=USAGE),
]


def test_text_stream_event_order():
    assert _run(TEXT_CHUNKS) == [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Hel"}}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "lo, wörld"}}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {
            "metadata": {
                "usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13},
                "metrics": {"latencyMs": 42},
            }
        },
    ]


TOOL_CHUNKS = [
    _chunk({"role": "assistant", "content": None}),
    _chunk({"content": "Checking both."}),
    _chunk(_tool_delta(0, id="call_a", name="get_weather")),
    _chunk(_tool_delta(0, args='{"city": ')),
    _chunk(_tool_delta(0, args='"Paris"}')),
    _chunk(_tool_delta(1, id="call_b", name="get_time", args='{"tz": "CET"}')),
    _chunk({}, finish_reason="tool_calls"),
    _chunk(usage=USAGE),
]


def test_two_tool_calls_stream_as_separate_blocks():
    events = _run(TOOL_CHUNKS)
    assert events[:-1] == [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Checking both."}}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {
            "contentBlockStart": {
                "contentBlockIndex": 1,
                "start": {"toolUse": {"toolUseId": "call_a", "name": "get_weather"}},
            }
        },
        {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"city": '}}}},
        {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '"Paris"}'}}}},
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {
            "contentBlockStart": {
                "contentBlockIndex": 2,
                "start": {"toolUse": {"toolUseId": "call_b", "name": "get_time"}},
            }
        },
        {"contentBlockDelta": {"contentBlockIndex": 2, "delta": {"toolUse": {"input": '{"tz": "CET"}'}}}},
        {"contentBlockStop": {"contentBlockIndex": 2}},
        {"messageStop": {"stopReason": "tool_use"}},
    ]


def test_tool_call_without_arguments_streams_empty_object_and_plain_stop_means_tool_use():
    events = _run([_chunk(_tool_delta(0, id="c1", name="now")), _chunk({}, finish_reason="stop")])
    assert events[2:5] == [
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{}"}}}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "tool_use"}},
    ]


REASONING_CHUNKS = [
    _chunk(
        {
            "role": "assistant",
            "reasoning_content": "Think",
            "thinking_blocks": [{"type": "thinking", "thinking": "Think"}],
        }
    ),
    _chunk({"reasoning_content": "ing.", "thinking_blocks": [{"type": "thinking", "thinking": "ing."}]}),
    _chunk(
        {
            "reasoning_content": "",
            "thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "sig1"}],
        }
    ),
    _chunk({"reasoning_content": "", "thinking_blocks": [{"type": "redacted_thinking", "data": "opaque"}]}),
    _chunk({"content": "Answer."}),
    _chunk({}, finish_reason="stop"),
    _chunk(usage=USAGE),
]


def test_reasoning_stream_with_signature_and_redacted_block():
    assert _run(REASONING_CHUNKS)[1:-2] == [
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Think"}}}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "ing."}}}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig1"}}}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {
            "contentBlockDelta": {
                "contentBlockIndex": 1,
                "delta": {"reasoningContent": {"redactedContent": "b3BhcXVl"}},
            }
        },
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {"contentBlockDelta": {"contentBlockIndex": 2, "delta": {"text": "Answer."}}},
        {"contentBlockStop": {"contentBlockIndex": 2}},
    ]


def test_usage_chunk_with_cache_tokens_lands_in_metadata_last():
    usage = {
        "prompt_tokens": 1200,
        "completion_tokens": 8,
        "total_tokens": 1208,
        "cache_read_input_tokens": 1000,
    }
    events = _run([_chunk({"content": "ok"}), _chunk({}, finish_reason="length"), _chunk(usage=usage)], latency_ms=7)
    assert events[-2:] == [
        {"messageStop": {"stopReason": "max_tokens"}},
        {
            "metadata": {
                "usage": {
                    "inputTokens": 200,
                    "outputTokens": 8,
                    "totalTokens": 1208,
                    "cacheReadInputTokens": 1000,
                },
                "metrics": {"latencyMs": 7},
            }
        },
    ]


def test_no_chunks_still_yields_a_valid_message():
    assert _run([]) == [
        {"messageStart": {"role": "assistant"}},
        {"messageStop": {"stopReason": "end_turn"}},
        {
            "metadata": {
                "usage": {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0},
                "metrics": {"latencyMs": 42},
            }
        },
    ]


@pytest.mark.parametrize("chunks", [TEXT_CHUNKS, TOOL_CHUNKS, REASONING_CHUNKS], ids=["text", "tools", "reasoning"])
def test_no_empty_deltas_and_message_stop_once_after_all_blocks(chunks):
    events = _run(chunks)
    names = [next(iter(e)) for e in events]
    assert names[0] == "messageStart" and names[-2:] == ["messageStop", "metadata"]
    assert names.count("messageStop") == 1
    open_blocks: set[int] = set()
    for event in events[1:-2]:
        ((name, payload),) = event.items()
        index = payload["contentBlockIndex"]
        if name == "contentBlockStop":
            assert index in open_blocks
            open_blocks.discard(index)
            continue
        open_blocks.add(index)
        if name == "contentBlockDelta":
            (value,) = payload["delta"].values()
            assert value not in ("", {"text": ""}, {"input": ""})
    assert not open_blocks


def _non_streamed(chunks: list[dict]) -> dict:
    """The chat completion an upstream would have returned for the same content."""
    message: dict = {"role": "assistant", "content": "", "tool_calls": [], "thinking_blocks": []}
    finish = None
    for chunk in chunks:
        for choice in chunk["choices"]:
            delta = choice["delta"]
            message["content"] += delta.get("content") or ""
            for call in delta.get("tool_calls") or []:
                if call.get("id"):
                    message["tool_calls"].append(
                        {"id": call["id"], "function": {"name": call["function"]["name"], "arguments": ""}}
                    )
                message["tool_calls"][call["index"]]["function"]["arguments"] += call["function"]["arguments"]
            for block in delta.get("thinking_blocks") or []:
                if block["type"] == "redacted_thinking":
                    message["thinking_blocks"].append(block)
                elif not message["thinking_blocks"] or "signature" in message["thinking_blocks"][-1]:
                    message["thinking_blocks"].append(dict(block))
                else:
                    last = message["thinking_blocks"][-1]
                    last["thinking"] += block["thinking"]
                    if block.get("signature"):
                        last["signature"] = block["signature"]
            finish = choice["finish_reason"] or finish
    return {"choices": [{"message": message, "finish_reason": finish}], "usage": USAGE}


@pytest.mark.parametrize("chunks", [TEXT_CHUNKS, TOOL_CHUNKS, REASONING_CHUNKS], ids=["text", "tools", "reasoning"])
def test_streamed_content_equals_non_streamed_translation_through_boto3(bedrock, chunks):
    received = _through_boto3(bedrock, _run(chunks))
    expected = openai_response_to_converse(_non_streamed(chunks), latency_ms=42)
    content = expected["output"]["message"]["content"]
    for block in content:  # boto3 decodes blobs to bytes
        if "redactedContent" in block.get("reasoningContent", {}):
            block["reasoningContent"]["redactedContent"] = b"opaque"
    assert _accumulate(received) == content
    assert received[-2] == {"messageStop": {"stopReason": expected["stopReason"]}}
    assert received[-1]["metadata"]["usage"] == expected["usage"]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ({"message": "Rate limit reached", "code": "429"}, "throttlingException"),
        ({"message": "provider exploded", "code": 500}, "modelStreamErrorException"),
        ({"message": "no code at all"}, "modelStreamErrorException"),
    ],
)
def test_error_chunk_mid_stream_surfaces_as_boto3_stream_error(bedrock, error, code):
    translator = ConverseStreamTranslator()
    events = translator.feed(_chunk({"content": "partial"}))
    with pytest.raises(GatewayError) as info:
        translator.feed({"error": error})
    bedrock.respond_stream(encode_events(events) + encode_gateway_error(info.value))
    stream = bedrock.client.converse_stream(modelId="m", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    received = []
    with pytest.raises(EventStreamError) as raised:
        for event in stream["stream"]:
            received.append(event)
    assert received[-1] == {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "partial"}}}
    assert raised.value.response["Error"] == {"Code": code, "Message": error["message"]}
