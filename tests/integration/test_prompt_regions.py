"""A prompt ARN naming a region that does not exist is a 400 in the route's format (issue 16, defect 4).

Before, each made-up region made (and kept) a bedrock-agent client and answered 503.
"""

from __future__ import annotations

import openai
import pytest
from botocore.exceptions import ClientError

from tests.integration.bedrock_clients import bearer_client

MADE_UP = "arn:aws:bedrock:us-fake-1:123456789012:prompt/ABCDE12345:1"
MESSAGE = "unknown AWS region 'us-fake-1' in prompt ARN for partition 'aws'"


def test_openai_route(gateway_url, user_key):
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=user_key, max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MADE_UP, messages=[{"role": "user", "content": "hi"}])
    assert raised.value.body["message"] == MESSAGE
    assert raised.value.body["param"] == "model"


def test_converse_route(gateway_url, user_key):
    client = bearer_client(gateway_url, user_key)
    with pytest.raises(ClientError) as raised:
        client.converse(modelId=MADE_UP, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    assert error["Error"]["Message"] == MESSAGE
