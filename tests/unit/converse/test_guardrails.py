"""guardrailConfig -> LiteLLM guardrails (pure parts): parsing, resolution order, blocks, trace shapes."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator
from starlette.datastructures import Headers

from gateway.converse.guardrails import (
    APPLIED_HEADER,
    GuardrailRequest,
    LiteLLMGuardrail,
    guardrail_request_from_headers,
    guardrails_from_list,
    parse_guardrail_config,
    parse_guardrail_map,
    resolve_guardrails,
    whole_answer_events,
)
from gateway.errors import ErrorKind, GatewayError, upstream_error

AVAILABLE = {
    "block-prompt": LiteLLMGuardrail("block-prompt", frozenset({"pre_call"})),
    "block-answer": LiteLLMGuardrail("block-answer", frozenset({"post_call"})),
    "log-only": LiteLLMGuardrail("log-only", frozenset({"logging_only"})),
    "bedrock-v1": LiteLLMGuardrail("bedrock-v1", frozenset({"during_call"}), "gr1abc", "1"),
    "bedrock-v1-out": LiteLLMGuardrail("bedrock-v1-out", frozenset({"post_call"}), "gr1abc", "1"),
    "bedrock-v2": LiteLLMGuardrail("bedrock-v2", frozenset({"pre_call"}), "gr1abc", "2"),
    "quiet": LiteLLMGuardrail("quiet", frozenset({"pre_call"}), "gr2", "1", passthrough=True),
}
# LiteLLM 1.108.7's answers to a blocked request, as captured from the proxy
CONTENT_FILTER_BLOCK = {
    "error": {
        "message": "Content blocked: keyword 'zorblax' detected (a test word)",
        "type": "invalid_request_error",
        "param": None,
        "code": "400",
        "provider_specific_fields": {
            "error": "Content blocked: keyword 'zorblax' detected (a test word)",
            "keyword": "zorblax",
            "description": "a test word",
            "guardrail_name": "block-prompt",
            "guardrail_mode": "pre_call",
        },
    }
}
BEDROCK_BLOCK = {
    "error": {
        "message": "{'error': 'Violated guardrail policy', ...}",
        "type": "invalid_request_error",
        "code": "400",
        "provider_specific_fields": {
            "error": "Violated guardrail policy",
            "bedrock_guardrail_response": "Sorry, the model cannot answer this question.",
            "guardrailIdentifier": "gr1abc",
            "guardrailVersion": "1",
            "assessments": [
                {
                    "policy": "topicPolicy",
                    "matches": [{"category": "topics", "name": "Secrets", "type": "DENY", "action": "BLOCKED"}],
                },
                {"policy": "wordPolicy", "matches": [{"category": "customWords", "match": "[REDACTED]"}]},
                {"policy": "notAPolicy", "matches": [{"category": "x"}]},
            ],
            "guardrail_name": "bedrock-v1-out",
            "guardrail_mode": "post_call",
        },
    }
}


def request(identifier: str, version: str | None = "1", trace: bool = False) -> GuardrailRequest:
    return GuardrailRequest(identifier, version, trace)


def error_of(body: dict, status: int = 400) -> GatewayError:
    return upstream_error(status, json.dumps(body).encode())


def shape_errors(value: dict, shape_name: str) -> str:
    """botocore's own check of ``value`` against a bedrock-runtime shape ('' when it conforms)."""
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    report = ParamValidator().validate(value, model.shape_for(shape_name))
    return report.generate_report() if report.has_errors() else ""


# ---------------------------------------------------------------- guardrailConfig


def test_a_full_stream_config_parses():
    config = {"guardrailIdentifier": " g1 ", "guardrailVersion": "DRAFT", "trace": "enabled_full"}
    assert parse_guardrail_config({**config, "streamProcessingMode": "async"}, stream=True) == GuardrailRequest(
        "g1", "DRAFT", True
    )
    assert parse_guardrail_config(None, stream=False) is None
    assert parse_guardrail_config({"guardrailIdentifier": "g1"}, stream=False) == GuardrailRequest("g1", None, False)


