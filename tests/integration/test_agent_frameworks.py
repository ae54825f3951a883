"""Agent frameworks written for Bedrock reach any LiteLLM model through the Converse interface, unchanged."""

from __future__ import annotations

import pytest
from langchain_aws import ChatBedrockConverse
from langchain_core.tools import tool as langchain_tool
from strands import Agent
from strands import tool as strands_tool
from strands.models.bedrock import BedrockModel

from tests.integration.bedrock_clients import bearer_client


@pytest.fixture(scope="module")
def langchain_model(gateway_url, master_key) -> ChatBedrockConverse:
    return ChatBedrockConverse(
        model="fake", provider="openai", region_name="us-east-1", client=bearer_client(gateway_url, master_key)
    )


def test_langchain_invoke(langchain_model):
    reply = langchain_model.invoke("hello langchain")
    assert reply.content == "Echo: hello langchain"
    assert reply.usage_metadata["output_tokens"] > 0


def test_langchain_stream(langchain_model):
    chunks = list(langchain_model.stream("stream for langchain"))
    text = "".join(c.text if isinstance(c.text, str) else c.text() for c in chunks)
    assert text == "Echo: stream for langchain"


def test_langchain_tool_calling_with_bind_tools(langchain_model):
    @langchain_tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"sunny in {city}"

    reply = langchain_model.bind_tools([get_weather]).invoke("weather in Paris?")
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "get_weather"
    assert reply.tool_calls[0]["args"] == {"city": "test"}


def test_strands_agent_calls_one_tool_and_answers(gateway_url, master_key):
    calls: list[str] = []

    @strands_tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        calls.append(city)
        return f"sunny in {city}"

    model = BedrockModel(
        model_id="fake", endpoint_url=f"{gateway_url}/bedrock", api_key=master_key, region_name="us-east-1"
    )
    agent = Agent(model=model, tools=[get_weather], callback_handler=None)
    result = agent("What is the weather in Paris?")
    assert calls == ["test"]
    assert "Tool said: sunny in test" in str(result)
