"""One synthesis of the whole stack per test session, shared by every test module in tests/cdk.

The stack is synthesized with every optional feature on (custom domain, Okta, alarm e-mail, provider
keys, LangSmith) so each construct's branches show up in the one template. cdk-nag runs as part of the
synthesis: an unacknowledged finding fails the fixture, and with it every test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App
from aws_cdk.assertions import Template

from gateway_cdk.settings import Settings
from gateway_cdk.stack import GatewayStack, build_app

ROOT = Path(__file__).resolve().parents[2]
CERTIFICATE_ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
#: Fake provider key values: no test may ever find them in the template.
FAKE_SECRETS = {
    "OPENAI_API_KEY": "sk-test-openai-DO-NOT-LEAK-1",
    "ANTHROPIC_API_KEY": "sk-ant-test-DO-NOT-LEAK-2",
    "LANGSMITH_API_KEY": "lsv2-test-DO-NOT-LEAK-3",
}
FULL_ENV: dict[str, str] = {
    "AWS_REGION": "eu-west-1",
    "STACK_NAME": "GatewayTest",
    "CERTIFICATE_ARN": CERTIFICATE_ARN,
    "DOMAIN_NAME": "llm.example.com",
    "OKTA_ISSUER": "https://example.okta.com/oauth2/default",
    "OKTA_AUDIENCE": "api://genai-gateway",
    "LANGSMITH_PROJECT": "gateway-tests",
    "LANGSMITH_DEFAULT_RUN_NAME": "gateway",
    "ALARM_EMAIL": "ops@example.com",
    "API_PROVISIONED_CONCURRENCY": "2",
    "API_RESERVED_CONCURRENCY": "50",
    "BEDROCK_MODEL_ALIASES": '{"*claude-sonnet-*": "gpt-4o"}',
    "GUARDRAIL_MAP": '{"gr1abc2def3:1": ["pre-guard", "post-guard"]}',
    **FAKE_SECRETS,
}


@dataclass(frozen=True)
class Synthesized:
    """The synthesized stack: the assertions ``Template``, the raw JSON and the app's construct tree."""

    settings: Settings
    app: App
    stack: GatewayStack
    template: Template
    json: dict[str, Any]
    path: Path

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == cfn_type}

    def one(self, cfn_type: str) -> dict[str, Any]:
        found = list(self.resources(cfn_type).values())
        assert len(found) == 1, f"expected one {cfn_type}, found {len(found)}"
        return found[0]["Properties"]


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    settings = Settings.from_env(FULL_ENV)
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(settings, ROOT, outdir=str(outdir))
    app.synth()
    path = outdir / f"{settings.stack_name}.template.json"
    raw = json.loads(path.read_text())
    yield Synthesized(settings, app, stack, Template.from_json(raw), raw, path)
