from __future__ import annotations

import copy

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.prompts.render import render_prompt
from tests.support.fake_bedrock_agent import chat_variant, text_variant

ARN = "arn:aws:bedrock:us-east-1:123456789012:prompt/ABCDE12345"
ARN_V1 = f"{ARN}:1"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
}
WEATHER_OPENAI = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": WEATHER["inputSchema"]["json"],
    },
}


def response(*variants: dict, default: str | None = None, version: str = "DRAFT") -> dict:
    """A GetPrompt response as boto3 returns it."""
    out = {"name": "p", "id": "ABCDE12345", "arn": ARN, "version": version, "variants": list(variants)}
    if default or variants:
        out["defaultVariant"] = default or variants[0]["name"]
    return out


def var(**values: str) -> dict:
    return {name: {"text": value} for name, value in values.items()}


def validation_error(resp: dict, variables: object, arn: str = ARN) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        render_prompt(resp, variables, arn=arn)
    assert info.value.kind is ErrorKind.VALIDATION
    return info.value


# ---------------------------------------------------------------- TEXT


@pytest.mark.parametrize("arn", [ARN, ARN_V1])
def test_text_prompt_becomes_one_user_message(arn: str) -> None:
    resolved = render_prompt(response(text_variant("Tell me about {{topic}}.")), var(topic="fruit"), arn=arn)
    assert resolved.arn == arn
    assert resolved.model == "fake"
    assert resolved.messages == [{"role": "user", "content": "Tell me about fruit."}]
    assert resolved.tools is None
    assert resolved.tool_choice is None
    assert resolved.defaults == {}


def test_text_prompt_without_variables() -> None:
    resolved = render_prompt(response(text_variant("Say hi")), None, arn=ARN)
    assert resolved.messages == [{"role": "user", "content": "Say hi"}]
    assert render_prompt(response(text_variant("Say hi")), {}, arn=ARN).messages == resolved.messages


def test_model_id_is_used_as_the_litellm_model_name() -> None:
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    assert render_prompt(response(text_variant("x", model_id=model)), None, arn=ARN).model == model


def test_text_cache_point_marks_the_message() -> None:
    resolved = render_prompt(response(text_variant("Long {{doc}}", cache_point=True)), var(doc="text"), arn=ARN)
    assert resolved.messages == [
        {"role": "user", "content": [{"type": "text", "text": "Long text", "cache_control": {"type": "ephemeral"}}]}
    ]


def test_every_occurrence_is_filled_and_values_are_not_expanded_again() -> None:
    variant = text_variant("{{a}} and {{a}} then {{b}}")
    resolved = render_prompt(response(variant), var(a="A", b="{{a}}"), arn=ARN)
    assert resolved.messages[0]["content"] == "A and A then {{a}}"


def test_text_that_is_not_a_placeholder_is_kept() -> None:
    text = 'json: {"x": 1} {{ spaced }} {single} {{}}'
    variant = text_variant(text, input_variables=[])
    assert render_prompt(response(variant), None, arn=ARN).messages[0]["content"] == text


# ---------------------------------------------------------------- CHAT


