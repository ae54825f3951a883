"""Bedrock discovery, CountTokens and LiteLLM's relayed inference routes reach the middleware behind the
authorizer (streaming integration), and BEDROCK_MODEL_ALIASES reaches the middleware's environment."""

from __future__ import annotations

import pytest

from gateway_cdk.settings import Settings, SettingsError

from .conftest import Synthesized
from .test_api import _assert_streams_from_the_api_function, _methods
from .test_functions import _function

DISCOVERY = (
    ("GET", "/bedrock/inference-profiles"),
    ("GET", "/bedrock/inference-profiles/{inferenceProfileIdentifier}"),
    ("GET", "/bedrock/foundation-models"),
    ("GET", "/bedrock/foundation-models/{modelIdentifier}"),
    ("POST", "/bedrock/model/{modelId}/count-tokens"),
)
RELAYED = (
    ("POST", "/v1/messages"),
    ("ANY", "/v1/messages/{proxy+}"),  # /v1/messages/count_tokens
    ("POST", "/v1/responses"),
    ("ANY", "/v1/responses/{responseId}"),  # a stored response (the Responses API, tests/cdk/test_responses_routes.py)
    ("ANY", "/v1/responses/{responseId}/{proxy+}"),  # its input items, cancel
    ("POST", "/responses"),
    ("ANY", "/responses/{proxy+}"),
    ("POST", "/v1/embeddings"),
    ("POST", "/embeddings"),
    ("GET", "/v1/models"),
    ("ANY", "/v1/models/{proxy+}"),
    ("GET", "/models"),
    ("ANY", "/models/{proxy+}"),
)


@pytest.mark.parametrize("route", DISCOVERY + RELAYED)
def test_route_streams_from_the_middleware_behind_the_authorizer(synth: Synthesized, route: tuple[str, str]) -> None:
    method = _methods(synth)[route]
    _assert_streams_from_the_api_function(method["Integration"], route)
    assert method["AuthorizationType"] == "CUSTOM" and "Ref" in method["AuthorizerId"]


def test_identifiers_are_path_parameters(synth: Synthesized) -> None:
    methods = _methods(synth)
    profile = methods[("GET", "/bedrock/inference-profiles/{inferenceProfileIdentifier}")]
    assert profile["RequestParameters"] == {"method.request.path.inferenceProfileIdentifier": True}
    count = methods[("POST", "/bedrock/model/{modelId}/count-tokens")]
    assert count["RequestParameters"] == {"method.request.path.modelId": True}


def test_the_rest_of_v1_still_goes_to_litellm(synth: Synthesized) -> None:
    assert _methods(synth)[("ANY", "/v1/{proxy+}")]["Integration"]["Type"] == "HTTP_PROXY"


def test_model_aliases_reach_the_api_function_only(synth: Synthesized) -> None:
    assert _function(synth, "FunctionsApi")["Environment"]["Variables"]["BEDROCK_MODEL_ALIASES"] == (
        '{"*claude-sonnet-*":"gpt-4o"}'
    )
    assert "BEDROCK_MODEL_ALIASES" not in _function(synth, "FunctionsAuthorizer")["Environment"]["Variables"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("{oops", "not valid JSON"), ('["x"]', "JSON object"), ('{"*claude*": ""}', "LiteLLM model name")],
)
def test_a_malformed_alias_map_stops_synth(raw: str, problem: str) -> None:
    with pytest.raises(SettingsError, match=f"BEDROCK_MODEL_ALIASES: .*{problem}"):
        Settings.from_env({"BEDROCK_MODEL_ALIASES": raw})
    assert Settings.from_env({}).bedrock_model_aliases is None
