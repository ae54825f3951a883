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
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from strands import Agent, tool
from strands.models.bedrock import BedrockModel

LOCAL_MASTER_KEY = Path(__file__).resolve().parent.parent / ".local" / "master_key"


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    print(f"tool called: get_weather({city!r})")
    return f"sunny in {city}"


def main() -> None:
    endpoint = os.environ.get("API_ENDPOINT", "http://127.0.0.1:8080").rstrip("/")
    endpoint = endpoint if endpoint.endswith("/bedrock") else f"{endpoint}/bedrock"
    key = os.environ.get("API_KEY") or (LOCAL_MASTER_KEY.read_text().strip() if LOCAL_MASTER_KEY.exists() else "")
    if not key:
        sys.exit("error: set API_KEY (or run make local, which writes .local/master_key)")
    model = BedrockModel(
        model_id=os.environ.get("MODEL_ID", "mock-gpt"),
        endpoint_url=endpoint,
        api_key=key,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
    )
    agent = Agent(model=model, tools=[get_weather], callback_handler=None)
    print(f"answer: {agent('What is the weather in Paris?')}")


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        sys.exit(f"error: {exc}")
