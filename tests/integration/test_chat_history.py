"""Server-side chat history over both interfaces, through the real local stack (DynamoDB emulator)."""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from botocore.exceptions import ClientError

from devstack.processes import free_port
from tests.integration.bedrock_clients import bearer_client
from tests.integration.conftest import new_user_key
from tests.support import fake_openai
from tests.support.fake_bedrock_agent import text_variant


def chat(gateway_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key, max_retries=0)


def say(client: openai.OpenAI, text: str, session_id: str | None = None, **kwargs):
    extra = {"session_id": session_id} if session_id else None
    return client.chat.completions.create(
        model="fake", messages=[{"role": "user", "content": text}], extra_body=extra, **kwargs
    )


def history(gateway_url: str, key: str, session_id: str, path: str = "/chat-history") -> httpx.Response:
    return httpx.post(
        f"{gateway_url}{path}", headers={"Authorization": f"Bearer {key}"}, json={"session_id": session_id}
    )


def sent_messages(reply) -> list[dict]:
    """What the model received, as echoed back by the fake upstream for ``__echo_request__``."""
    return json.loads(reply.choices[0].message.content)["messages"]


@pytest.fixture(scope="module")
def alice(gateway_url, master_key):
    return new_user_key(gateway_url, master_key, "alice")


@pytest.fixture(scope="module")
def bob(gateway_url, master_key):
    return new_user_key(gateway_url, master_key, "bob")