@pytest.mark.parametrize(
    ("config", "stream", "message"),
    [
        ("g1", False, "guardrailConfig must be an object"),
        ({}, False, "guardrailConfig.guardrailIdentifier must be a non-empty string"),
        ({"guardrailIdentifier": " "}, False, "guardrailConfig.guardrailIdentifier must be a non-empty string"),
        ({"guardrailIdentifier": "g", "guardrailVersion": 1}, False, "guardrailVersion must be a non-empty string"),
        ({"guardrailIdentifier": "g", "trace": "on"}, False, "trace must be one of enabled, disabled, enabled_full"),
        ({"guardrailIdentifier": "g", "streamProcessingMode": "sync"}, False, "unknown field(s): streamProcessingMode"),
        ({"guardrailIdentifier": "g", "streamProcessingMode": "later"}, True, "must be one of sync, async"),
        ({"guardrailIdentifier": "g", "guardrails": ["x"]}, True, "unknown field(s): guardrails"),
    ],
)
def test_a_malformed_config_is_refused_naming_the_field(config, stream, message):
    with pytest.raises(GatewayError) as caught:
        parse_guardrail_config(config, stream=stream)
    assert caught.value.kind is ErrorKind.VALIDATION and message in caught.value.message


def test_invoke_model_headers_make_the_same_request():
    headers = Headers(
        {
            "X-Amzn-Bedrock-GuardrailIdentifier": "gr1abc",
            "X-Amzn-Bedrock-GuardrailVersion": "DRAFT",
            "X-Amzn-Bedrock-Trace": "ENABLED",
        }
    )
    assert guardrail_request_from_headers(headers) == GuardrailRequest("gr1abc", "DRAFT", True)
    assert guardrail_request_from_headers(Headers({"X-Amzn-Bedrock-Trace": "DISABLED"})) is None
    assert guardrail_request_from_headers(Headers({})) is None
    for bad in (
        {"X-Amzn-Bedrock-GuardrailVersion": "1"},
        {"X-Amzn-Bedrock-GuardrailIdentifier": "g", "X-Amzn-Bedrock-Trace": "on"},
    ):
        with pytest.raises(GatewayError) as caught:
            guardrail_request_from_headers(Headers(bad))
        assert caught.value.kind is ErrorKind.VALIDATION and "X-Amzn-Bedrock-" in caught.value.message


def test_a_malformed_map_in_the_environment_stops_the_middleware_naming_the_setting():
    from gateway.settings import Settings, SettingsError

    env = {"LITELLM_MASTER_KEY": "sk-test", "GUARDRAIL_MAP": '{"gr1": "pii"}'}
    assert Settings.from_env(env).guardrail_map == {"gr1": ("pii",)}
    assert Settings.from_env({"LITELLM_MASTER_KEY": "sk-test"}).guardrail_map == {}
    with pytest.raises(SettingsError, match="GUARDRAIL_MAP"):
        Settings.from_env({**env, "GUARDRAIL_MAP": '{"gr1": 3}'})


# ---------------------------------------------------------------- GUARDRAIL_MAP


def test_the_map_takes_names_and_lists():
    raw = '{"gr1abc:1": "block-prompt", "gr1abc": ["block-prompt", "block-answer"]}'
    assert parse_guardrail_map(raw) == {"gr1abc:1": ("block-prompt",), "gr1abc": ("block-prompt", "block-answer")}
    assert parse_guardrail_map("  ") == {}


@pytest.mark.parametrize("raw", ["[1]", "{", '{"g": 3}', '{"g": []}', '{"g": [""]}', '{" ": "x"}'])
def test_a_malformed_map_is_an_error(raw):
    with pytest.raises(ValueError):
        parse_guardrail_map(raw)


# ---------------------------------------------------------------- resolution order


def test_the_map_wins_and_a_versioned_key_before_the_plain_one():
    mapping = {"gr1abc:1": ("block-prompt",), "gr1abc": ("block-answer",), "block-answer": ("block-prompt",)}
    assert resolve_guardrails(request("gr1abc", "1"), mapping, AVAILABLE).names == ("block-prompt",)
    assert resolve_guardrails(request("gr1abc", "7"), mapping, AVAILABLE).names == ("block-answer",)
    # the map even wins over a LiteLLM guardrail of the same name
    assert resolve_guardrails(request("block-answer"), mapping, AVAILABLE).names == ("block-prompt",)


def test_then_a_litellm_guardrail_name_whatever_the_version():
    resolved = resolve_guardrails(request("block-answer", "DRAFT"), {}, AVAILABLE)
    assert resolved.names == ("block-answer",) and resolved.checks_output


def test_then_litellm_bedrock_guardrails_with_that_id_and_version():
    resolved = resolve_guardrails(request("gr1abc", "1"), {}, AVAILABLE)
    assert resolved.names == ("bedrock-v1", "bedrock-v1-out") and resolved.checks_output
    assert resolve_guardrails(request("gr1abc", "2"), {}, AVAILABLE).names == ("bedrock-v2",)
    arn = "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr1abc"
    assert resolve_guardrails(request(arn, "2"), {}, AVAILABLE).names == ("bedrock-v2",)


