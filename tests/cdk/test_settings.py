"""Settings: every invalid value stops the synth with a message naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway_cdk.settings import Settings, SettingsError, load_env, parse_dotenv
from gateway_cdk.stack import stack_environment

from .conftest import CERTIFICATE_ARN, ROOT

BASE = {"AWS_REGION": "eu-west-1"}


def settings(**env: str) -> Settings:
    return Settings.from_env({**BASE, **env})


@pytest.mark.parametrize(
    ("env", "setting", "fragment"),
    [
        ({"CERTIFICATE_ARN": "arn:aws:acm:xx", "DOMAIN_NAME": "a.example.com"}, "CERTIFICATE_ARN", "not an ACM"),
        (
            {"CERTIFICATE_ARN": CERTIFICATE_ARN.replace("acm", "iam"), "DOMAIN_NAME": "a.example.com"},
            "CERTIFICATE_ARN",
            "not an ACM",
        ),
        ({"DOMAIN_NAME": "llm.example.com"}, "DOMAIN_NAME", "CERTIFICATE_ARN is not"),
        ({"CERTIFICATE_ARN": CERTIFICATE_ARN}, "CERTIFICATE_ARN", "DOMAIN_NAME is not"),
        ({"CERTIFICATE_ARN": CERTIFICATE_ARN, "DOMAIN_NAME": "not a domain"}, "DOMAIN_NAME", "fully qualified"),
        (
            {"CERTIFICATE_ARN": CERTIFICATE_ARN, "DOMAIN_NAME": "llm.example.com", "AWS_REGION": "us-east-1"},
            "CERTIFICATE_ARN",
            "same region",
        ),
        ({"OKTA_ISSUER": "http://example.okta.com", "OKTA_AUDIENCE": "x"}, "OKTA_ISSUER", "https issuer"),
        ({"OKTA_ISSUER": "example.okta.com", "OKTA_AUDIENCE": "x"}, "OKTA_ISSUER", "https issuer"),
        ({"OKTA_ISSUER": "https://example.okta.com/?a=b", "OKTA_AUDIENCE": "x"}, "OKTA_ISSUER", "https issuer"),
        ({"OKTA_ISSUER": "https:///oauth2", "OKTA_AUDIENCE": "x"}, "OKTA_ISSUER", "https issuer"),
        ({"OKTA_ISSUER": "https://example.okta.com"}, "OKTA_AUDIENCE", "required"),
        ({"OKTA_AUDIENCE": "api://x"}, "OKTA_ISSUER", "required"),
        ({"EXISTING_VPC_ID": "vpc-xyz"}, "EXISTING_VPC_ID", "not a VPC id"),
        ({"AWS_REGION": "europe"}, "AWS_REGION", "not an AWS region"),
        ({"LAMBDA_ARCHITECTURE": "arm"}, "LAMBDA_ARCHITECTURE", "not one of"),
        ({"ECS_CPU": "300"}, "ECS_CPU", "Fargate CPU size"),
        ({"ECS_CPU": "256", "ECS_MEMORY_MIB": "4096"}, "ECS_MEMORY_MIB", "ECS_CPU=256"),
        ({"ECS_MIN_TASKS": "4", "ECS_MAX_TASKS": "2"}, "ECS_MAX_TASKS", "below ECS_MIN_TASKS"),
        ({"ECS_MIN_TASKS": "two"}, "ECS_MIN_TASKS", "not a whole number"),
        ({"LOG_RETENTION_DAYS": "10"}, "LOG_RETENTION_DAYS", "retention period"),
        ({"AUTHORIZER_CACHE_TTL_SECONDS": "300"}, "AUTHORIZER_CACHE_TTL_SECONDS", "no longer used"),
        ({"BEDROCK_MARKETPLACE_PRODUCT_IDS": "prod-abc,not an id"}, "BEDROCK_MARKETPLACE_PRODUCT_IDS", "product id"),
        ({"VPC_S3_ENDPOINT": "sometimes"}, "VPC_S3_ENDPOINT", "not a boolean"),
        ({"DB_MULTI_AZ": "maybe"}, "DB_MULTI_AZ", "not a boolean"),
        ({"DB_INSTANCE_CLASS": "db.t4g.medium"}, "DB_INSTANCE_CLASS", "RDS instance class"),
        ({"CACHE_NODE_TYPE": "t4g.small"}, "CACHE_NODE_TYPE", "ElastiCache node type"),
        ({"ALARM_EMAIL": "ops"}, "ALARM_EMAIL", "e-mail"),
        ({"LWA_LAYER_ARN": "arn:aws:lambda:eu-west-1:1:layer:x"}, "LWA_LAYER_ARN", "layer version ARN"),
        ({"EXTRA_PROVIDER_KEYS": "ok_NAME,bad name"}, "EXTRA_PROVIDER_KEYS", "environment variable name"),
        (
            {"API_RESERVED_CONCURRENCY": "5", "API_PROVISIONED_CONCURRENCY": "10"},
            "API_PROVISIONED_CONCURRENCY",
            "API_RESERVED_CONCURRENCY",
        ),
    ],
)
def test_invalid_values_name_the_setting(env: dict[str, str], setting: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings(**env)
    assert raised.value.setting == setting
    assert str(raised.value).startswith(f"{setting}: ")
    assert fragment in str(raised.value)


def test_defaults_are_a_complete_small_deployment() -> None:
    s = Settings.from_env({})
    assert (s.region, s.architecture, s.stack_name) == ("us-east-1", "arm64", "GenAIGateway")
    assert s.domain_name is None and s.existing_vpc_id is None and s.provider_keys == ()
    assert s.sizing.nat_gateways == 1
    # a first deploy must be able to roll back; data is still kept when the stack is deleted later
    assert (s.deletion_protection, s.retain_data) == (False, True)
    assert s.sizing.s3_endpoint and s.sizing.dynamodb_endpoint


def test_an_existing_vpc_gets_no_gateway_endpoints_unless_asked() -> None:
    existing = settings(EXISTING_VPC_ID="vpc-0123456789abcdef0")
    assert (existing.sizing.s3_endpoint, existing.sizing.dynamodb_endpoint) == (False, False)
    asked = settings(EXISTING_VPC_ID="vpc-0123456789abcdef0", VPC_DYNAMODB_ENDPOINT="true")
    assert (asked.sizing.s3_endpoint, asked.sizing.dynamodb_endpoint) == (False, True)
    assert settings(VPC_S3_ENDPOINT="false").sizing.s3_endpoint is False


def test_custom_domain_issuer_and_keys_are_normalised() -> None:
    s = settings(
        CERTIFICATE_ARN=CERTIFICATE_ARN,
        DOMAIN_NAME="LLM.Example.com.",
        OKTA_ISSUER="https://example.okta.com/oauth2/default/",
        OKTA_AUDIENCE="api://gw",
        OPENAI_API_KEY="sk-1",
        MY_PROVIDER_KEY="v",
        EXTRA_PROVIDER_KEYS="MY_PROVIDER_KEY, UNSET_KEY",
    )
    assert s.domain_name == "llm.example.com"
    # kept byte for byte: the gateway matches the token's `iss` exactly (Auth0 issuers end in '/')
    assert s.okta_issuer == "https://example.okta.com/oauth2/default/"
    assert s.provider_keys == ("OPENAI_API_KEY", "MY_PROVIDER_KEY")  # names only, never values


def test_dotenv_parsing_and_environment_precedence(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nexport AWS_REGION=eu-west-1\nDOMAIN_NAME='a.example.com'\n"
        'OKTA_AUDIENCE="x # not a comment"\nLOG_LEVEL=DEBUG  # trailing comment\nEMPTY=\n'
    )
    values = load_env(dotenv, {"AWS_REGION": "us-west-2", "EMPTY_IN_ENV": ""})
    assert values["AWS_REGION"] == "us-west-2"
    assert values["DOMAIN_NAME"] == "a.example.com"
    assert values["OKTA_AUDIENCE"] == "x # not a comment"
    assert values["LOG_LEVEL"] == "DEBUG"
    assert "EMPTY_IN_ENV" not in values
    with pytest.raises(SettingsError, match=r"^\.env: line 1"):
        parse_dotenv("not a setting line")


def test_existing_vpc_needs_the_account_for_its_lookup() -> None:
    with pytest.raises(SettingsError, match=r"^EXISTING_VPC_ID: looking up a VPC needs the target account"):
        stack_environment(settings(EXISTING_VPC_ID="vpc-0123456789abcdef0"))
    env = stack_environment(settings(EXISTING_VPC_ID="vpc-0123456789abcdef0", CDK_DEFAULT_ACCOUNT="123456789012"))
    assert (env.account, env.region) == ("123456789012", "eu-west-1")


def test_synth_stops_with_the_setting_named(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CDK_OUTDIR"}
    env |= {"OKTA_ISSUER": "http://example.okta.com", "OKTA_AUDIENCE": "x", "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "cdk" / "app.py")], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Invalid setting OKTA_ISSUER: 'http://example.okta.com' is not an https issuer URL" in result.stderr
    assert not any(tmp_path.iterdir())


def test_env_template_documents_every_setting_and_is_valid() -> None:
    import re

    from gateway_cdk.settings import PROVIDER_KEY_NAMES

    template = (ROOT / ".env.template").read_text()
    documented = set(parse_dotenv(template))
    source = (ROOT / "cdk" / "gateway_cdk" / "settings.py").read_text()
    read = set(re.findall(r'r\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source)) - {"CDK_DEFAULT_REGION", "CDK_DEFAULT_ACCOUNT"}
    read -= {"AWS_DEFAULT_REGION"}
    assert read | set(PROVIDER_KEY_NAMES) <= documented
    assert Settings.from_env(parse_dotenv(template)) == Settings.from_env({})


def test_okta_user_defaults_are_passed_on_only_when_set() -> None:
    s = settings(
        OKTA_ISSUER="https://example.okta.com/oauth2/default",
        OKTA_AUDIENCE="api://gw",
        OKTA_USER_MAX_BUDGET="5",
        OKTA_USER_MODELS="gpt-4o-mini,claude",
    )
    assert dict(s.okta_options) == {"OKTA_USER_MAX_BUDGET": "5", "OKTA_USER_MODELS": "gpt-4o-mini,claude"}