def test_a_call_without_session_id_starts_one_and_a_follow_up_sees_the_history(gateway_url, alice):
    client = chat(gateway_url, alice[1])
    first = say(client, "my name is Alice")
    session_id = first.model_extra["session_id"]
    assert session_id
    second = say(client, "__echo_request__", session_id)
    assert second.model_extra["session_id"] == session_id
    assert sent_messages(second) == [
        {"role": "user", "content": "my name is Alice"},
        {"role": "assistant", "content": "Echo: my name is Alice"},
        {"role": "user", "content": "__echo_request__"},
    ]
    stored = history(gateway_url, alice[1], session_id).json()["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[0] == {"role": "user", "content": "my name is Alice"}


def test_system_messages_are_sent_each_turn_but_not_stored(gateway_url, alice):
    client = chat(gateway_url, alice[1])
    first = client.chat.completions.create(
        model="fake", messages=[{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}]
    )
    stored = history(gateway_url, alice[1], first.model_extra["session_id"]).json()["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant"]


def test_streamed_reply_carries_session_id_on_first_chunk_and_is_stored(gateway_url, alice):
    client = chat(gateway_url, alice[1])
    chunks = list(say(client, "stream and remember", stream=True))
    session_id = chunks[0].model_extra["session_id"]
    assert session_id and all("session_id" not in (c.model_extra or {}) for c in chunks[1:])
    stored = history(gateway_url, alice[1], session_id).json()["messages"]
    assert stored[-1] == {"role": "assistant", "content": "Echo: stream and remember"}


def test_converse_sessions_and_converse_format_history(gateway_url, alice):
    bedrock = bearer_client(gateway_url, alice[1])
    first = bedrock.converse(modelId="fake", messages=[{"role": "user", "content": [{"text": "remember me"}]}])
    session_id = first["ResponseMetadata"]["HTTPHeaders"]["x-session-id"]
    stream = bedrock.converse_stream(
        modelId="fake",
        messages=[{"role": "user", "content": [{"text": "and again"}]}],
        additionalModelRequestFields={"session_id": session_id},
    )
    assert stream["ResponseMetadata"]["HTTPHeaders"]["x-session-id"] == session_id
    list(stream["stream"])
    converse_history = history(gateway_url, alice[1], session_id, "/bedrock/chat-history").json()
    assert converse_history["messages"] == [
        {"role": "user", "content": [{"text": "remember me"}]},
        {"role": "assistant", "content": [{"text": "Echo: remember me"}]},
        {"role": "user", "content": [{"text": "and again"}]},
        {"role": "assistant", "content": [{"text": "Echo: and again"}]},
    ]
    openai_history = history(gateway_url, alice[1], session_id).json()["messages"]
    assert openai_history[1] == {"role": "assistant", "content": "Echo: remember me"}


def test_tool_calls_are_stored_so_a_tool_result_turn_works(gateway_url, alice):
    bedrock = bearer_client(gateway_url, alice[1])
    tools = {
        "tools": [
            {
                "toolSpec": {
                    "name": "lookup",
                    "inputSchema": {
                        "json": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
                    },
                }
            }
        ]
    }
    first = bedrock.converse(
        modelId="fake", messages=[{"role": "user", "content": [{"text": "look it up"}]}], toolConfig=tools
    )
    session_id = first["ResponseMetadata"]["HTTPHeaders"]["x-session-id"]
    tool_use = next(b["toolUse"] for b in first["output"]["message"]["content"] if "toolUse" in b)
    result_turn = [
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": tool_use["toolUseId"], "content": [{"text": "42"}]}}],
        }
    ]
    second = bedrock.converse(
        modelId="fake",
        messages=result_turn,
        toolConfig=tools,
        additionalModelRequestFields={"session_id": session_id},
    )
    assert second["output"]["message"]["content"][0]["text"] == "Tool said: 42"
    stored = history(gateway_url, alice[1], session_id).json()["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[1]["tool_calls"][0]["id"] == tool_use["toolUseId"]


def test_another_users_session_looks_exactly_like_a_missing_one(gateway_url, alice, bob):
    session_id = say(chat(gateway_url, alice[1]), "private").model_extra["session_id"]
    not_yours = history(gateway_url, bob[1], session_id)
    missing = history(gateway_url, bob[1], "0" * 32)
    assert not_yours.status_code == missing.status_code == 404
    assert not_yours.json() == missing.json()
    with pytest.raises(openai.NotFoundError):
        say(chat(gateway_url, bob[1]), "let me in", session_id)
    with pytest.raises(ClientError) as raised:
        bearer_client(gateway_url, bob[1]).converse(
            modelId="fake",
            messages=[{"role": "user", "content": [{"text": "let me in"}]}],
            additionalModelRequestFields={"session_id": session_id},
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_admin_reads_any_session(gateway_url, master_key, alice):
    session_id = say(chat(gateway_url, alice[1]), "for the admin").model_extra["session_id"]
    assert history(gateway_url, master_key, session_id).json()["messages"][0]["content"] == "for the admin"


def test_all_keys_of_one_user_share_their_sessions(gateway_url, master_key, alice):
    second_key = httpx.post(
        f"{gateway_url}/key/generate", headers={"Authorization": f"Bearer {master_key}"}, json={"user_id": alice[0]}
    ).json()["key"]
    session_id = say(chat(gateway_url, alice[1]), "shared").model_extra["session_id"]
    assert history(gateway_url, second_key, session_id).status_code == 200


def test_session_ids_lists_the_callers_sessions_newest_first_with_pages(gateway_url, master_key):
    _, key = new_user_key(gateway_url, master_key, "lister")
    client = chat(gateway_url, key)
    created = [say(client, f"session {i}").model_extra["session_id"] for i in range(5)]
    auth = {"Authorization": f"Bearer {key}"}
    page = httpx.post(f"{gateway_url}/session-ids", headers=auth, json={"limit": 3}).json()
    assert page["session_ids"] == created[::-1][:3] and page["next_token"]
    rest = httpx.post(f"{gateway_url}/session-ids", headers=auth, json={"limit": 3, "next_token": page["next_token"]})
    assert rest.json()["session_ids"] == created[::-1][3:]


def test_a_failed_model_call_stores_nothing(gateway_url, alice):
    client = chat(gateway_url, alice[1])
    session_id = say(client, "before").model_extra["session_id"]
    with pytest.raises(openai.InternalServerError):
        say(client, "__status_500__", session_id)
    assert len(history(gateway_url, alice[1], session_id).json()["messages"]) == 2


def test_parallel_turns_on_one_session_lose_nothing(gateway_url, alice):
    client = chat(gateway_url, alice[1])
    session_id = say(client, "start").model_extra["session_id"]
    words = [f"turn-{i}-{secrets.token_hex(2)}" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda w: say(client, w, session_id), words))
    stored = history(gateway_url, alice[1], session_id).json()["messages"]
    assert len(stored) == 2 + 2 * len(words)
    for word in words:  # each turn's user message is directly followed by its own reply
        i = stored.index({"role": "user", "content": word})
        assert stored[i + 1] == {"role": "assistant", "content": f"Echo: {word}"}


def test_unreachable_history_store_is_a_clear_503_before_any_model_call(stack, master_key):
    url = stack.start_middleware(
        "middleware-no-dynamodb",
        free_port(),
        env_overrides={"AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{free_port()}"},
    )
    with pytest.raises(openai.InternalServerError) as raised:
        say(chat(url, master_key), "hello")
    assert raised.value.status_code == 503
    with pytest.raises(ClientError) as converse_error:
        bearer_client(url, master_key).converse(modelId="fake", messages=[{"role": "user", "content": [{"text": "x"}]}])
    assert converse_error.value.response["Error"]["Code"] == "ServiceUnavailableException"


def test_a_turn_too_large_to_store_is_answered_without_a_session_and_says_so(gateway_url, alice):
    huge = "x" * 3_200_000  # above the 3 MB a single stored message may take
    response = httpx.post(
        f"{gateway_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {alice[1]}"},
        json={"model": "fake", "messages": [{"role": "user", "content": huge}]},
        timeout=60,
    )
    assert response.status_code == 200
    assert "session_id" not in response.json()
    assert "chat history stores messages of at most" in response.headers["x-history-skipped"]


