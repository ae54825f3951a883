"""LangChain's ``ChatBedrockConverse`` through the gateway: invoke, stream and tool calling.

Code written for Bedrock reaches any model the gateway serves: give LangChain a boto3
``bedrock-runtime`` client whose endpoint is the gateway and which sends ``Authorization: Bearer``.

Environment (defaults fit ``make local``):
    API_ENDPOINT  gateway base URL (default http://127.0.0.1:8080; ``/bedrock`` is added)
    API_KEY       gateway (LiteLLM) API key (default: the contents of .local/master_key)
    MODEL_ID      a model name the gateway serves (default mock-gpt)

Run: ``.venv-clients/bin/python samples/langchain_converse.py`` (``pip install langchain-aws``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from langchain_aws import ChatBedrockConverse
from langchain_core.tools import tool

LOCAL_MASTER_KEY = Path(__file__).resolve().parent.parent / ".local" / "master_key"


def bedrock_client():
    endpoint = os.environ.get("API_ENDPOINT", "http://127.0.0.1:8080").rstrip("/")
    endpoint = endpoint if endpoint.endswith("/bedrock") else f"{endpoint}/bedrock"
    key = os.environ.get("API_KEY") or (LOCAL_MASTER_KEY.read_text().strip() if LOCAL_MASTER_KEY.exists() else "")
    if not key:
        sys.exit("error: set API_KEY (or run make local, which writes .local/master_key)")
    client = boto3.client(
        "bedrock-runtime",
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        endpoint_url=endpoint,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    client.meta.events.register(
        "request-created.bedrock-runtime.*",
        lambda request, **_: request.headers.__setitem__("Authorization", f"Bearer {key}"),
    )
    return client


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def main() -> None:
    model = ChatBedrockConverse(
        model=os.environ.get("MODEL_ID", "mock-gpt"), provider="openai", client=bedrock_client()
    )
    reply = model.invoke("Hello from LangChain!")
    print(f"invoke: {reply.content}")
    print(f"usage: {reply.usage_metadata}")
    streamed = "".join(chunk.text() if callable(chunk.text) else chunk.text for chunk in model.stream("Stream, please"))
    print(f"stream: {streamed}")
    call = model.bind_tools([get_weather]).invoke("What is the weather in Paris?")
    for tool_call in call.tool_calls:
        print(f"tool call: {tool_call['name']} {tool_call['args']}")


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        sys.exit(f"error: {exc}")
