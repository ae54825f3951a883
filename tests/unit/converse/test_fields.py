"""Converse fields around the answer (tier, performance, stop sequences, field paths, citations, cache
TTLs, original stream errors): pure translation, every produced shape parsed by a real boto3 client."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import EventStreamError

from gateway.converse.citations import bedrock_citation, citation_blocks
from gateway.converse.eventstream import encode_events, encode_gateway_error
from gateway.converse.extras import cache_details
from gateway.converse.messages import openai_messages_to_converse
from gateway.converse.stream import ConverseStreamTranslator
from gateway.converse.translate import converse_request_to_openai, openai_response_to_converse
from gateway.errors import ErrorKind, GatewayError

USER_HI = {"role": "user", "content": [{"text": "hi"}]}
CHAR_CITATION = {
    "type": "char_location",
    "cited_text": "The sky is blue.",
    "document_index": 0,
    "document_title": "facts",
    "start_char_index": 0,
    "end_char_index": 16,
}
BEDROCK_CHAR_CITATION = {
    "title": "facts",
    "sourceContent": [{"text": "The sky is blue."}],
    "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 16}},
}


def _call(bedrock, **kwargs):
    body = bedrock.wire_body(modelId="m", **kwargs)  # what boto3 sends: the shapes are Bedrock's
    return converse_request_to_openai("m", body)


def _completion(message: dict, finish_reason: str = "stop", choice_extra: dict | None = None, **top) -> dict:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}
    return {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [{**choice, **(choice_extra or {})}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        **top,
    }


def _parsed(bedrock, converse: dict) -> dict:
    bedrock.respond(json.dumps(converse).encode())
    return bedrock.client.converse(modelId="m", messages=[USER_HI])


# -- request side ------------------------------------------------------------------------------------


def test_service_tier_goes_to_litellm_and_performance_config_does_not(bedrock):
    call = _call(bedrock, messages=[USER_HI], serviceTier={"type": "flex"}, performanceConfig={"latency": "optimized"})
    assert call.openai_body["service_tier"] == "flex"
    assert "performanceConfig" not in call.openai_body and "serviceTier" not in call.openai_body
    assert call.extras.echo() == {"performanceConfig": {"latency": "optimized"}, "serviceTier": {"type": "flex"}}


@pytest.mark.parametrize(
    ("field", "named"),
    [
        ({"serviceTier": {"type": "gold"}}, "serviceTier"),
        ({"serviceTier": "priority"}, "serviceTier"),
        ({"performanceConfig": {"latency": "fast"}}, "performanceConfig.latency"),
        ({"additionalModelResponseFieldPaths": ["stop_sequence"]}, "additionalModelResponseFieldPaths[0]"),
        ({"additionalModelResponseFieldPaths": [""]}, "additionalModelResponseFieldPaths[0]"),
        ({"additionalModelResponseFieldPaths": ["/a~"]}, "additionalModelResponseFieldPaths[0]"),
        ({"additionalModelResponseFieldPaths": ["/a"] * 11}, "additionalModelResponseFieldPaths"),
    ],
)
def test_bad_values_name_the_field(field, named):
    with pytest.raises(GatewayError) as raised:
        converse_request_to_openai("m", {"messages": [USER_HI], **field})
    assert raised.value.kind is ErrorKind.VALIDATION
    assert named in raised.value.message


def _document(**fields) -> dict:
    return {"role": "user", "content": [{"document": {"name": "facts", **fields}}, {"text": "sky?"}]}


@pytest.mark.parametrize(
    ("document", "source"),
    [
        (
            {"format": "txt", "source": {"text": "The sky is blue."}},
            {"type": "text", "media_type": "text/plain", "data": "The sky is blue."},
        ),
        (
            {"format": "md", "source": {"bytes": b"# Sky\nblue"}},
            {"type": "text", "media_type": "text/plain", "data": "# Sky\nblue"},
        ),
        (
            {"source": {"content": [{"text": "one"}, {"text": "two"}]}},
            {"type": "content", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
        ),
        (
            {"format": "pdf", "source": {"bytes": b"%PDF-1.4"}},
            {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(b"%PDF-1.4").decode()},
        ),
    ],
)  # fmt: skip
def test_documents_with_citations_become_anthropic_documents(bedrock, document, source):
    message = _document(**document, citations={"enabled": True}, context="a fact sheet")
    part = _call(bedrock, messages=[message]).openai_body["messages"][0]["content"][0]
    assert part == {
        "type": "document",
        "source": source,
        "title": "facts",
        "citations": {"enabled": True},
        "context": "a fact sheet",
    }


def test_documents_without_citations_stay_files(bedrock):
    message = _document(format="txt", source={"text": "x"}, citations={"enabled": False})
    assert _call(bedrock, messages=[message]).openai_body["messages"][0]["content"][0]["type"] == "file"


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"format": "docx", "source": {"bytes": "UEs="}, "citations": {"enabled": True}}, "citations"),
        ({"format": "txt", "source": {"bytes": "/w=="}, "citations": {"enabled": True}}, "UTF-8"),
        ({"format": "txt", "source": {"text": "x"}, "citations": {"enabled": "yes"}}, "citations.enabled"),
        ({"format": "txt", "source": {"text": "x"}, "cite": True}, "cite"),
    ],
)
def test_documents_that_cannot_be_cited_are_refused(document, named):
    with pytest.raises(GatewayError) as raised:
        converse_request_to_openai("m", {"messages": [_document(**document)]})
    assert named in raised.value.message


def test_a_cited_answer_sent_back_reaches_the_model_as_its_text(bedrock):
    answer = {
        "role": "assistant",
        "content": [
            {"text": "According to the document, "},
            {"citationsContent": {"content": [{"text": "The sky is blue."}], "citations": [BEDROCK_CHAR_CITATION]}},
        ],
    }
    messages = _call(bedrock, messages=[USER_HI, answer, USER_HI]).openai_body["messages"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "According to the document, "},
        {"type": "text", "text": "The sky is blue."},
    ]


def test_citable_documents_in_stored_history_read_back_as_converse_documents():
    part = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "The sky is blue."},
            "title": "facts", "citations": {"enabled": True}, "context": "c"}  # fmt: skip
    _, turns = openai_messages_to_converse([{"role": "user", "content": [part]}])
    assert turns[0]["content"] == [
        {"document": {"format": "txt", "name": "facts", "source": {"text": "The sky is blue."},
                      "context": "c", "citations": {"enabled": True}}}
    ]  # fmt: skip


# -- response side -------------------------------------------------------------------------------


def test_stop_sequence_the_upstream_names_is_the_stop_reason(bedrock):
    extras = converse_request_to_openai(
        "m",
        {
            "messages": [USER_HI],
            "inferenceConfig": {"stopSequences": ["###"]},
            "additionalModelResponseFieldPaths": ["/stop_sequence"],
        },
    ).extras
    vllm = _completion({"content": "a"}, choice_extra={"provider_specific_fields": {"stop_reason": "###"}})
    parsed = _parsed(bedrock, openai_response_to_converse(vllm, 1, extras))
    assert parsed["stopReason"] == "stop_sequence"
    assert parsed["additionalModelResponseFields"] == {"stop_sequence": "###"}
    anthropic = _completion({"content": "a", "provider_specific_fields": {"stop_sequence": "###"}})
    assert openai_response_to_converse(anthropic, 1, extras)["stopReason"] == "stop_sequence"


@pytest.mark.parametrize(
    "choice_extra",
    [
        {"provider_specific_fields": {"stop_reason": "END"}},  # not a stop sequence the request asked for
        {"provider_specific_fields": {"stop_reason": 128001}},  # a stop token id
        {"provider_specific_fields": {"stop_reason": None}},
        {},
    ],
)
def test_no_stop_sequence_is_guessed(choice_extra):
    extras = converse_request_to_openai(
        "m", {"messages": [USER_HI], "inferenceConfig": {"stopSequences": ["###"]}}
    ).extras
    response = openai_response_to_converse(_completion({"content": "a"}, choice_extra=choice_extra), 1, extras)
    assert response["stopReason"] == "end_turn"


def test_response_fields_nest_and_absent_ones_are_left_out(bedrock):
    extras = converse_request_to_openai(
        "m", {"messages": [USER_HI], "additionalModelResponseFieldPaths": ["/usage/total_tokens", "/a~1b", "/nope"]}
    ).extras
    response = _completion({"content": "a", "provider_specific_fields": {"a/b": [1, 2]}})
    parsed = _parsed(bedrock, openai_response_to_converse(response, 1, extras))
    assert parsed["additionalModelResponseFields"] == {"usage": {"total_tokens": 5}, "a/b": [1, 2]}


@pytest.mark.parametrize(("upstream", "echoed"), [(None, "priority"), ("standard", "priority"), ("default", "default")])
def test_service_tier_echo_prefers_a_bedrock_tier_the_upstream_reports(bedrock, upstream, echoed):
    extras = converse_request_to_openai("m", {"messages": [USER_HI], "serviceTier": {"type": "priority"}}).extras
    tier = {"service_tier": upstream} if upstream else {}
    parsed = _parsed(bedrock, openai_response_to_converse(_completion({"content": "a"}, **tier), 1, extras))
    assert parsed["serviceTier"] == {"type": echoed}


def test_citations_become_citations_content_between_text_blocks(bedrock):
    text = "According to the document, The sky is blue.."
    groups = [[{**CHAR_CITATION, "supported_text": "The sky is blue."}]]
    response = _completion({"content": text, "provider_specific_fields": {"citations": groups}})
    parsed = _parsed(bedrock, openai_response_to_converse(response, 1))
    assert parsed["output"]["message"]["content"] == [
        {"text": "According to the document, "},
        {"citationsContent": {"content": [{"text": "The sky is blue."}], "citations": [BEDROCK_CHAR_CITATION]}},
        {"text": "."},
    ]


def test_no_citations_no_citations_content():
    response = _completion({"content": "plain", "provider_specific_fields": {"citations": None}})
    assert openai_response_to_converse(response, 1)["output"]["message"]["content"] == [{"text": "plain"}]


@pytest.mark.parametrize(
    ("citation", "expected"),
    [
        (
            {"type": "page_location", "cited_text": "p", "document_index": 1, "document_title": "t",
             "start_page_number": 2, "end_page_number": 3},
            {"title": "t", "sourceContent": [{"text": "p"}],
             "location": {"documentPage": {"documentIndex": 1, "start": 2, "end": 3}}},
        ),
        (
            {"type": "content_block_location", "cited_text": "c", "document_index": 0, "document_title": None,
             "start_block_index": 0, "end_block_index": 1},
            {"sourceContent": [{"text": "c"}],
             "location": {"documentChunk": {"documentIndex": 0, "start": 0, "end": 1}}},
        ),
        (
            {"type": "search_result_location", "cited_text": "s", "search_result_index": 0, "source": "https://x",
             "title": "X", "start_block_index": 0, "end_block_index": 0},
            {"title": "X", "source": "https://x", "sourceContent": [{"text": "s"}],
             "location": {"searchResultLocation": {"searchResultIndex": 0, "start": 0, "end": 0}}},
        ),
        (
            {"type": "web_search_result_location", "cited_text": "w", "url": "https://w", "title": "W"},
            {"title": "W", "sourceContent": [{"text": "w"}], "location": {"web": {"url": "https://w"}}},
        ),
        ("not a citation", None),
    ],
)  # fmt: skip
def test_each_anthropic_citation_type_has_its_bedrock_location(citation, expected):
    assert bedrock_citation(citation) == expected


def test_cited_text_not_found_keeps_its_citations():
    blocks = citation_blocks("abc", [[{**CHAR_CITATION, "supported_text": "zzz"}]])
    assert blocks == [
        {"citationsContent": {"content": [{"text": "zzz"}], "citations": [BEDROCK_CHAR_CITATION]}},
        {"text": "abc"},
    ]


def test_cache_details_by_ttl_longest_first(bedrock):
    usage = {
        "prompt_tokens": 40,
        "completion_tokens": 2,
        "total_tokens": 42,
        "cache_creation_input_tokens": 33,
        "prompt_tokens_details": {
            "cache_creation_token_details": {"ephemeral_5m_input_tokens": 11, "ephemeral_1h_input_tokens": 22}
        },
    }
    response = {**_completion({"content": "a"}), "usage": usage}
    parsed = _parsed(bedrock, openai_response_to_converse(response, 1))
    assert parsed["usage"]["cacheDetails"] == [{"ttl": "1h", "inputTokens": 22}, {"ttl": "5m", "inputTokens": 11}]
    assert parsed["usage"]["cacheWriteInputTokens"] == 33


@pytest.mark.parametrize(
    "details",
    [None, {}, {"cache_creation_token_details": None},
     {"cache_creation_token_details": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}}],
)  # fmt: skip
def test_no_cache_details_without_cache_writes(details):
    assert cache_details({"prompt_tokens_details": details}) is None


# -- stream --------------------------------------------------------------------------------------


def _chunk(delta: dict | None = None, finish_reason: str | None = None, **top) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    return {"id": "c1", "model": "m", "choices": choices, **top}


def _stream(bedrock, chunks: list[dict], body: dict | None = None) -> list[dict]:
    extras = converse_request_to_openai("m", {"messages": [USER_HI], **(body or {})}).extras
    translator = ConverseStreamTranslator(extras)
    events = [e for chunk in chunks for e in translator.feed(chunk)] + translator.finish(7)
    bedrock.respond_stream(encode_events(events))
    return list(bedrock.client.converse_stream(modelId="m", messages=[USER_HI])["stream"])


def test_streamed_citations_are_citation_deltas_opening_the_cited_block(bedrock):
    chunks = [
        _chunk({"content": "According to the document, "}),
        _chunk({"content": "", "provider_specific_fields": {"citation": CHAR_CITATION}}),
        _chunk({"content": "The sky is blue."}),
        _chunk({}, "stop"),
    ]
    deltas = [e["contentBlockDelta"] for e in _stream(bedrock, chunks) if "contentBlockDelta" in e]
    assert deltas == [
        {"contentBlockIndex": 0, "delta": {"text": "According to the document, "}},
        {"contentBlockIndex": 1, "delta": {"citation": BEDROCK_CHAR_CITATION}},
        {"contentBlockIndex": 1, "delta": {"text": "The sky is blue."}},
    ]


def test_stream_message_stop_fields_and_metadata_tier(bedrock):
    body = {
        "serviceTier": {"type": "default"},
        "performanceConfig": {"latency": "standard"},
        "additionalModelResponseFieldPaths": ["/model", "/stop_sequence"],
        "inferenceConfig": {"stopSequences": ["###"]},
    }
    end = {"index": 0, "delta": {}, "finish_reason": "stop", "provider_specific_fields": {"stop_reason": "###"}}
    chunks = [_chunk({"content": "hi"}), {"id": "c1", "model": "m", "choices": [end]}]
    events = _stream(bedrock, chunks, body)
    stop = next(e["messageStop"] for e in events if "messageStop" in e)
    assert stop == {
        "stopReason": "stop_sequence",
        "additionalModelResponseFields": {"model": "m", "stop_sequence": "###"},
    }
    metadata = next(e["metadata"] for e in events if "metadata" in e)
    assert metadata["serviceTier"] == {"type": "default"}
    assert metadata["performanceConfig"] == {"latency": "standard"}


def test_stream_without_extras_has_no_extra_fields(bedrock):
    events = _stream(bedrock, [_chunk({"content": "hi"}), _chunk({}, "stop")])
    assert next(e["messageStop"] for e in events if "messageStop" in e) == {"stopReason": "end_turn"}
    assert set(next(e["metadata"] for e in events if "metadata" in e)) == {"usage", "metrics"}


def _frame_payload(frame: bytes) -> tuple[dict, dict]:
    buffer = EventStreamBuffer()
    buffer.add_data(frame)
    message = next(iter(buffer))
    return message.headers, json.loads(message.payload)


def test_model_stream_error_carries_the_original_status_and_message(bedrock):
    translator = ConverseStreamTranslator()
    translator.feed(_chunk({"content": "x"}))
    with pytest.raises(GatewayError) as raised:
        translator.feed({"error": {"message": "AnthropicException - Overloaded", "code": "500"}})
    frame = encode_gateway_error(raised.value)
    headers, payload = _frame_payload(frame)
    assert headers[":exception-type"] == "modelStreamErrorException"
    assert payload == {
        "message": "AnthropicException - Overloaded",
        "originalStatusCode": 500,
        "originalMessage": "AnthropicException - Overloaded",
    }
    bedrock.respond_stream(frame)
    with pytest.raises(EventStreamError) as boto_error:
        list(bedrock.client.converse_stream(modelId="m", messages=[USER_HI])["stream"])
    assert boto_error.value.response["Error"]["Code"] == "modelStreamErrorException"


@pytest.mark.parametrize(
    "error",
    [
        {"message": "slow down", "code": "429"},  # throttlingException: no original* in its shape
        {"message": "no code"},
        {"message": "weird code", "code": "abc"},
    ],
)
def test_original_fields_only_where_the_shape_has_them_and_the_upstream_gave_them(error):
    translator = ConverseStreamTranslator()
    with pytest.raises(GatewayError) as raised:
        translator.feed({"error": error})
    _, payload = _frame_payload(encode_gateway_error(raised.value))
    assert payload == {"message": error["message"]}


# -- audio, and the blocks no model can get through LiteLLM --------------------------------------


def test_audio_becomes_openai_input_audio(bedrock):
    message = {"role": "user", "content": [{"audio": {"format": "wav", "source": {"bytes": b"RIFF"}}}, {"text": "?"}]}
    part = _call(bedrock, messages=[message]).openai_body["messages"][0]["content"][0]
    assert part == {"type": "input_audio", "input_audio": {"data": base64.b64encode(b"RIFF").decode(), "format": "wav"}}


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ({"audio": {"format": "flac", "source": {"bytes": "AA=="}}}, "wav, mp3"),
        ({"audio": {"format": "mp3", "source": {"s3Location": {"uri": "s3://b/k"}}}}, "send the audio as bytes"),
        ({"toolAddition": {"tool": {"name": "x"}}}, "only allowed in system messages"),
        ({"video": {"format": "mp4", "source": {"bytes": "AA=="}}}, "no video input"),
    ],
)
def test_blocks_that_cannot_reach_a_model_say_why(block, reason):
    with pytest.raises(GatewayError) as raised:
        converse_request_to_openai("m", {"messages": [{"role": "user", "content": [block]}]})
    assert reason in raised.value.message
