"""Fixtures: the bedrock-agent stand-in reached by real boto3 through ``AWS_ENDPOINT_URL_BEDROCK_AGENT``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.config import Config

from gateway.prompts import PromptResolver
from tests.support.fake_bedrock_agent import FakeBedrockAgent

# no retries: error-mapping tests must not wait for botocore's back-off
NO_RETRY = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def _server() -> Iterator[FakeBedrockAgent]:
    with FakeBedrockAgent() as agent:
        yield agent


@pytest.fixture
def agent(_server: FakeBedrockAgent, monkeypatch: pytest.MonkeyPatch) -> FakeBedrockAgent:
    _server.reset()
    for name in ("AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT", _server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return _server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def resolver(agent: FakeBedrockAgent, clock: Clock) -> PromptResolver:
    return PromptResolver(timer=clock, config=NO_RETRY)
