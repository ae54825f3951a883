"""Bedrock Converse through the gateway with boto3 (synchronous ``converse``), two turns in one session.

Code written for ``boto3.client("bedrock-runtime")`` reaches any model the gateway serves: point
``endpoint_url`` at ``<gateway>/bedrock``, turn off SigV4 signing, and send your gateway API key as
``Authorization: Bearer``. The gateway keeps the conversation: the first answer's ``x-session-id``
header, sent back as ``additionalModelRequestFields={"session_id": ...}``, continues it.

Environment (defaults fit ``make local``):
    API_ENDPOINT  gateway base URL, with or without ``/bedrock`` (default http://127.0.0.1:8080)
    API_KEY       gateway (LiteLLM) API key (default: the contents of .local/master_key)
    AWS_REGION    any region name; boto3 needs one (default us-east-1)
    MODEL_ID      a model name the gateway serves (default mock-gpt)

Run: ``python samples/test-middleware-synchronous.py`` (needs ``pip install boto3``).
"""

from __future__ import annotations

import os

from botocore.exceptions import BotoCoreError, ClientError
from gateway_env import api_key, bedrock_client, bedrock_endpoint, client_error_message, fail


def send_message(client, model_id: str, text: str, session_id: str | None = None) -> dict:
    extra = {"additionalModelRequestFields": {"session_id": session_id}} if session_id else {}
    return client.converse(
        modelId=model_id,
        messages=[{"role": "user", "content": [{"text": text}]}],
        inferenceConfig={"maxTokens": 512, "temperature": 0.5},
        **extra,
    )


def show(text: str, response: dict) -> str | None:
    answer = "".join(block.get("text", "") for block in response["output"]["message"]["content"])
    usage = response["usage"]
    session_id = response["ResponseMetadata"]["HTTPHeaders"].get("x-session-id")
    print(f"> {text}")
    print(f"answer: {answer}")
    print(f"stop reason: {response['stopReason']}")
    print(f"usage: {usage['inputTokens']} in + {usage['outputTokens']} out = {usage['totalTokens']} tokens")
    print(f"latency: {response['metrics']['latencyMs']} ms")
    print(f"session id: {session_id}")
    print()
    return session_id


def main() -> None:
    endpoint = bedrock_endpoint()
    model_id = os.environ.get("MODEL_ID", "mock-gpt")
    client = bedrock_client(endpoint, api_key())
    print(f"gateway: {endpoint}  model: {model_id}\n")
    try:
        first = "Hello, how are you?"
        session_id = show(first, send_message(client, model_id, first))
        second = "What did I last say to you?"
        show(second, send_message(client, model_id, second, session_id))
    except ClientError as exc:
        fail(client_error_message(exc))
    except BotoCoreError as exc:
        fail(f"cannot reach the gateway at {endpoint}: {exc}")


if __name__ == "__main__":
    main()
