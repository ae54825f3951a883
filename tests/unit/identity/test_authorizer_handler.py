"""The Lambda authorizer's entry point without the local stack: how it reads the REST API event and
how it fails. (The allow path against the real LiteLLM is in tests/integration/test_identity.py.)"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import handler
import pytest

from gateway.settings import get_settings

ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/POST/v1/chat/completions"


@dataclass
class LambdaContext:
    """The part of Lambda's context object the handler reads."""

    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def silent_litellm() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung LiteLLM)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    def apply(base_url: str) -> None:
        monkeypatch.setenv("LITELLM_BASE_URL", base_url)
        monkeypatch.setenv("LITELLM_MASTER_KEY", "sk-master-unit")
        monkeypatch.setenv("GATEWAY_AUTH_MODE", "inline")
        monkeypatch.delenv("OKTA_ISSUER", raising=False)
        get_settings.cache_clear()
        handler._authenticator = None

    yield apply
    get_settings.cache_clear()
    handler._authenticator = None


def test_headers_come_from_multi_value_headers_with_repeats() -> None:
    event = {
        "headers": {"Authorization": "Bearer b"},
        "multiValueHeaders": {"Authorization": ["Bearer a", "Bearer b"], "x-api-key": ["k"]},
    }
    assert list(handler.request_headers(event)) == [
        ("Authorization", "Bearer a"),
        ("Authorization", "Bearer b"),
        ("x-api-key", "k"),
    ]


@pytest.mark.parametrize(
    "event", [{"headers": {"x-api-key": "k"}}, {"headers": {"x-api-key": "k"}, "multiValueHeaders": None}]
)
def test_headers_fall_back_to_single_value_headers(event: dict) -> None:
    assert list(handler.request_headers(event)) == [("x-api-key", "k")]


def test_repeated_credentials_are_unauthorized_without_asking_litellm(configure, silent_litellm) -> None:
    configure(silent_litellm)  # a call to LiteLLM would hang: the refusal must come first
    event = {"methodArn": ARN, "multiValueHeaders": {"Authorization": ["Bearer sk-a", "Bearer sk-a"]}}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.handler(event, LambdaContext(5000))


def test_a_hung_litellm_fails_clearly_before_the_function_times_out(configure, silent_litellm, caplog) -> None:
    configure(silent_litellm)
    caplog.set_level(logging.INFO)
    event = {"methodArn": ARN, "multiValueHeaders": {"x-api-key": ["sk-hung-key"]}}
    with pytest.raises(handler.AuthorizerUnavailable, match="did not decide in time"):
        handler.handler(event, LambdaContext(1500))  # the handler keeps a margin of the remaining time
    [record] = [r for r in caplog.records if r.getMessage() == "authorizer could not decide"]
    assert record.exc_info is None and "sk-hung-key" not in caplog.text