@pytest.mark.parametrize(
    ("req", "mapping", "message"),
    [
        (request("nope"), {}, "guardrail 'nope' version '1' is not configured on this gateway"),
        (request("gr1abc", "3"), {}, "guardrail 'gr1abc' version '3' is not configured"),
        (request("gr9"), {"gr9": ("gone",)}, "maps to LiteLLM guardrail 'gone', which does not exist"),
        (request("log-only"), {}, "runs in mode logging_only, which cannot block a request"),
    ],
)
def test_an_unknown_or_unusable_guardrail_is_a_validation_error(req, mapping, message):
    with pytest.raises(GatewayError) as caught:
        resolve_guardrails(req, mapping, AVAILABLE)
    assert caught.value.kind is ErrorKind.VALIDATION and message in caught.value.message


def test_litellm_list_entries_become_guardrails():
    payload = {
        "guardrails": [
            {"guardrail_name": "a", "litellm_params": {"guardrail": "litellm_content_filter", "mode": "pre_call"}},
            {
                "guardrail_name": "b",
                "litellm_params": {
                    "guardrail": "bedrock",
                    "mode": ["pre_call", "post_call"],
                    "guardrailIdentifier": "gr1",
                    "guardrailVersion": 2,
                },
            },
            {"guardrail_name": "c", "litellm_params": {"mode": {"tags": {"x": "post_call"}, "default": "pre_call"}}},
            {"guardrail_name": "d", "litellm_params": None},
            {"guardrail_name": "e", "litellm_params": {"mode": "pre_call", "disable_exception_on_block": True}},
            {"litellm_params": {"mode": "pre_call"}},
        ]
    }
    got = guardrails_from_list(payload)
    assert got["a"] == LiteLLMGuardrail("a", frozenset({"pre_call"}))
    assert got["b"] == LiteLLMGuardrail("b", frozenset({"pre_call", "post_call"}), "gr1", "2")
    assert got["c"].modes == {"pre_call", "post_call"}
    assert got["d"].modes == frozenset() and set(got) == {"a", "b", "c", "d", "e"}
    assert got["e"].passthrough and not got["a"].passthrough


# ---------------------------------------------------------------- running and blocking


def test_the_guardrails_are_named_in_the_upstream_body_next_to_the_callers_own():
    body = {"model": "m", "guardrails": ["mine", "block-prompt"]}
    resolve_guardrails(request("block-prompt"), {}, AVAILABLE).apply_to(body)
    assert body["guardrails"] == ["block-prompt", "mine"]


def test_an_answer_litellm_did_not_guard_with_every_requested_guardrail_is_withheld():
    resolved = resolve_guardrails(request("gr1abc", "1"), {}, AVAILABLE)
    resolved.check_applied({APPLIED_HEADER: "other,bedrock-v1-out, bedrock-v1"})
    for headers in ({APPLIED_HEADER: "bedrock-v1"}, {}):
        with pytest.raises(GatewayError) as caught:
            resolved.check_applied(headers)
        assert caught.value.kind is ErrorKind.INTERNAL and "bedrock-v1-out" in caught.value.message


def passthrough_reply(finish_reason: str) -> dict:
    message = {"role": "assistant", "content": "Sorry, the model cannot answer this question."}
    return {"choices": [{"index": 0, "finish_reason": finish_reason, "message": message}]}


def test_a_passthrough_block_is_an_intervention_and_anything_else_unguarded_is_withheld():
    quiet = resolve_guardrails(request("quiet"), {}, AVAILABLE)
    assert quiet.whole_answer_first and not quiet.checks_output
    with pytest.raises(GatewayError) as caught:
        quiet.check_applied({}, passthrough_reply("content_filter"))
    blocked = quiet.intervention(caught.value)
    assert blocked is not None and blocked.message == "Sorry, the model cannot answer this question."
    assert quiet.blocked_response(blocked, 1)["stopReason"] == "guardrail_intervened"
    for resolved, reply in ((quiet, passthrough_reply("stop")), (quiet, None)):
        with pytest.raises(GatewayError) as caught:
            resolved.check_applied({}, reply)
        assert caught.value.kind is ErrorKind.INTERNAL and resolved.intervention(caught.value) is None
    # a guardrail that is not in passthrough mode never turns an unguarded answer into a block
    loud = resolve_guardrails(request("block-prompt"), {}, AVAILABLE)
    with pytest.raises(GatewayError) as caught:
        loud.check_applied({}, passthrough_reply("content_filter"))
    assert caught.value.kind is ErrorKind.INTERNAL


