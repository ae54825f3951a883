"""The Responses API through the real local stack, with a model that is not OpenAI's.

``fake-bridged`` is a ``deepseek/`` deployment in front of the fake upstream: LiteLLM serves
``/v1/responses`` for it through its chat-completions bridge, so what the model receives is the
chat request the fake upstream echoes back for ``__echo_request__``.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from devstack.processes import free_port
from tests.integration.conftest import new_user_key
from tests.support import fake_openai

MODEL = "fake-bridged"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def client_for(gateway_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key, max_retries=0)


def model_saw(response) -> list[dict]:
    """The chat messages the model received (the fake upstream echoes its request)."""
    return json.loads(response.output_text)["messages"]


def texts(messages: list[dict]) -> list[tuple[str, str]]:
    def text(content) -> str:
        if isinstance(content, list):
            return "".join(p.get("text", "") for p in content)
        return content or ""

    return [(m["role"], text(m.get("content"))) for m in messages]


@pytest.fixture(scope="module")
def alice(gateway_url, master_key):
    return new_user_key(gateway_url, master_key, "alice")


@pytest.fixture(scope="module")
def bob(gateway_url, master_key):
    return new_user_key(gateway_url, master_key, "bob")


def test_a_chain_of_three_sends_the_whole_chain_and_the_second_call_is_made_at_once(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    first = client.responses.create(model=MODEL, input="my name is Alice", instructions="be brief")
    assert first.output_text == "Echo: my name is Alice"
    assert first.id.startswith("resp_") and first.store is True
    second = client.responses.create(model=MODEL, input="I live in Oslo", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    third = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=second.id)
    assert texts(model_saw(third)) == [
        ("user", "my name is Alice"),
        ("assistant", "Echo: my name is Alice"),
        ("user", "I live in Oslo"),
        ("assistant", "Echo: I live in Oslo"),
        ("user", "__echo_request__"),
    ]  # the first response's instructions are not carried over
    assert client.responses.retrieve(third.id).output_text == third.output_text


def test_store_false_keeps_nothing(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    response = client.responses.create(model=MODEL, input="forget me", store=False)
    assert response.output_text == "Echo: forget me" and response.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODEL, input="again", previous_response_id=response.id)


def test_another_users_response_answers_like_a_missing_one(gateway_url, alice, bob, master_key):
    mine = client_for(gateway_url, alice[1]).responses.create(model=MODEL, input="secret plans")
    theirs = client_for(gateway_url, bob[1])
    missing = mine.id[:-4] + ("0000" if not mine.id.endswith("0000") else "1111")
    answers = []
    for response_id in (mine.id, missing):
        with pytest.raises(openai.NotFoundError) as caught:
            theirs.responses.retrieve(response_id)
        answers.append(caught.value.body)
        with pytest.raises(openai.NotFoundError):
            theirs.responses.create(model=MODEL, input="tell me", previous_response_id=response_id)
        with pytest.raises(openai.NotFoundError):
            theirs.responses.delete(response_id)
        with pytest.raises(openai.NotFoundError):
            theirs.responses.input_items.list(response_id)
    assert answers[0] == answers[1]
    assert client_for(gateway_url, master_key).responses.retrieve(mine.id).output_text == "Echo: secret plans"


def test_delete_removes_the_response(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    response = client.responses.create(model=MODEL, input="short-lived")
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(response.id)


def test_a_function_call_round_trip(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    first = client.responses.create(model=MODEL, input="weather in Oslo?", tools=[WEATHER_TOOL])
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "test"}
    second = client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        tools=[WEATHER_TOOL],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}],
    )
    assert second.output_text == "Tool said: sunny, 21 C"
    items = client.responses.input_items.list(second.id, order="asc")
    assert [(i.type, i.call_id, i.output) for i in items.data] == [
        ("function_call_output", call.call_id, "sunny, 21 C")
    ]


def test_streaming_relays_events_and_stores_on_completion(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    first = client.responses.create(model=MODEL, input="first")
    events = list(client.responses.create(model=MODEL, input="stream me", previous_response_id=first.id, stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Echo: stream me"
    completed = events[-1].response
    assert {e.response.id for e in events if hasattr(e, "response")} == {completed.id}
    assert completed.previous_response_id == first.id and completed.store is True
    third = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=completed.id)
    assert texts(model_saw(third))[:4] == [
        ("user", "first"),
        ("assistant", "Echo: first"),
        ("user", "stream me"),
        ("assistant", "Echo: stream me"),
    ]


def test_a_failed_call_stores_nothing(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    first = client.responses.create(model=MODEL, input="before")
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError):
            client.responses.create(model=MODEL, input="__status_500__", previous_response_id=first.id, stream=stream)
    after = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=first.id)
    assert texts(model_saw(after)) == [("user", "before"), ("assistant", "Echo: before"), ("user", "__echo_request__")]
    assert after.session_id == first.session_id  # still the newest of its session: no branch was needed


def test_an_unreachable_store_is_a_503_before_the_model_call(stack, master_key):
    url = stack.start_middleware(
        "middleware-responses-no-dynamodb",
        free_port(),
        env_overrides={"AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{free_port()}"},
    )
    client = client_for(url, master_key)
    for kwargs in ({}, {"stream": True}, {"previous_response_id": "resp_" + "0" * 32 + "3" * 16}):
        with pytest.raises(openai.InternalServerError) as raised:
            client.responses.create(model=MODEL, input="hello", **kwargs)
        assert raised.value.status_code == 503
    assert client.responses.create(model=MODEL, input="hello", store=False).output_text == "Echo: hello"


def test_reasoning_is_stored_and_replayed_with_its_signed_thinking(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    first = client.responses.create(model=MODEL, input="__think__ hello")
    (reasoning,) = [item for item in first.output if item.type == "reasoning"]
    assert reasoning.content[0].text == fake_openai.THINKING  # where LiteLLM's bridge puts it
    assert json.loads(reasoning.encrypted_content) == fake_openai.thinking_blocks()
    stored = httpx.post(
        f"{gateway_url}/chat-history",
        headers={"Authorization": f"Bearer {alice[1]}"},
        json={"session_id": first.session_id},
    ).json()["messages"]
    assert stored[1]["reasoning_content"] == fake_openai.THINKING
    assert stored[1]["thinking_blocks"] == fake_openai.thinking_blocks()
    second = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=first.id)
    replayed = model_saw(second)[1]
    assert replayed["role"] == "assistant" and replayed["reasoning_content"] == fake_openai.THINKING


def test_malformed_bodies_are_400_in_openai_format(gateway_url, alice):
    bodies = [
        {"model": MODEL},
        {"input": "hi"},
        {"model": MODEL, "input": 5},
        {"model": MODEL, "input": [{"type": "item_reference", "id": "x"}]},
        {"model": MODEL, "input": "hi", "previous_response_id": "resp_x", "conversation": "conv_x"},
    ]
    for body in bodies:
        answer = httpx.post(f"{gateway_url}/v1/responses", headers={"Authorization": f"Bearer {alice[1]}"}, json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"]["type"] == "invalid_request_error"


def test_a_branch_from_an_older_response_sees_only_its_own_chain(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    root = client.responses.create(model=MODEL, input="root")
    client.responses.create(model=MODEL, input="branch one", previous_response_id=root.id)
    other = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=root.id)
    assert texts(model_saw(other)) == [("user", "root"), ("assistant", "Echo: root"), ("user", "__echo_request__")]
    again = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=other.id)
    assert [t for t in texts(model_saw(again)) if t[0] == "user"] == [
        ("user", "root"),
        ("user", "__echo_request__"),
        ("user", "__echo_request__"),
    ]


def test_two_responses_continuing_the_same_one_at_once_never_share_a_chain(gateway_url, alice):
    """Whichever way the race goes (one stored as a branch, or one not stored), no chain mixes both."""
    client = client_for(gateway_url, alice[1])
    root = client.responses.create(model=MODEL, input="root")
    words = ["left", "right"]
    with ThreadPoolExecutor(2) as pool:
        made = list(
            pool.map(lambda w: client.responses.create(model=MODEL, input=w, previous_response_id=root.id), words)
        )
    assert any(r.store for r in made)
    for word, response in zip(words, made, strict=True):
        if not response.store:
            continue
        after = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=response.id)
        assert [t for t in texts(model_saw(after)) if t[0] == "user"] == [
            ("user", "root"),
            ("user", word),
            ("user", "__echo_request__"),
        ]


def test_litellms_own_mock_model_answers_and_is_stored(gateway_url, alice):
    """A ``mock_response`` deployment (LiteLLM answers it itself; it does not stream on LiteLLM's
    Responses API: 1.108.7 answers a stream request with a 500, relayed as a 502)."""
    client = client_for(gateway_url, alice[1])
    first = client.responses.create(model="mock-gpt", input="hi")
    assert first.output_text == "Hello from the mock."
    second = client.responses.create(model="mock-gpt", input="again", previous_response_id=first.id)
    items = client.responses.input_items.list(second.id)
    assert [i.content[0].text for i in items.data] == ["again"]
    with pytest.raises(openai.APIStatusError) as caught:
        list(client.responses.create(model="mock-gpt", input="hi", stream=True))
    assert caught.value.status_code == 502 and caught.value.body["type"] == "api_error"


def test_with_history_off_responses_answer_unstored_and_state_is_a_503(stack, master_key):
    url = stack.start_middleware(
        "middleware-responses-no-history", free_port(), env_overrides={"HISTORY_ENABLED": "false"}
    )
    client = client_for(url, master_key)
    raw = client.responses.with_raw_response.create(model=MODEL, input="hello")
    response = raw.parse()
    assert response.output_text == "Echo: hello" and response.store is False
    assert raw.headers["x-history-skipped"] == "chat history is turned off on this gateway"
    for state in ({"previous_response_id": response.id}, {"conversation": "conv_" + "0" * 32}):
        with pytest.raises(openai.InternalServerError) as raised:
            client.responses.create(model=MODEL, input="again", **state)
        assert raised.value.status_code == 503


def test_a_stream_the_client_abandons_stores_nothing(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    first = client.responses.create(model=MODEL, input="before")
    stream = client.responses.create(
        model=MODEL, input="__drip__ one two three four five six", previous_response_id=first.id, stream=True
    )
    for event in stream:
        if event.type == "response.output_text.delta":
            break
    stream.close()  # cancelled mid-answer
    after = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=first.id)
    assert texts(model_saw(after)) == [("user", "before"), ("assistant", "Echo: before"), ("user", "__echo_request__")]
    assert after.session_id == first.session_id  # the abandoned turn was not appended: no branch needed
