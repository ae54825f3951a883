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

from botocore.exceptions import BotoCoreError, ClientError
from gateway_env import api_key, bedrock_client, bedrock_endpoint, fail
from langchain_aws import ChatBedrockConverse
from langchain_core.tools import tool


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def main() -> None:
    client = bedrock_client(bedrock_endpoint(), api_key(), max_attempts=1)
    model = ChatBedrockConverse(model=os.environ.get("MODEL_ID", "mock-gpt"), provider="openai", client=client)
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
        fail(str(exc))
