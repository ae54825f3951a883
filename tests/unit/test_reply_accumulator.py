"""The stream accumulator rebuilds the reply a non-streamed answer would carry, thinking included."""

from __future__ import annotations

from gateway.chat.accumulate import ReplyAccumulator
from tests.support import fake_openai


def chunk(delta: dict, finish_reason: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


def test_streamed_thinking_becomes_the_signed_blocks_of_the_sync_answer() -> None:
    reply = ReplyAccumulator()
    for delta in [{"role": "assistant", "content": ""}, *fake_openai.thinking_deltas(), {"content": "done"}]:
        reply.feed(chunk(delta))
    reply.feed(chunk({}, "stop"))

    assert reply.message() == {
        "role": "assistant",
        "content": "done",
        "reasoning_content": fake_openai.THINKING,
        "thinking_blocks": fake_openai.thinking_blocks(),
    }


def test_two_signed_blocks_stay_apart_and_an_unsigned_one_is_not_kept() -> None:
    reply = ReplyAccumulator()
    fragments = [
        {"type": "thinking", "thinking": "first", "index": 0},
        {"type": "thinking", "thinking": "", "signature": "s1", "index": 0},
        {"type": "thinking", "thinking": "second", "index": 1},
        {"type": "thinking", "thinking": "", "signature": "s2", "index": 1},
        {"type": "thinking", "thinking": "never signed", "index": 2},
    ]
    for fragment in fragments:
        reply.feed(chunk({"thinking_blocks": [fragment]}))

    assert reply.message()["thinking_blocks"] == [
        {"type": "thinking", "thinking": "first", "signature": "s1"},
        {"type": "thinking", "thinking": "second", "signature": "s2"},
    ]


def test_malformed_thinking_fragments_are_ignored() -> None:
    reply = ReplyAccumulator()
    reply.feed(chunk({"thinking_blocks": "not a list", "content": "a"}))
    reply.feed(chunk({"thinking_blocks": [None, 3, {"type": "redacted_thinking"}], "content": "b"}))

    assert reply.message() == {"role": "assistant", "content": "ab"}
