"""An OpenAI Agents SDK agent with one tool, run over several turns on the gateway's Responses API
(server-side state: each turn continues the last with ``previous_response_id``), with a model that
is not OpenAI's."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled
from openai import AsyncOpenAI

from tests.integration.conftest import new_user_key
from tests.integration.test_responses_api import MODEL

CALLS: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    CALLS.append(city)
    return f"sunny in {city}"


@pytest.fixture(scope="module")
def alice(gateway_url, master_key):
    return new_user_key(gateway_url, master_key, "alice")


async def run_turns(gateway_url: str, key: str, turns: list[str]) -> list:
    set_tracing_disabled(True)  # no trace export (offline)
    client = AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=key, max_retries=0)
    agent = Agent(
        name="weather",
        instructions="Answer with the weather tool.",
        tools=[get_weather],
        model=OpenAIResponsesModel(model=MODEL, openai_client=client),
    )
    results, previous = [], None
    for text in turns:
        result = await Runner.run(agent, text, previous_response_id=previous)
        previous = result.last_response_id
        results.append(result)
    await client.close()
    return results


def test_an_agent_with_a_tool_keeps_its_conversation_on_the_gateway(gateway_url, alice):
    CALLS.clear()
    turns = ["weather in Oslo?", "and tomorrow?", "thanks, once more"]
    results = asyncio.run(run_turns(gateway_url, alice[1], turns))
    assert [r.final_output for r in results] == ["Tool said: sunny in test"] * 3
    assert CALLS == ["test"] * 3

    headers = {"Authorization": f"Bearer {alice[1]}"}
    last = httpx.get(f"{gateway_url}/v1/responses/{results[-1].last_response_id}", headers=headers).json()
    stored = httpx.post(f"{gateway_url}/chat-history", headers=headers, json={"session_id": last["session_id"]})
    messages = stored.json()["messages"]
    # one session, in order: each turn is the user's text, the tool call, its result and the answer
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"] * 3
    assert [m["content"] for m in messages if m["role"] == "user"] == turns
    assert [m["content"] for m in messages if m["role"] == "tool"] == ["sunny in test"] * 3
    calls = [m["tool_calls"][0] for m in messages if m.get("tool_calls")]
    assert [c["function"]["name"] for c in calls] == ["get_weather"] * 3
    results_ids = [m["tool_call_id"] for m in messages if m["role"] == "tool"]
    assert results_ids == [c["id"] for c in calls]
