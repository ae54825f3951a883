"""Mid-conversation system messages, tool additions/removals, search results and system tools, through
boto3 and the local stack.

``fake`` is the OpenAI-compatible stand-in and ``fake-claude`` LiteLLM's ``anthropic/`` provider
against the Anthropic-format stand-in; with ``__echo_request__`` in the last user text each answers
the JSON it got, i.e. exactly what LiteLLM sent upstream.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.integration.bedrock_clients import bearer_client

ECHO = {"role": "user", "content": [{"text": "__echo_request__"}]}
HI = {"role": "user", "content": [{"text": "Hi"}]}
HELLO = {"role": "assistant", "content": [{"text": "Hello"}]}
FRENCH = {"role": "system", "content": [{"text": "From now on, answer in French."}]}
RESULT = {
    "title": "Tides",
    "source": "https://example.com/tides",
    "content": [{"text": "High tide is at 6am."}, {"text": "Low tide is at noon."}],
}
RESULT_TEXT = (
    "<search_result>\ntitle: Tides\nsource: https://example.com/tides\ncontent:\n"
    "High tide is at 6am.\nLow tide is at noon.\n</search_result>"
)


def _spec(name: str) -> dict:
    return {"toolSpec": {"name": name, "description": f"the {name}", "inputSchema": {"json": {"type": "object"}}}}


TOOLS = {"tools": [_spec("weather"), _spec("clock")]}
CLOCK_CALL = {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tu1", "name": "clock", "input": {}}}]}
CLOCK_RESULT = {"role": "user", "content": [{"toolResult": {"toolUseId": "tu1", "content": [{"text": "noon"}]}}]}


def _system(*blocks: dict) -> dict:
    return {"role": "system", "content": list(blocks)}


def _removal(name: str) -> dict:
    return {"toolRemoval": {"tool": {"name": name}}}


@pytest.fixture(scope="module")
def bedrock(gateway_url, master_key):
    return bearer_client(gateway_url, master_key)


def sent(response: dict) -> dict:
    """What reached the model, as the stand-in echoed it."""
    return json.loads(response["output"]["message"]["content"][0]["text"])


def _texts(content) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))


# -- system-role messages ----------------------------------------------------------------------------


def test_a_mid_conversation_system_message_reaches_an_openai_format_model_in_place(bedrock):
    response = bedrock.converse(modelId="fake", system=[{"text": "Be brief."}], messages=[HI, HELLO, FRENCH, ECHO])
    messages = sent(response)["messages"]
    assert [(m["role"], _texts(m["content"])) for m in messages] == [
        ("system", "Be brief."),
        ("user", "Hi"),
        ("assistant", "Hello"),
        ("system", "From now on, answer in French."),
        ("user", "__echo_request__"),
    ]


def test_a_mid_conversation_system_message_reaches_claude_where_litellm_places_it(bedrock):
    """claude-fake is not flagged ``supports_mid_conversation_system``: LiteLLM makes it a user turn with an
    operator note at the same place (flagged Claude models keep ``role: system`` there)."""
    body = sent(bedrock.converse(modelId="fake-claude", messages=[HI, HELLO, FRENCH, ECHO]))
    assert "French" not in json.dumps(body.get("system"))  # not hoisted into the system prompt
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    last = _texts(body["messages"][-1]["content"])
    assert "Operator note (not from the user)" in last
    assert last.index("From now on, answer in French.") < last.index("__echo_request__")


def test_a_mid_conversation_system_message_keeps_its_place_in_chat_history(bedrock):
    first = bedrock.converse(
        modelId="fake", messages=[HI, HELLO, FRENCH, {"role": "user", "content": [{"text": "Go"}]}]
    )
    session_id = first["ResponseMetadata"]["HTTPHeaders"]["x-session-id"]
    second = bedrock.converse(modelId="fake", messages=[ECHO], additionalModelRequestFields={"session_id": session_id})
    roles = [m["role"] for m in sent(second)["messages"]]
    assert roles == ["user", "assistant", "system", "user", "assistant", "user"]


# -- toolAddition / toolRemoval ----------------------------------------------------------------------


def test_a_tool_removal_takes_the_tool_out_of_what_claude_gets(bedrock):
    messages = [HI, CLOCK_CALL, CLOCK_RESULT, _system({"text": "No clock now."}, _removal("clock")), ECHO]
    body = sent(bedrock.converse(modelId="fake-claude", toolConfig=TOOLS, messages=messages))
    assert [tool["name"] for tool in body["tools"]] == ["weather"]
    # the removed tool's call and result stay valid history
    assert body["messages"][1]["content"][0] == {"type": "tool_use", "id": "tu1", "name": "clock", "input": {}}
    assert body["messages"][2]["content"][0]["type"] == "tool_result"


def test_an_addition_puts_the_tool_back_on_the_stream_route(bedrock):
    addition = _system({"toolAddition": {"tool": {"name": "clock"}}})
    messages = [HI, _system(_removal("weather"), _removal("clock")), HELLO, HI, addition, ECHO]
    events = list(bedrock.converse_stream(modelId="fake-claude", toolConfig=TOOLS, messages=messages)["stream"])
    text = "".join(e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e)
    assert [tool["name"] for tool in json.loads(text)["tools"]] == ["clock"]


def test_removing_every_tool_keeps_a_tool_history_valid_for_both_formats(bedrock):
    messages = [HI, CLOCK_CALL, CLOCK_RESULT, _system(_removal("weather"), _removal("clock")), ECHO]
    openai_body = sent(bedrock.converse(modelId="fake", toolConfig=TOOLS, messages=messages))
    assert "tools" not in openai_body
    assert openai_body["messages"][1]["tool_calls"][0]["function"]["name"] == "clock"
    claude_body = sent(bedrock.converse(modelId="fake-claude", toolConfig=TOOLS, messages=messages))
    assert "clock" not in [tool["name"] for tool in claude_body["tools"]]  # LiteLLM's placeholder tool only
    assert claude_body["messages"][1]["content"][0]["name"] == "clock"


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ({"name": "calendar"}, "messages[1].content[0].toolAddition.tool.name 'calendar' is not a tool declared"),
        (
            {"name": "read", "serverName": "files"},
            "messages[1].content[0].toolAddition.tool.serverName is not supported",
        ),
    ],
)
def test_a_tool_change_bedrock_would_refuse_is_a_validation_exception(bedrock, reference, problem):
    with pytest.raises(ClientError) as raised:
        bedrock.converse(
            modelId="fake", toolConfig=TOOLS, messages=[HI, _system({"toolAddition": {"tool": reference}})]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert problem in raised.value.response["Error"]["Message"]


# -- searchResult ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["fake", "fake-claude"])
def test_a_search_result_reaches_the_model_as_text(bedrock, model):
    search = {"searchResult": {**RESULT, "citations": {"enabled": True}}}
    message = {"role": "user", "content": [search, {"text": "__echo_request__"}]}
    body = sent(bedrock.converse(modelId=model, messages=[message]))
    assert RESULT_TEXT in _texts(body["messages"][0]["content"])


def test_a_search_result_in_a_tool_result_reaches_the_model(bedrock):
    call = {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tu2", "name": "weather", "input": {}}}]}
    result = {"role": "user", "content": [{"toolResult": {"toolUseId": "tu2", "content": [{"searchResult": RESULT}]}}]}
    response = bedrock.converse(modelId="fake", toolConfig=TOOLS, messages=[HI, call, result])
    assert response["output"]["message"]["content"][0]["text"] == f"Tool said: {RESULT_TEXT}"


# -- systemTool --------------------------------------------------------------------------------------


def test_nova_grounding_asks_the_model_for_web_search(bedrock):
    config = {"tools": [{"systemTool": {"name": "nova_grounding"}}]}
    assert sent(bedrock.converse(modelId="fake", toolConfig=config, messages=[ECHO]))["web_search_options"] == {}
    claude_tools = sent(bedrock.converse(modelId="fake-claude", toolConfig=config, messages=[ECHO]))["tools"]
    assert [tool["name"] for tool in claude_tools] == ["web_search"]  # Anthropic's server tool, via LiteLLM
    assert claude_tools[0]["type"].startswith("web_search_")


def test_a_system_tool_without_a_counterpart_is_a_validation_exception(bedrock):
    config = {"tools": [{"systemTool": {"name": "nova_code_interpreter"}}]}
    with pytest.raises(ClientError) as raised:
        bedrock.converse(modelId="fake", toolConfig=config, messages=[HI])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert (
        "'nova_code_interpreter' is not supported: LiteLLM has no counterpart"
        in raised.value.response["Error"]["Message"]
    )
