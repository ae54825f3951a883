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
import sys
from pathlib import Path
from typing import NoReturn

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

LOCAL_MASTER_KEY = Path(__file__).resolve().parent.parent / ".local" / "master_key"


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def bedrock_endpoint() -> str:
    endpoint = os.environ.get("API_ENDPOINT", "http://127.0.0.1:8080").rstrip("/")
    return endpoint if endpoint.endswith("/bedrock") else endpoint + "/bedrock"


def api_key() -> str:
    key = os.environ.get("API_KEY") or (LOCAL_MASTER_KEY.read_text().strip() if LOCAL_MASTER_KEY.exists() else "")
    if not key:
        fail("set API_KEY to your gateway API key (or run `make local`, which writes .local/master_key)")
    return key


def create_bedrock_client(endpoint: str, key: str, region: str):
    """A bedrock-runtime client that talks to the gateway: unsigned, with a Bearer API key."""
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 3, "mode": "standard"}),
    )

    def add_authorization_header(request, **_):
        request.headers["Authorization"] = f"Bearer {key}"

    client.meta.events.register("request-created.bedrock-runtime.*", add_authorization_header)
    return client


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
    client = create_bedrock_client(endpoint, api_key(), os.environ.get("AWS_REGION", "us-east-1"))
    print(f"gateway: {endpoint}  model: {model_id}\n")
    try:
        first = "Hello, how are you?"
        session_id = show(first, send_message(client, model_id, first))
        second = "What did I last say to you?"
        show(second, send_message(client, model_id, second, session_id))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        fail(f"{error.get('Code')} (HTTP {status}): {error.get('Message')}")
    except BotoCoreError as exc:
        fail(f"cannot reach the gateway at {endpoint}: {exc}")


if __name__ == "__main__":
    main()
