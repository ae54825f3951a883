from __future__ import annotations

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.prompts.arn import parse_prompt_arn

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("arn", "region", "prompt_id", "version"),
    [
        (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345", "us-east-1", "ABCDE12345", None),
        (f"arn:aws:bedrock:eu-west-3:{ACCOUNT}:prompt/abcde12345:1", "eu-west-3", "abcde12345", "1"),
        (f"arn:aws:bedrock:ap-southeast-2:{ACCOUNT}:prompt/ZZZZZZZZZZ:12345", "ap-southeast-2", "ZZZZZZZZZZ", "12345"),
        (f"arn:aws-us-gov:bedrock:us-gov-west-1:{ACCOUNT}:prompt/0123456789:7", "us-gov-west-1", "0123456789", "7"),
        (f"arn:aws-cn:bedrock:cn-north-1:{ACCOUNT}:prompt/0123456789", "cn-north-1", "0123456789", None),
    ],
)
def test_valid(arn: str, region: str, prompt_id: str, version: str | None) -> None:
    ref = parse_prompt_arn(arn)
    assert (ref.arn, ref.region, ref.account, ref.prompt_id, ref.version) == (arn, region, ACCOUNT, prompt_id, version)
    assert ref.is_draft is (version is None)


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "fake",
        "ABCDE12345",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/SHORT",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE123456",  # 11 characters
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE-1234",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345:",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345:0",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345:00",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345:123456",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345:DRAFT",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345:1:2",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345/x",
        "arn:aws:bedrock:us-east-1:12345:prompt/ABCDE12345",
        f"arn:aws:bedrock::{ACCOUNT}:prompt/ABCDE12345",
        f"arn:aws:bedrock:US-EAST-1:{ACCOUNT}:prompt/ABCDE12345",
        f"arn:aws:s3:us-east-1:{ACCOUNT}:prompt/ABCDE12345",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:agent/ABCDE12345",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        f" arn:aws:bedrock:us-east-1:{ACCOUNT}:prompt/ABCDE12345",
    ],
)
def test_malformed(arn: str) -> None:
    with pytest.raises(GatewayError) as info:
        parse_prompt_arn(arn)
    assert info.value.kind is ErrorKind.VALIDATION
    assert info.value.message.startswith("malformed prompt ARN")
    assert "arn:aws:bedrock:REGION:ACCOUNT:prompt/ID" in info.value.message
    assert info.value.param == "model"


@pytest.mark.parametrize("value", [None, 12, {"arn": "x"}])
def test_not_a_string(value: object) -> None:
    with pytest.raises(GatewayError, match="malformed prompt ARN"):
        parse_prompt_arn(value, param="modelId")


def test_param_and_long_values_are_cut() -> None:
    with pytest.raises(GatewayError) as info:
        parse_prompt_arn("arn:" + "x" * 5000, param="modelId")
    assert info.value.param == "modelId"
    assert len(info.value.message) < 400


@pytest.mark.parametrize(
    ("partition", "region"),
    [
        ("aws", "us-fake-1"),  # matches the partition's region pattern, but no such region
        ("aws", "xx-east-1"),
        ("aws", "aws-global"),  # botocore's pseudo-region for global endpoints
        ("aws", "cn-north-1"),  # a real region of another partition
        ("aws-cn", "us-east-1"),
        ("aws-moon", "us-east-1"),  # no such partition
    ],
)
def test_unknown_region_is_a_validation_error(partition: str, region: str) -> None:
    """Issue 16 defect 4: a made-up region never reaches the resolver (which keeps a client per region)."""
    with pytest.raises(GatewayError) as info:
        parse_prompt_arn(f"arn:{partition}:bedrock:{region}:{ACCOUNT}:prompt/ABCDE12345:1")
    assert info.value.kind is ErrorKind.VALIDATION
    assert info.value.message == f"unknown AWS region {region!r} in prompt ARN for partition {partition!r}"
    assert info.value.param == "model"
