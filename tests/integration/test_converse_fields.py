"""Converse fields around the answer, through boto3 and the local stack: stop sequences, service tier,
performance config, response field paths, citations, cache writes by TTL, original stream errors.

``fake`` is the OpenAI-compatible stand-in (it reports a matched stop string as vLLM does);
``fake-claude`` is LiteLLM's ``anthropic/`` provider against an Anthropic-format stand-in
(tests/support/fake_anthropic.py).
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import EventStreamError

from tests.integration.bedrock_clients import bearer_client
from tests.support.fake_anthropic import CACHE_1H_TOKENS, CACHE_5M_TOKENS, CITED_PREFIX, OVERLOADED_MESSAGE

FACTS = "The sky is blue. Grass is green."


@pytest.fixture(scope="module")
def bedrock(gateway_url, master_key):
    return bearer_client(gateway_url, master_key)


def user(*content: dict) -> dict:
    return {"role": "user", "content": list(content)}


def stream_events(response) -> list[dict]:
    return list(response["stream"])


def first(events: list[dict], name: str) -> dict:
    return next(e[name] for e in events if name in e)


# -- stop sequences ---------------------------------------------------------------------------------


def test_a_stop_sequence_the_upstream_reports_is_the_stop_reason_and_a_response_field(bedrock):
    response = bedrock.converse(
        modelId="fake",
        messages=[user({"text": "count __stop__"})],
        inferenceConfig={"stopSequences": ["###", "END"]},
        additionalModelResponseFieldPaths=["/stop_sequence"],
    )
    assert response["stopReason"] == "stop_sequence"
    assert response["additionalModelResponseFields"] == {"stop_sequence": "###"}


def test_a_plain_stop_is_end_turn_and_asks_for_absent_fields_get_none(bedrock):
    response = bedrock.converse(
        modelId="fake",
        messages=[user({"text": "count"})],
        inferenceConfig={"stopSequences": ["###"]},
        additionalModelResponseFieldPaths=["/stop_sequence"],
    )
    assert response["stopReason"] == "end_turn"
    assert "additionalModelResponseFields" not in response


def test_a_stop_sequence_litellm_does_not_relay_is_never_guessed(bedrock):
    """LiteLLM 1.108.7 drops Claude's ``stop_sequence`` (and every streamed stop string): ``end_turn``."""
    kwargs = {"messages": [user({"text": "count __stop__"})], "inferenceConfig": {"stopSequences": ["###"]}}
    assert bedrock.converse(modelId="fake-claude", **kwargs)["stopReason"] == "end_turn"
    for model in ("fake-claude", "fake"):
        events = stream_events(bedrock.converse_stream(modelId=model, **kwargs))
        assert first(events, "messageStop")["stopReason"] == "end_turn"


# -- service tier, performance config, response field paths ------------------------------------------


def test_service_tier_reaches_litellm_and_is_echoed_with_performance_config(bedrock):
    response = bedrock.converse(
        modelId="fake",
        messages=[user({"text": "__echo_request__"})],
        serviceTier={"type": "priority"},
        performanceConfig={"latency": "optimized"},
    )
    upstream_body = json.loads(response["output"]["message"]["content"][0]["text"])
    assert upstream_body["service_tier"] == "priority"
    assert response["serviceTier"] == {"type": "priority"}
    assert response["performanceConfig"] == {"latency": "optimized"}


def test_service_tier_and_performance_config_in_the_stream_metadata(bedrock):
    events = stream_events(
        bedrock.converse_stream(
            modelId="fake",
            messages=[user({"text": "hi"})],
            serviceTier={"type": "flex"},
            performanceConfig={"latency": "standard"},
        )
    )
    metadata = first(events, "metadata")
    assert metadata["serviceTier"] == {"type": "flex"}
    assert metadata["performanceConfig"] == {"latency": "standard"}


def test_without_them_neither_is_in_the_answer(bedrock):
    response = bedrock.converse(modelId="fake", messages=[user({"text": "hi"})])
    assert "serviceTier" not in response and "performanceConfig" not in response


def test_response_field_paths_sync_and_stream(bedrock):
    paths = ["/model", "/usage/completion_tokens", "/not_there"]
    response = bedrock.converse(
        modelId="fake", messages=[user({"text": "one two"})], additionalModelResponseFieldPaths=paths
    )
    fields = response["additionalModelResponseFields"]
    assert fields == {"model": "fake", "usage": {"completion_tokens": response["usage"]["outputTokens"]}}
    events = stream_events(
        bedrock.converse_stream(
            modelId="fake", messages=[user({"text": "one two"})], additionalModelResponseFieldPaths=paths
        )
    )
    streamed = first(events, "messageStop")["additionalModelResponseFields"]
    assert streamed["model"] == "fake"
    assert streamed["usage"]["completion_tokens"] == first(events, "metadata")["usage"]["outputTokens"]


@pytest.mark.parametrize(
    "field",
    [
        {"serviceTier": {"type": "turbo"}},
        {"performanceConfig": {"latency": "fast"}},
        {"additionalModelResponseFieldPaths": ["stop_sequence"]},
        {"additionalModelResponseFieldPaths": ["/a~2b"]},
    ],
)
def test_bad_values_are_validation_exceptions(gateway_url, master_key, field):
    body = {"messages": [user({"text": "hi"})], **field}
    response = httpx.post(
        f"{gateway_url}/bedrock/model/fake/converse",
        headers={"Authorization": f"Bearer {master_key}"},
        json=body,
        timeout=30,
    )
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "ValidationException"
    assert next(iter(field)) in response.json()["message"]


