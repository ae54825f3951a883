"""Micro-benchmark of the pure Converse core (not a test): translation cost and event-stream throughput.

Run: .venv/bin/python scripts/bench_converse_core.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "gateway"))

from gateway.converse.eventstream import encode_event
from gateway.converse.stream import ConverseStreamTranslator
from gateway.converse.translate import converse_request_to_openai, openai_response_to_converse

REPEATS = 7

TOOLS = {
    "tools": [
        {
            "toolSpec": {
                "name": f"tool_{k}",
                "description": "Looks something up",
                "inputSchema": {"json": {"type": "object", "properties": {"q": {"type": "string"}}}},
            }
        }
        for k in range(5)
    ],
    "toolChoice": {"auto": {}},
}


def _conversation() -> dict:
    """20 messages: plain turns plus tool-use / tool-result rounds."""
    messages: list[dict] = []
    for turn in range(5):
        messages.append({"role": "user", "content": [{"text": f"Question {turn}: " + "context " * 40}]})
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"text": "Let me look that up."},
                    {"toolUse": {"toolUseId": f"t{turn}", "name": "tool_1", "input": {"q": f"query {turn}"}}},
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"toolResult": {"toolUseId": f"t{turn}", "content": [{"json": {"hits": 3}}]}}],
            }
        )
        messages.append({"role": "assistant", "content": [{"text": "Here is the answer. " * 20}]})
    return {
        "messages": messages,
        "system": [{"text": "You are helpful."}],
        "inferenceConfig": {"maxTokens": 512, "temperature": 0.3},
        "toolConfig": TOOLS,
        "additionalModelRequestFields": {"session_id": "s-1"},
    }


RESPONSE = {
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "tool_1", "arguments": '{"q":"x"}'}}
                ],
            },
        }
    ],
    "usage": {"prompt_tokens": 900, "completion_tokens": 20, "total_tokens": 920},
}


def _median_seconds(fn: Callable[[], object], number: int) -> float:
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def main() -> None:
    body = _conversation()
    delta = {"contentBlockIndex": 0, "delta": {"text": "a typical streamed token or two"}}
    chunk = {"choices": [{"index": 0, "delta": {"content": "token"}, "finish_reason": None}]}
    translator = ConverseStreamTranslator()

    def translate_pair() -> None:
        converse_request_to_openai("gpt-4o", body)
        openai_response_to_converse(RESPONSE, 100)

    rows = [
        ("request+response translation (20 msgs, tools)", _median_seconds(translate_pair, 2_000), "us/op"),
        (
            "request translation only",
            _median_seconds(lambda: converse_request_to_openai("m", body), 2_000),
            "us/op",
        ),
        ("stream chunk -> events", _median_seconds(lambda: translator.feed(chunk), 50_000), "us/op"),
        (
            "event-stream frame encode",
            _median_seconds(lambda: encode_event("contentBlockDelta", delta), 100_000),
            "frames/s",
        ),
    ]
    print(f"{'benchmark':<48} {'median':>14}  unit   (median of {REPEATS} repeats)")
    for name, seconds, unit in rows:
        value = 1 / seconds if unit == "frames/s" else seconds * 1e6
        print(f"{name:<48} {value:>14,.1f}  {unit}")


if __name__ == "__main__":
    main()