def test_a_keyword_block_becomes_bedrocks_guardrail_answer_with_its_trace():
    resolved = resolve_guardrails(request("block-prompt", trace=True), {}, AVAILABLE)
    blocked = resolved.intervention(error_of(CONTENT_FILTER_BLOCK))
    assert blocked is not None and not blocked.on_output
    body = resolved.blocked_response(blocked, 12)
    assert body["stopReason"] == "guardrail_intervened"
    message = "Content blocked: keyword 'zorblax' detected (a test word)"
    assert body["output"]["message"]["content"] == [{"text": message}]
    assessment = body["trace"]["guardrail"]["inputAssessment"]["block-prompt"]
    assert assessment["wordPolicy"]["customWords"] == [{"match": "zorblax", "action": "BLOCKED", "detected": True}]
    assert assessment["appliedGuardrailDetails"] == {
        "guardrailId": "block-prompt",
        "guardrailOrigin": ["REQUEST"],
        "guardrailVersion": "1",
    }
    assert shape_errors(body["trace"], "ConverseTrace") == ""
    assert "trace" not in resolve_guardrails(request("block-prompt"), {}, AVAILABLE).blocked_response(blocked, 1)


def test_a_bedrock_block_keeps_bedrocks_message_and_assessments_on_the_output():
    resolved = resolve_guardrails(request("gr1abc", "1", trace=True), {}, AVAILABLE)
    blocked = resolved.intervention(error_of(BEDROCK_BLOCK))
    assert blocked is not None and blocked.on_output
    events = resolved.blocked_events(blocked, 5)
    assert [name for name, _ in events] == [
        "messageStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata",
    ]  # fmt: skip
    assert events[1][1]["delta"] == {"text": "Sorry, the model cannot answer this question."}
    assert events[3][1] == {"stopReason": "guardrail_intervened"}
    trace = events[4][1]["trace"]
    (assessment,) = trace["guardrail"]["outputAssessments"]["gr1abc"]
    assert assessment["topicPolicy"] == {
        "topics": [{"name": "Secrets", "type": "DENY", "action": "BLOCKED", "detected": True}]
    }
    assert assessment["wordPolicy"] == {
        "customWords": [{"action": "BLOCKED", "match": "[REDACTED]", "detected": True}],
        "managedWordLists": [],
    }
    assert "notAPolicy" not in assessment
    assert shape_errors(trace, "ConverseStreamTrace") == ""


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (CONTENT_FILTER_BLOCK, 500),  # not a block status
        ({"error": {"message": "Your team does not have permission to modify guardrails."}}, 403),
        ({"error": {**CONTENT_FILTER_BLOCK["error"], "provider_specific_fields": {"guardrail_name": "x"}}}, 400),
    ],
)
def test_other_errors_and_other_guardrails_stay_errors(body, status):
    resolved = resolve_guardrails(request("block-prompt"), {}, AVAILABLE)
    assert resolved.intervention(error_of(body, status)) is None
    assert resolved.intervention(GatewayError(ErrorKind.VALIDATION, "plain")) is None
    assert resolved.intervention(upstream_error(400, b"not json")) is None


def test_a_passing_request_traces_the_guardrails_that_checked_it():
    trace = resolve_guardrails(request("gr1abc", "1", trace=True), {}, AVAILABLE).trace()
    details = {"guardrailId": "gr1abc", "guardrailOrigin": ["REQUEST"], "guardrailVersion": "1"}
    assert trace == {
        "guardrail": {
            "inputAssessment": {"gr1abc": {"appliedGuardrailDetails": details}},
            "outputAssessments": {"gr1abc": [{"appliedGuardrailDetails": details}]},
        }
    }
    assert shape_errors(trace, "ConverseTrace") == ""
    assert resolve_guardrails(request("gr1abc", "1"), {}, AVAILABLE).trace() is None


def test_a_checked_whole_answer_streams_as_bedrock_events():
    response = {
        "choices": [
            {
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "Let me look.",
                    "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    events = whole_answer_events(response, 9)
    assert [name for name, _ in events] == [
        "messageStart", "contentBlockDelta", "contentBlockStop", "contentBlockStart", "contentBlockDelta",
        "contentBlockStop", "messageStop", "metadata",
    ]  # fmt: skip
    assert events[1][1]["delta"] == {"text": "Let me look."}
    assert events[3][1]["start"] == {"toolUse": {"toolUseId": "t1", "name": "f"}}
    assert events[6][1] == {"stopReason": "tool_use"}
    assert events[7][1]["usage"]["totalTokens"] == 7
