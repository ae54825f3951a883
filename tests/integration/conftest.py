"""The real local stack, started once per test session on free loopback ports.

LiteLLM (pinned) + embedded PostgreSQL (database mode via the offline Prisma kit) + moto's
DynamoDB server + the middleware, with a fake OpenAI-compatible upstream standing in for the
model providers (the only part that is not real: no provider is reachable from here).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.prisma import DatabaseModeUnavailable
from devstack.processes import Child, free_port, http_ok, wait_until
from devstack.stack import REPO_ROOT, LocalStack, StackOptions
from tests.support.fake_bedrock_agent import FakeBedrockAgent
from tests.support.oidc_issuer import OidcIssuer
from tests.support.tls import self_signed_loopback_cert

TEST_CONFIG = Path(__file__).with_name("litellm-test-config.yaml")


@pytest.fixture(scope="session")
def fake_upstream(tmp_path_factory) -> Iterator[str]:
    port = free_port()
    logs = tmp_path_factory.mktemp("fake-upstream")
    child = Child("fake-upstream", [sys.executable, "-m", "tests.support.fake_openai", str(port)],
                  dict(os.environ), logs, REPO_ROOT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(http_ok(f"{url}/v1/models"), child=child, timeout=30, what="fake upstream")
        yield f"{url}/v1"
    finally:
        child.stop()


@pytest.fixture(scope="session")
def bedrock_agent() -> Iterator[FakeBedrockAgent]:
    """Stand-in for Bedrock Prompt management (no AWS here), reached via AWS_ENDPOINT_URL_BEDROCK_AGENT."""
    with FakeBedrockAgent() as agent:
        yield agent


@pytest.fixture(scope="session")
def stack(tmp_path_factory, fake_upstream: str, bedrock_agent: FakeBedrockAgent) -> Iterator[LocalStack]:
    options = StackOptions(
        gateway_port=free_port(),
        litellm_port=free_port(),
        litellm_config=TEST_CONFIG,
        work_dir=tmp_path_factory.mktemp("stack"),
        master_key="sk-test-master-" + secrets.token_hex(8),
        durable_postgres=False,
        extra_env={
            "FAKE_UPSTREAM_URL": fake_upstream,
            "FAKE_ANTHROPIC_URL": fake_upstream.removesuffix("/v1") + "/anthropic",
            "AWS_ENDPOINT_URL_BEDROCK_AGENT": bedrock_agent.url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        },
    )
    local = LocalStack(options, log=lambda *_: None)
    try:
        local.start()
    except DatabaseModeUnavailable as exc:  # one cause, reported once, instead of an error per test
        pytest.exit(f"integration tests not run: {exc}", returncode=1)
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcIssuer]:
    """A local OIDC issuer (Okta's role): the JWKS the gateway fetches and the tokens tests present."""
    with OidcIssuer() as issuer:
        yield issuer


@pytest.fixture(scope="session")
def master_key(stack: LocalStack) -> str:
    return stack.options.master_key


@pytest.fixture(scope="session")
def gateway_url(stack: LocalStack) -> str:
    return stack.gateway_url


def new_user_key(gateway_url: str, master_key: str, name: str) -> tuple[str, str]:
    """(user_id, key) of a new LiteLLM internal user, created through the gateway's proxied admin route."""
    user_id = f"{name}-{secrets.token_hex(4)}"
    response = httpx.post(
        f"{gateway_url}/user/new",
        headers={"Authorization": f"Bearer {master_key}"},
        json={"user_id": user_id, "user_role": "internal_user"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return user_id, response.json()["key"]


@pytest.fixture(scope="session")
def user_key(stack: LocalStack, master_key: str) -> str:
    return new_user_key(stack.gateway_url, master_key, "alice")[1]


@pytest.fixture(scope="session")
def tls_gateway(stack: LocalStack, tmp_path_factory) -> tuple[str, Path]:
    """A second middleware instance served over HTTPS (self-signed): (URL, CA bundle path)."""
    cert, key = self_signed_loopback_cert(tmp_path_factory.mktemp("tls"))
    return stack.start_middleware("middleware-tls", free_port(), tls=(cert, key)), cert
