"""Bedrock ConverseStream through the gateway with boto3, two streamed turns in one session.

The gateway answers ``converse_stream`` with real ``application/vnd.amazon.eventstream`` frames, so
boto3 decodes them as it would Bedrock's: ``messageStart``, ``contentBlockDelta``s (printed as they
arrive), ``contentBlockStop``, ``messageStop`` (stop reason), then ``metadata`` (usage, latency). The
session id comes back in the ``x-session-id`` response header.

Environment (defaults fit ``make local``):
    API_ENDPOINT  gateway base URL, with or without ``/bedrock`` (default http://127.0.0.1:8080)
    API_KEY       gateway (LiteLLM) API key (default: the contents of .local/master_key)
    AWS_REGION    any region name; boto3 needs one (default us-east-1)
    MODEL_ID      a model name the gateway serves (default mock-gpt)

Run: ``python samples/test-middleware-streaming.py`` (needs ``pip install boto3``).
"""

from __future__ import annotations

import os

from botocore.exceptions import BotoCoreError, ClientError
from gateway_env import api_key, bedrock_client, bedrock_endpoint, client_error_message, fail


def stream_message(client, model_id: str, text: str, session_id: str | None = None) -> str | None:
    """Send one user message, print the answer as it streams in; return the session id."""
    extra = {"additionalModelRequestFields": {"session_id": session_id}} if session_id else {}
    response = client.converse_stream(
        modelId=model_id,
        messages=[{"role": "user", "content": [{"text": text}]}],
        inferenceConfig={"maxTokens": 512, "temperature": 0.5},
        **extra,
    )
    session_id = response["ResponseMetadata"]["HTTPHeaders"].get("x-session-id")
    print(f"> {text}")
    print("answer: ", end="", flush=True)
    # A failure after the first byte arrives as an exception event: iterating raises ClientError.
    for event in response["stream"]:
        if "contentBlockDelta" in event:
            print(event["contentBlockDelta"]["delta"].get("text", ""), end="", flush=True)
        elif "messageStop" in event:
            print(f"\nstop reason: {event['messageStop']['stopReason']}")
        elif "metadata" in event:
            usage = event["metadata"]["usage"]
            print(f"usage: {usage['inputTokens']} in + {usage['outputTokens']} out = {usage['totalTokens']} tokens")
            print(f"latency: {event['metadata']['metrics']['latencyMs']} ms")
    print(f"session id: {session_id}")
    print()
    return session_id


def main() -> None:
    endpoint = bedrock_endpoint()
    model_id = os.environ.get("MODEL_ID", "mock-gpt")
    client = bedrock_client(endpoint, api_key(newline=True))
    print(f"gateway: {endpoint}  model: {model_id}\n")
    try:
        session_id = stream_message(client, model_id, "Tell me a short story.")
        stream_message(client, model_id, "What did I last say to you?", session_id)
    except ClientError as exc:
        fail(client_error_message(exc), newline=True)
    except BotoCoreError as exc:
        fail(f"cannot reach the gateway at {endpoint}: {exc}", newline=True)


if __name__ == "__main__":
    main()