def test_a_turn_too_large_to_store_in_a_named_session_is_refused_before_the_model_call(gateway_url, alice):
    session_id = say(chat(gateway_url, alice[1]), "small start").model_extra["session_id"]
    with pytest.raises(openai.BadRequestError):
        say(chat(gateway_url, alice[1]), "x" * 3_200_000, session_id)
    assert len(history(gateway_url, alice[1], session_id).json()["messages"]) == 2


LOOKUP_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    },
}


@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
def test_signed_thinking_blocks_are_stored_and_replayed_with_tool_calls(gateway_url, alice, stream):
    client = chat(gateway_url, alice[1])
    first = say(client, "__think__ look it up", tools=[LOOKUP_TOOL], stream=stream)
    replies = list(first) if stream else [first]  # a stream is stored once read to its end
    session_id = replies[0].model_extra["session_id"]

    stored = history(gateway_url, alice[1], session_id).json()["messages"]
    assert stored[1]["thinking_blocks"] == fake_openai.thinking_blocks()
    assert stored[1]["reasoning_content"] == fake_openai.THINKING
    assert stored[1]["tool_calls"][0]["function"]["name"] == "lookup"
    # the next turns replay the assistant message with its signed thinking (Anthropic refuses it without)
    call_id = stored[1]["tool_calls"][0]["id"]
    tool_turn = client.chat.completions.create(
        model="fake",
        messages=[{"role": "tool", "tool_call_id": call_id, "content": "42"}],
        extra_body={"session_id": session_id},
        stream=stream,
    )
    if stream:
        list(tool_turn)
    replayed = sent_messages(say(client, "__echo_request__", session_id))
    assert replayed[1]["thinking_blocks"] == fake_openai.thinking_blocks()


def test_converse_stream_keeps_signed_thinking_in_history(gateway_url, alice):
    bedrock = bearer_client(gateway_url, alice[1])
    stream = bedrock.converse_stream(modelId="fake", messages=[{"role": "user", "content": [{"text": "__think__ hi"}]}])
    list(stream["stream"])
    session_id = stream["ResponseMetadata"]["HTTPHeaders"]["x-session-id"]
    stored = history(gateway_url, alice[1], session_id).json()["messages"]
    assert stored[1]["thinking_blocks"] == fake_openai.thinking_blocks()


def test_history_pages_in_both_formats(gateway_url, alice):
    client = chat(gateway_url, alice[1])
    session_id = say(client, "turn 0").model_extra["session_id"]
    for i in range(1, 5):
        say(client, f"turn {i}", session_id)
    whole = history(gateway_url, alice[1], session_id).json()  # a first call without a token: as before
    assert len(whole["messages"]) == 10 and whole["next_token"] is None

    for path in ("/chat-history", "/bedrock/chat-history"):
        pages, token = [], None
        while True:
            body = {"session_id": session_id, "limit": 4, **({"next_token": token} if token else {})}
            page = httpx.post(f"{gateway_url}{path}", headers={"Authorization": f"Bearer {alice[1]}"}, json=body)
            assert page.status_code == 200, page.text
            pages.append(page.json()["messages"])
            token = page.json()["next_token"]
            if token is None:
                break
        assert [len(p) for p in pages] == [4, 4, 2]
        expected = history(gateway_url, alice[1], session_id, path).json()["messages"]
        assert [m for p in pages for m in p] == expected


def test_a_prompt_arn_opens_a_session_once(gateway_url, alice, bedrock_agent):
    client = chat(gateway_url, alice[1])
    arn = bedrock_agent.arn(bedrock_agent.put_prompt(text_variant("Topic is {{t}}")))
    tea = {"promptVariables": {"t": {"text": "tea"}}}
    first = client.chat.completions.create(model=arn, messages=[], extra_body=tea)
    session_id = first.model_extra["session_id"]

    second = client.chat.completions.create(
        model=arn,
        messages=[{"role": "user", "content": "__echo_request__"}],
        extra_body={**tea, "session_id": session_id},
    )

    assert [m["content"] for m in sent_messages(second)] == ["Topic is tea", "Echo: Topic is tea", "__echo_request__"]
    stored = history(gateway_url, alice[1], session_id).json()["messages"]
    assert [m["content"] for m in stored[:3]] == ["Topic is tea", "Echo: Topic is tea", "__echo_request__"]
    assert len(stored) == 4
