"""Conversations are chat-history sessions: shared by the Responses API, /chat-history, chat
completions and Converse (real local stack, a model that is not OpenAI's)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.integration.bedrock_clients import bearer_client
from tests.integration.conftest import new_user_key
from tests.integration.test_responses_api import MODEL, client_for, model_saw, texts


@pytest.fixture(scope="module")
def alice(gateway_url, master_key):
    return new_user_key(gateway_url, master_key, "alice")


@pytest.fixture(scope="module")
def bob(gateway_url, master_key):
    return new_user_key(gateway_url, master_key, "bob")


def chat_history(gateway_url: str, key: str, session_id: str) -> list[dict]:
    answer = httpx.post(
        f"{gateway_url}/chat-history", headers={"Authorization": f"Bearer {key}"}, json={"session_id": session_id}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["messages"]


def test_a_conversation_started_on_responses_is_read_with_chat_history_and_continued_on_converse(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "system", "content": "be kind"}], metadata={"topic": "names"}
    )
    assert conversation.id.startswith("conv_") and conversation.metadata == {"topic": "names"}
    first = client.responses.create(model=MODEL, input="my name is Alice", conversation=conversation.id)
    assert first.conversation.id == conversation.id
    session_id = conversation.id.removeprefix("conv_")
    assert chat_history(gateway_url, alice[1], session_id) == [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": "my name is Alice"},
        {"role": "assistant", "content": "Echo: my name is Alice"},
    ]
    bedrock = bearer_client(gateway_url, alice[1])
    reply = bedrock.converse(
        modelId="fake",
        messages=[{"role": "user", "content": [{"text": "__echo_request__"}]}],
        additionalModelRequestFields={"session_id": session_id},
    )
    sent = json.loads(reply["output"]["message"]["content"][0]["text"])["messages"]
    assert texts(sent) == [
        ("system", "be kind"),
        ("user", "my name is Alice"),
        ("assistant", "Echo: my name is Alice"),
        ("user", "__echo_request__"),
    ]
    items = client.conversations.items.list(conversation.id, order="asc")
    assert [(i.type, i.role) for i in items.data] == [
        ("message", r) for r in ("system", "user", "assistant", "user", "assistant")
    ]
    assert client.conversations.retrieve(conversation.id).metadata == {"topic": "names"}


def test_a_chat_completions_session_is_a_conversation_on_responses(gateway_url, alice):
    chat = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=alice[1], max_retries=0)
    reply = chat.chat.completions.create(model="fake", messages=[{"role": "user", "content": "I like tea"}])
    session_id = reply.model_extra["session_id"]
    client = client_for(gateway_url, alice[1])
    response = client.responses.create(model=MODEL, input="__echo_request__", conversation=f"conv_{session_id}")
    assert texts(model_saw(response)) == [
        ("user", "I like tea"),
        ("assistant", "Echo: I like tea"),
        ("user", "__echo_request__"),
    ]
    stored = chat_history(gateway_url, alice[1], session_id)
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]


def test_conversation_items_are_paginated_both_ways(gateway_url, alice):
    client = client_for(gateway_url, alice[1])
    conversation = client.conversations.create(items=[{"role": "user", "content": f"message {i}"} for i in range(5)])
    ascending = [i.content[0].text for i in client.conversations.items.list(conversation.id, order="asc", limit=100)]
    assert ascending == [f"message {i}" for i in range(5)]
    for order in ("asc", "desc"):
        seen, after = [], None
        while True:
            page = client.conversations.items.list(
                conversation.id, order=order, limit=2, **({"after": after} if after else {})
            )
            seen += [i.content[0].text for i in page.data]
            if not page.has_more:
                break
            after = page.data[-1].id
        assert seen == (ascending if order == "asc" else ascending[::-1])


def test_someone_elses_conversation_answers_like_a_missing_one(gateway_url, alice, bob):
    mine = client_for(gateway_url, alice[1]).conversations.create()
    theirs = client_for(gateway_url, bob[1])
    for conversation_id in (mine.id, "conv_" + "0" * 32, "conv_nope"):
        with pytest.raises(openai.NotFoundError):
            theirs.conversations.retrieve(conversation_id)
        with pytest.raises(openai.NotFoundError):
            theirs.conversations.items.list(conversation_id)
        with pytest.raises(openai.NotFoundError):
            theirs.responses.create(model=MODEL, input="hi", conversation=conversation_id)


def test_items_added_to_a_conversation_are_the_sessions_next_messages(gateway_url, alice, bob):
    client = client_for(gateway_url, alice[1])
    conversation = client.conversations.create()
    added = client.conversations.items.create(
        conversation.id,
        items=[
            {"type": "message", "role": "user", "content": "remember: blue"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "noted"}]},
        ],
    )
    assert [(i.type, i.role) for i in added.data] == [("message", "user"), ("message", "assistant")]
    listed = client.conversations.items.list(conversation.id, order="asc")
    assert [i.id for i in listed.data] == [i.id for i in added.data]
    response = client.responses.create(model=MODEL, input="__echo_request__", conversation=conversation.id)
    assert texts(model_saw(response)) == [
        ("user", "remember: blue"),
        ("assistant", "noted"),
        ("user", "__echo_request__"),
    ]
    for other, conversation_id in ((bob, conversation.id), (alice, "conv_" + "0" * 32)):
        with pytest.raises(openai.NotFoundError):
            client_for(gateway_url, other[1]).conversations.items.create(
                conversation_id, items=[{"role": "user", "content": "x"}]
            )
    assert len(client.conversations.items.list(conversation.id).data) == 4