# -- citations ---------------------------------------------------------------------------------------


def cited_question(citations: bool = True) -> dict:
    document = {"format": "txt", "name": "facts", "source": {"text": FACTS}}
    if citations:
        document["citations"] = {"enabled": True}
    return user({"document": document}, {"text": "What colour is the sky?"})


EXPECTED_CITATION = {
    "title": "facts",
    "sourceContent": [{"text": "The sky is blue."}],
    "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 16}},
}


def test_citations_round_trip(bedrock):
    response = bedrock.converse(modelId="fake-claude", messages=[cited_question()])
    content = response["output"]["message"]["content"]
    assert content == [
        {"text": CITED_PREFIX},
        {"citationsContent": {"content": [{"text": "The sky is blue."}], "citations": [EXPECTED_CITATION]}},
        {"text": "."},
    ]
    # the cited answer goes back as the assistant turn of the next request, as Bedrock clients do
    follow_up = bedrock.converse(
        modelId="fake-claude",
        messages=[cited_question(), response["output"]["message"], user({"text": "And the grass?"})],
    )
    assert follow_up["output"]["message"]["content"] == [
        {"text": CITED_PREFIX},
        {"citationsContent": {"content": [{"text": "The sky is blue."}], "citations": [EXPECTED_CITATION]}},
        {"text": "."},
    ]


def test_citations_stream_as_citation_deltas(bedrock):
    events = stream_events(bedrock.converse_stream(modelId="fake-claude", messages=[cited_question()]))
    deltas = [e["contentBlockDelta"] for e in events if "contentBlockDelta" in e]
    citations = [d for d in deltas if "citation" in d["delta"]]
    assert [c["delta"]["citation"] for c in citations] == [EXPECTED_CITATION]
    cited_block = citations[0]["contentBlockIndex"]
    cited_text = "".join(d["delta"].get("text", "") for d in deltas if d["contentBlockIndex"] == cited_block)
    assert cited_text.startswith("The sky is blue.")
    assert "".join(d["delta"].get("text", "") for d in deltas) == CITED_PREFIX + "The sky is blue.."


def test_no_citations_when_the_model_gives_none(bedrock):
    response = bedrock.converse(modelId="fake-claude", messages=[cited_question(citations=False)])
    assert all("citationsContent" not in block for block in response["output"]["message"]["content"])
    events = stream_events(bedrock.converse_stream(modelId="fake-claude", messages=[cited_question(citations=False)]))
    assert not any("citation" in e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e)


# -- cache writes by TTL -----------------------------------------------------------------------------


def cached_question() -> dict:
    return user(
        {"text": "long context"},
        {"cachePoint": {"type": "default", "ttl": "1h"}},
        {"text": "question"},
        {"cachePoint": {"type": "default"}},
    )


EXPECTED_CACHE = [{"ttl": "1h", "inputTokens": CACHE_1H_TOKENS}, {"ttl": "5m", "inputTokens": CACHE_5M_TOKENS}]


def test_cache_writes_by_ttl_sync_and_stream(bedrock):
    usage = bedrock.converse(modelId="fake-claude", messages=[cached_question()])["usage"]
    assert usage["cacheDetails"] == EXPECTED_CACHE
    assert usage["cacheWriteInputTokens"] == CACHE_1H_TOKENS + CACHE_5M_TOKENS
    events = stream_events(bedrock.converse_stream(modelId="fake-claude", messages=[cached_question()]))
    assert first(events, "metadata")["usage"]["cacheDetails"] == EXPECTED_CACHE


def test_no_cache_details_without_cache_writes(bedrock):
    usage = bedrock.converse(modelId="fake-claude", messages=[user({"text": "hi"})])["usage"]
    assert "cacheDetails" not in usage


# -- a model stream error carries the upstream's status and message ------------------------------------


def test_stream_error_carries_the_original_status_and_message(bedrock, gateway_url, master_key):
    kwargs = {"modelId": "fake-claude", "messages": [user({"text": "__overloaded__"})]}
    with pytest.raises(EventStreamError) as raised:
        stream_events(bedrock.converse_stream(**kwargs))
    assert raised.value.response["Error"]["Code"] == "modelStreamErrorException"
    # boto3 keeps only Code and Message of a stream exception: read the frame itself for the rest
    with httpx.stream(
        "POST",
        f"{gateway_url}/bedrock/model/fake-claude/converse-stream",
        headers={"Authorization": f"Bearer {master_key}"},
        json={"messages": kwargs["messages"]},
        timeout=30,
    ) as response:
        buffer = EventStreamBuffer()
        for data in response.iter_bytes():
            buffer.add_data(data)
        frames = list(buffer)
    error = frames[-1]
    assert error.headers[":message-type"] == "exception"
    assert error.headers[":exception-type"] == "modelStreamErrorException"
    payload = json.loads(error.payload)
    assert payload["originalStatusCode"] == 500
    assert OVERLOADED_MESSAGE in payload["originalMessage"]


# -- audio -------------------------------------------------------------------------------------------


def test_audio_reaches_the_model_as_openai_input_audio(bedrock):
    message = user({"audio": {"format": "mp3", "source": {"bytes": b"ID3-fake"}}}, {"text": "__echo_request__"})
    response = bedrock.converse(modelId="fake", messages=[message])
    upstream_body = json.loads(response["output"]["message"]["content"][0]["text"])
    audio = upstream_body["messages"][0]["content"][0]
    assert audio["type"] == "input_audio"
    assert audio["input_audio"]["format"] == "mp3"
    assert base64.b64decode(audio["input_audio"]["data"]) == b"ID3-fake"
