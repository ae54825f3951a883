from __future__ import annotations

import copy

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.prompts.apply import apply_prompt
from gateway.prompts.render import ResolvedPrompt

ARN = "arn:aws:bedrock:us-east-1:123456789012:prompt/ABCDE12345:1"
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
OWN_TOOL = {"type": "function", "function": {"name": "mine", "parameters": {"type": "object"}}}


def prompt(**overrides) -> ResolvedPrompt:
    fields = {
        "arn": ARN,
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Tell me about fruit."},
        ],
    }
    return ResolvedPrompt(**{**fields, **overrides})


def test_model_and_messages() -> None:
    body = {
        "model": ARN,
        "messages": [
            {"role": "user", "content": "And vegetables?"},
            {"role": "developer", "content": "Answer in French."},
        ],
        "user": "u1",
    }
    out = apply_prompt(body, prompt())
    assert out["model"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert out["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": "Tell me about fruit."},
        {"role": "user", "content": "And vegetables?"},
    ]
    assert out["user"] == "u1"


@pytest.mark.parametrize("body", [{"model": ARN}, {"model": ARN, "messages": None}, {"model": ARN, "messages": []}])
def test_the_request_may_have_no_messages(body: dict) -> None:
    assert apply_prompt(body, prompt())["messages"] == prompt().messages


def test_messages_must_be_a_list() -> None:
    with pytest.raises(GatewayError) as info:
        apply_prompt({"model": ARN, "messages": "hi"}, prompt())
    assert info.value.kind is ErrorKind.VALIDATION
    assert info.value.param == "messages"


def test_the_body_is_not_mutated() -> None:
    body = {"model": ARN, "messages": [{"role": "user", "content": "x"}]}
    before = copy.deepcopy(body)
    apply_prompt(body, prompt(tools=[TOOL], defaults={"temperature": 0.1}))
    assert body == before


def test_prompt_inference_defaults_apply() -> None:
    defaults = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 300, "stop": ["END"], "top_k": 5}
    out = apply_prompt({"model": ARN}, prompt(defaults=defaults))
    assert {k: out[k] for k in defaults} == defaults


def test_the_request_overrides_inference_fields() -> None:
    defaults = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 300, "stop": ["END"]}
    body = {"model": ARN, "temperature": 1.0, "stop": None, "max_completion_tokens": 50}
    out = apply_prompt(body, prompt(defaults=defaults))
    assert out["temperature"] == 1.0  # the request's own
    assert out["top_p"] == 0.9  # not set by the request
    assert out["stop"] == ["END"]  # null counts as not set
    assert "max_tokens" not in out  # max_completion_tokens is the same setting
    assert out["max_completion_tokens"] == 50


def test_prompt_tools_apply_when_the_request_has_none() -> None:
    out = apply_prompt({"model": ARN}, prompt(tools=[TOOL], tool_choice="required"))
    assert (out["tools"], out["tool_choice"]) == ([TOOL], "required")


def test_the_request_tool_choice_wins_over_the_prompt() -> None:
    out = apply_prompt({"model": ARN, "tool_choice": "none"}, prompt(tools=[TOOL], tool_choice="required"))
    assert (out["tools"], out["tool_choice"]) == ([TOOL], "none")


def test_the_request_tools_replace_the_prompt_tools() -> None:
    choice = {"type": "function", "function": {"name": "lookup"}}
    out = apply_prompt({"model": ARN, "tools": [OWN_TOOL]}, prompt(tools=[TOOL], tool_choice=choice))
    assert out["tools"] == [OWN_TOOL]
    assert "tool_choice" not in out  # the prompt's choice may name a tool that is not there


def test_no_tools_anywhere() -> None:
    out = apply_prompt({"model": ARN}, prompt())
    assert "tools" not in out
    assert "tool_choice" not in out
