"""Bedrock model ids → LiteLLM model names (gateway.bedrock_ids)."""

from __future__ import annotations

import json

import pytest

from gateway.bedrock_ids import (
    INVALID_MODEL_MESSAGE,
    ModelAliases,
    base_model_id,
    invalid_model_id,
    is_bedrock_model_id,
    resolve_model_id,
)
from gateway.settings import Settings, SettingsError

PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile"
# What a platform team would write: Claude Code's three tiers onto the models they chose.
ALIASES = {
    "*claude-sonnet-*": "gpt-4o",
    "*claude-opus-*": "o3",
    "anthropic.claude-haiku-4-5-20251001": "gpt-4o-mini",
    "us.anthropic.claude-3-5-haiku-20241022-v1:0": "mock-gpt",
    "my-team-model": "gpt-4o",
}


def settings(aliases: dict | None = ALIASES) -> Settings:
    env = {"LITELLM_MASTER_KEY": "sk-master"}
    if aliases is not None:
        env["BEDROCK_MODEL_ALIASES"] = json.dumps(aliases)
    return Settings.from_env(env)


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        # Claude Code's default ids, every geographic prefix, with and without version suffixes
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "gpt-4o"),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "gpt-4o"),
        ("global.anthropic.claude-sonnet-4-6", "gpt-4o"),
        ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0[1m]", "gpt-4o"),
        ("global.anthropic.claude-opus-4-6-v1", "o3"),
        ("us.anthropic.claude-opus-4-1-20250805-v1:0", "o3"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "gpt-4o-mini"),
        ("apac.anthropic.claude-haiku-4-5-20251001-v1:0", "gpt-4o-mini"),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "gpt-4o-mini"),
        ("jp.anthropic.claude-haiku-4-5-20251001-v1:0[1m]", "gpt-4o-mini"),
        # ARNs of inference profiles and foundation models
        (f"{PROFILE_ARN}/us.anthropic.claude-haiku-4-5-20251001-v1:0", "gpt-4o-mini"),
        ("arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0", "gpt-4o"),
        # an exact key wins over the base and the patterns
        ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "mock-gpt"),
        # exact keys also rename non-Bedrock names
        ("my-team-model", "gpt-4o"),
    ],
)
def test_bedrock_ids_resolve_to_the_configured_model(model_id: str, expected: str) -> None:
    assert resolve_model_id(model_id, settings()) == expected


@pytest.mark.parametrize(
    "model_id",
    [
        "mock-gpt",
        "gpt-4o",
        "gemini-2.5-flash",  # a dot, but not provider.model
        "llama3.1-8b",
        "claude-sonnet-4-5",  # Anthropic's own name, not a Bedrock id: LiteLLM may serve it under that name
        "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234:3",  # managed prompts keep working
        "us.fake.model-v1:0",  # a LiteLLM model named like a Bedrock id, no alias: unchanged
        "meta.llama3-70b-instruct-v1:0",  # unknown to the map: LiteLLM decides (and refuses)
    ],
)
def test_other_ids_pass_through_unchanged(model_id: str) -> None:
    assert resolve_model_id(model_id, settings()) == model_id


def test_without_aliases_every_id_passes_through() -> None:
    plain = settings(None)
    assert plain.bedrock_model_aliases == ModelAliases()
    assert resolve_model_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0", plain) == (
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )


def test_patterns_are_tried_in_the_order_written() -> None:
    ordered = settings({"*claude-haiku-4-5*": "first", "*claude-*": "catch-all"})
    assert resolve_model_id("us.anthropic.claude-haiku-4-5-20251001-v1:0", ordered) == "first"
    assert resolve_model_id("us.anthropic.claude-sonnet-4-6", ordered) == "catch-all"
    # a catch-all only takes Bedrock ids: LiteLLM's own names still reach their model
    assert resolve_model_id("gpt-4o", settings({"*": "mock-gpt"})) == "gpt-4o"
    assert resolve_model_id("amazon.nova-pro-v1:0", settings({"*": "mock-gpt"})) == "mock-gpt"


def test_pattern_brackets_and_dots_are_literal() -> None:
    literal = settings({"us.anthropic.claude-sonnet-4-5-20250929-v1:0[1m]": "1m", "us.anthropic.c?aude*": "x"})
    assert resolve_model_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0[1m]", literal) == "1m"
    assert resolve_model_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0", literal) == "x"
    assert resolve_model_id("usxanthropic.claude-sonnet-4-6", literal) == "usxanthropic.claude-sonnet-4-6"


@pytest.mark.parametrize(
    ("model_id", "base"),
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929"),
        ("global.anthropic.claude-opus-4-6-v1", "anthropic.claude-opus-4-6"),
        ("global.anthropic.claude-sonnet-4-6[1m]", "anthropic.claude-sonnet-4-6"),
        ("anthropic.claude-3-sonnet-20240229-v1:0:200k", "anthropic.claude-3-sonnet-20240229"),
        ("us-gov.anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307"),
        ("amazon.titan-embed-text-v2:0", "amazon.titan-embed-text"),
    ],
)
def test_base_model_id(model_id: str, base: str) -> None:
    assert is_bedrock_model_id(model_id)
    assert base_model_id(model_id) == base


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a"]', "JSON object"),
        ('{"*claude*": ""}', "LiteLLM model name"),
        ('{"*claude*": 3}', "LiteLLM model name"),
        ('{" ": "x"}', "LiteLLM model name"),
    ],
)
def test_a_malformed_map_stops_start_up_naming_the_setting(raw: str, problem: str) -> None:
    with pytest.raises(SettingsError, match="BEDROCK_MODEL_ALIASES") as caught:
        Settings.from_env({"LITELLM_MASTER_KEY": "sk-master", "BEDROCK_MODEL_ALIASES": raw})
    assert problem in str(caught.value)


def test_unknown_id_is_bedrocks_validation_exception() -> None:
    error = invalid_model_id("us.nope.model-v1:0")
    assert error.bedrock_status() == 400
    assert error.bedrock_headers() == {"x-amzn-errortype": "ValidationException"}
    assert error.bedrock_body() == {"message": INVALID_MODEL_MESSAGE}


def test_an_application_inference_profile_arn_names_the_litellm_model() -> None:
    arn = "arn:aws:bedrock:us-east-1:000000000000:application-inference-profile/"
    assert resolve_model_id(arn + "mock-gpt", settings()) == "mock-gpt"
    assert resolve_model_id(arn + "my-team-model", settings()) == "gpt-4o"
