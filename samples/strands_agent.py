"""A Strands agent whose ``BedrockModel`` talks to the gateway: one tool call, then the answer.

``BedrockModel`` takes the gateway as ``endpoint_url`` and a gateway key as ``api_key`` (sent as
``Authorization: Bearer``), and streams with ConverseStream.

Environment (defaults fit ``make local``):
    API_ENDPOINT  gateway base URL (default http://127.0.0.1:8080; ``/bedrock`` is added)
    API_KEY       gateway (LiteLLM) API key (default: the contents of .local/master_key)
    MODEL_ID      a model name the gateway serves (default mock-gpt)

Run: ``.venv-clients/bin/python samples/strands_agent.py`` (``pip install strands-agents``).
"""

from __future__ import annotations

import os

from botocore.exceptions import BotoCoreError, ClientError
from gateway_env import api_key, bedrock_endpoint, fail
from strands import Agent, tool
from strands.models.bedrock import BedrockModel


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    print(f"tool called: get_weather({city!r})")
    return f"sunny in {city}"


def main() -> None:
    model = BedrockModel(
        model_id=os.environ.get("MODEL_ID", "mock-gpt"),
        endpoint_url=bedrock_endpoint(),
        api_key=api_key(),
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
    )
    agent = Agent(model=model, tools=[get_weather], callback_handler=None)
    print(f"answer: {agent('What is the weather in Paris?')}")


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        fail(str(exc))