def test_chat_prompt_system_messages_tools() -> None:
    variant = chat_variant(
        [("user", "Weather in {{city}}?"), ("assistant", "Let me check."), ("user", "In {{unit}} please")],
        system="You are a {{persona}}.",
        tools=[WEATHER],
        tool_choice={"tool": {"name": "get_weather"}},
    )
    resolved = render_prompt(response(variant), var(city="Paris", unit="celsius", persona="forecaster"), arn=ARN_V1)
    assert resolved.messages == [
        {"role": "system", "content": "You are a forecaster."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me check."},
        {"role": "user", "content": "In celsius please"},
    ]
    assert resolved.tools == [WEATHER_OPENAI]
    assert resolved.tool_choice == {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [(None, None), ({"auto": {}}, "auto"), ({"any": {}}, "required")],
)
def test_chat_tool_choice(choice: dict | None, expected: str | None) -> None:
    variant = chat_variant([("user", "hi")], tools=[WEATHER], tool_choice=choice)
    resolved = render_prompt(response(variant), None, arn=ARN)
    assert resolved.tools == [WEATHER_OPENAI]
    assert resolved.tool_choice == expected


def test_chat_system_blocks_and_cache_points() -> None:
    variant = chat_variant(
        [{"role": "user", "content": [{"text": "Q: {{q}}"}, {"cachePoint": {"type": "default"}}]}],
        system=[{"text": "Rule 1."}, {"text": "Rule 2 for {{q}}."}, {"cachePoint": {"type": "default"}}],
    )
    resolved = render_prompt(response(variant), var(q="x"), arn=ARN)
    assert resolved.messages == [
        {
            "role": "system",
            "content": [
                {"type": "text", "text": "Rule 1."},
                {"type": "text", "text": "Rule 2 for x.", "cache_control": {"type": "ephemeral"}},
            ],
        },
        {"role": "user", "content": [{"type": "text", "text": "Q: x", "cache_control": {"type": "ephemeral"}}]},
    ]


def test_chat_prompt_with_only_a_system_message() -> None:
    resolved = render_prompt(response(chat_variant([], system="Be brief.")), None, arn=ARN)
    assert resolved.messages == [{"role": "system", "content": "Be brief."}]


def test_default_variant_is_chosen() -> None:
    first = text_variant("first", name="a", model_id="m-a")
    second = text_variant("second", name="b", model_id="m-b")
    resolved = render_prompt(response(first, second, default="b"), None, arn=ARN)
    assert (resolved.model, resolved.messages[0]["content"]) == ("m-b", "second")
    # unknown or absent default: the first variant
    assert render_prompt(response(first, second, default="zz"), None, arn=ARN).model == "m-a"


def test_the_response_is_not_mutated() -> None:
    variant = chat_variant([("user", "{{a}}")], system="{{a}}", tools=[WEATHER], inference={"temperature": 0.1})
    resp = response(variant)
    before = copy.deepcopy(resp)
    first = render_prompt(resp, var(a="one"), arn=ARN)
    second = render_prompt(resp, var(a="two"), arn=ARN)
    assert resp == before
    assert first.messages[1]["content"] == "one"
    assert second.messages[1]["content"] == "two"


# ---------------------------------------------------------------- inference defaults


def test_inference_configuration_becomes_openai_defaults() -> None:
    inference = {"temperature": 0.2, "topP": 0.9, "maxTokens": 300, "stopSequences": ["END", "\n\n"]}
    resolved = render_prompt(response(text_variant("x", inference=inference)), None, arn=ARN)
    assert resolved.defaults == {"temperature": 0.2, "top_p": 0.9, "max_tokens": 300, "stop": ["END", "\n\n"]}


def test_unset_looking_inference_values_are_dropped() -> None:
    inference = {"temperature": 0.0, "maxTokens": 0, "stopSequences": []}
    resolved = render_prompt(response(text_variant("x", inference=inference)), None, arn=ARN)
    assert resolved.defaults == {"temperature": 0.0}


def test_additional_model_request_fields_become_defaults() -> None:
    variant = text_variant("x", inference={"maxTokens": 10}, additional_fields={"top_k": 40})
    assert render_prompt(response(variant), None, arn=ARN).defaults == {"max_tokens": 10, "top_k": 40}


def test_additional_fields_may_not_set_the_model() -> None:
    variant = text_variant("x", additional_fields={"model": "other"})
    error = validation_error(response(variant), None)
    assert error.message.startswith(f"prompt {ARN} cannot be used: ")
    assert "additionalModelRequestFields.model" in error.message


# ---------------------------------------------------------------- variables


def test_missing_variables_are_named() -> None:
    variant = chat_variant([("user", "{{b}} {{a}}")], system="{{c}}")
    error = validation_error(response(variant), var(c="x"))
    assert error.message == "missing prompt variable(s): a, b"
    assert error.param == "promptVariables"


def test_no_variables_given_for_a_template_that_has_some() -> None:
    assert validation_error(response(text_variant("{{topic}}")), None).message == "missing prompt variable(s): topic"


def test_unknown_variables_are_named() -> None:
    error = validation_error(response(text_variant("{{topic}}")), var(topic="x", zeta="1", alpha="2"))
    assert error.message == "unknown prompt variable(s): alpha, zeta"
    assert error.param == "promptVariables"


def test_missing_and_unknown_are_reported_together() -> None:
    error = validation_error(response(text_variant("{{a}} {{b}}")), var(a="1", z="2"))
    assert error.message == "missing prompt variable(s): b; unknown prompt variable(s): z"


def test_declared_input_variables_count_even_if_unused() -> None:
    variant = text_variant("plain {{a}}", input_variables=["a", "extra"])
    assert validation_error(response(variant), var(a="1")).message == "missing prompt variable(s): extra"
    assert render_prompt(response(variant), var(a="1", extra="2"), arn=ARN).messages[0]["content"] == "plain 1"


def test_placeholders_count_even_if_undeclared() -> None:
    variant = text_variant("{{a}} {{b}}", input_variables=["a"])
    assert validation_error(response(variant), var(a="1")).message == "missing prompt variable(s): b"


@pytest.mark.parametrize(
    "variables",
    [
        ["topic"],
        "topic=x",
        {"topic": "x"},
        {"topic": {"text": 3}},
        {"topic": {}},
        {"topic": {"text": "x", "extra": 1}},
    ],
)
def test_badly_shaped_variables(variables: object) -> None:
    error = validation_error(response(text_variant("{{topic}}")), variables)
    assert "promptVariables" in error.message
    assert error.param == "promptVariables"


# ---------------------------------------------------------------- unusable prompts


@pytest.mark.parametrize(
    ("resp", "problem"),
    [
        (response(), "it has no variant"),
        (response(text_variant("x", model_id=None)), "its variant has no modelId"),
        (
            response({**text_variant("x"), "templateType": "AUDIO", "templateConfiguration": {}}),
            "unsupported template type 'AUDIO'",
        ),
        (response({**text_variant("x"), "templateConfiguration": {"chat": {}}}), "unsupported template type"),
        (
            response(chat_variant([("user", "x")], tools=[WEATHER], tool_choice={"something": {}})),
            "toolConfig.toolChoice",
        ),
        (response(chat_variant([("system", "x")])), "messages[0].role must be one of user, assistant"),
    ],
)
def test_unusable_prompts(resp: dict, problem: str) -> None:
    error = validation_error(resp, None)
    assert error.message.startswith(f"prompt {ARN} cannot be used: ")
    assert problem in error.message
