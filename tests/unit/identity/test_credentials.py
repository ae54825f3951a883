"""One credential per request: ``Authorization: Bearer``, ``x-api-key`` or ``api-key`` (issue 12),
never two different ones and never a repeated header (issue 16, defect 8)."""

from __future__ import annotations

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.credentials import credential_from_headers


def refusal(headers: list[tuple[str, str]]) -> str:
    with pytest.raises(GatewayError) as info:
        credential_from_headers(headers)
    assert info.value.kind is ErrorKind.UNAUTHENTICATED
    return info.value.message


@pytest.mark.parametrize(
    "headers",
    [
        [("authorization", "Bearer sk-1")],
        [("Authorization", "bearer sk-1")],
        [("x-api-key", "sk-1")],  # Anthropic SDKs, Claude Code
        [("X-Api-Key", " sk-1 ")],
        [("api-key", "sk-1")],  # Azure OpenAI clients
        [("authorization", "Bearer sk-1"), ("x-api-key", "sk-1")],  # the same credential twice is one
        [("api-key", "sk-1"), ("x-api-key", "sk-1"), ("content-type", "application/json")],
    ],
)
def test_each_credential_header_is_accepted(headers: list[tuple[str, str]]) -> None:
    assert credential_from_headers(headers) == "sk-1"


@pytest.mark.parametrize("name", ["authorization", "x-api-key", "api-key"])
def test_a_repeated_credential_header_is_refused_even_with_equal_values(name: str) -> None:
    value = "Bearer sk-1" if name == "authorization" else "sk-1"
    for second in (value, value.replace("sk-1", "sk-2")):
        assert refusal([(name, value), (name.upper(), second)]).startswith(f"repeated {name} header")


@pytest.mark.parametrize(
    "headers",
    [
        [("authorization", "Bearer sk-1"), ("x-api-key", "sk-2")],
        [("authorization", "Bearer sk-1"), ("api-key", "sk-2")],
        [("x-api-key", "sk-1"), ("api-key", "sk-2")],
    ],
)
def test_two_different_credentials_are_refused(headers: list[tuple[str, str]]) -> None:
    message = refusal(headers)
    assert message.startswith("conflicting credentials in ")
    assert "sk-1" not in message and "sk-2" not in message  # never echoed


def test_a_non_bearer_authorization_is_not_ignored_in_favour_of_x_api_key() -> None:
    # LiteLLM prefers Authorization; accepting x-api-key here would check one credential and use another
    assert refusal([("authorization", "Basic abc"), ("x-api-key", "sk-1")]).startswith("malformed Authorization")


@pytest.mark.parametrize(
    ("headers", "start"),
    [
        ([], "missing credential"),
        ([("content-type", "application/json")], "missing credential"),
        ([("x-api-key", "")], "malformed x-api-key header"),
        ([("api-key", "sk 1")], "malformed api-key header"),
        ([("authorization", "Bearer a b")], "malformed Authorization header"),
        ([("authorization", "Bearer a, Bearer b")], "malformed Authorization header"),  # folded repeats
    ],
)
def test_missing_and_malformed_credentials(headers: list[tuple[str, str]], start: str) -> None:
    assert refusal(headers).startswith(start)
