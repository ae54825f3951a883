"""Mid-conversation system messages, tool additions/removals, search results and system tools.

Bodies come from boto3's own serializer, so every shape here is one botocore's model accepts.
"""

from __future__ import annotations

import pytest

from gateway.converse.translate import converse_request_to_openai, search_result_text
from gateway.errors import ErrorKind, GatewayError


def _spec(name: str) -> dict:
    return {"toolSpec": {"name": name, "inputSchema": {"json": {"type": "object"}}}}


TOOLS = {"tools": [_spec("weather"), _spec("clock"), _spec("search")]}
USER = {"role": "user", "content": [{"text": "Hi"}]}
ASSISTANT = {"role": "assistant", "content": [{"text": "Hello"}]}


def _system(*blocks: dict) -> dict:
    return {"role": "system", "content": list(blocks)}


def _remove(name: str) -> dict:
    return {"toolRemoval": {"tool": {"name": name}}}


def _add(name: str) -> dict:
    return {"toolAddition": {"tool": {"name": name}}}


def _body(bedrock, **kwargs) -> dict:
    return converse_request_to_openai("m", bedrock.wire_body(modelId="m", **kwargs)).openai_body


def _tool_names(body: dict) -> list[str]:
    return [tool["function"]["name"] for tool in body.get("tools", [])]


def _error(bedrock, **kwargs) -> str:
    with pytest.raises(GatewayError) as raised:
        _body(bedrock, **kwargs)
    assert raised.value.kind is ErrorKind.VALIDATION
    return raised.value.message


# -- system-role messages ----------------------------------------------------------------------------


def test_a_system_message_stays_at_its_place_with_its_cache_point(bedrock):
    system = _system({"text": "From now on, answer in French."}, {"cachePoint": {"type": "default"}})
    body = _body(bedrock, system=[{"text": "Be brief."}], messages=[USER, ASSISTANT, system, USER])
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {
            "role": "system",
            "content": [
                {"type": "text", "text": "From now on, answer in French.", "cache_control": {"type": "ephemeral"}}
            ],
        },
        {"role": "user", "content": "Hi"},
    ]


def test_a_system_message_takes_guard_content_as_text(bedrock):
    system = _system({"guardContent": {"text": {"text": "Stay on topic."}}})
    assert _body(bedrock, messages=[USER, system])["messages"][1] == {"role": "system", "content": "Stay on topic."}


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"image": {"format": "png", "source": {"bytes": b"png"}}}, "image is only allowed in user messages"),
        ({"toolUse": {"toolUseId": "t", "name": "x", "input": {}}}, "toolUse is only allowed in assistant messages"),
        (
            {"searchResult": {"title": "t", "source": "s", "content": [{"text": "x"}]}},
            "searchResult is only allowed in user messages",
        ),
    ],
)
def test_a_system_message_refuses_blocks_bedrock_allows_only_elsewhere(bedrock, block, problem):
    assert _error(bedrock, messages=[USER, _system(block)]) == f"messages[1].content[0].{problem}"


def test_a_system_message_of_cache_points_only_is_refused(bedrock):
    message = _error(bedrock, messages=[USER, _system({"cachePoint": {"type": "default"}})])
    assert message == "messages[1].content has no content besides cache points"


# -- toolAddition / toolRemoval ----------------------------------------------------------------------


def test_a_removal_takes_a_tool_out_of_the_request(bedrock):
    body = _body(bedrock, toolConfig=TOOLS, messages=[USER, ASSISTANT, _system(_remove("clock")), USER])
    assert _tool_names(body) == ["weather", "search"]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]  # nothing left to say


def test_an_addition_puts_a_removed_tool_back_in_declared_order(bedrock):
    messages = [
        USER,
        _system({"text": "No weather for now."}, _remove("weather"), _remove("search")),
        ASSISTANT,
        USER,
        _system(_add("weather")),
        ASSISTANT,
        USER,
    ]
    body = _body(bedrock, toolConfig=TOOLS, messages=messages)
    assert _tool_names(body) == ["weather", "clock"]
    assert body["messages"][1] == {"role": "system", "content": "No weather for now."}


def test_calls_of_a_removed_tool_stay_in_the_history(bedrock):
    call = {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "clock", "input": {}}}]}
    result = {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "noon"}]}}]}
    body = _body(bedrock, toolConfig=TOOLS, messages=[USER, call, result, _system(_remove("clock")), USER])
    assert _tool_names(body) == ["weather", "search"]
    assert body["messages"][1]["tool_calls"][0]["function"]["name"] == "clock"
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "t1", "content": "noon"}


def test_removing_every_tool_sends_none_and_drops_an_auto_choice(bedrock):
    system = _system(_remove("weather"), _remove("clock"), _remove("search"))
    body = _body(bedrock, toolConfig={**TOOLS, "toolChoice": {"auto": {}}}, messages=[USER, system, USER])
    assert "tools" not in body and "tool_choice" not in body


@pytest.mark.parametrize(
    ("tool_config", "messages", "problem"),
    [
        (TOOLS, [USER, _system(_add("calendar"))], "messages[1].content[0].toolAddition.tool.name 'calendar'"),
        (None, [USER, _system(_remove("clock"))], "messages[1].content[0].toolRemoval.tool.name 'clock'"),
        (
            TOOLS,
            [USER, _system({"toolRemoval": {"tool": {"name": "fs_read", "serverName": "files"}}})],
            "messages[1].content[0].toolRemoval.tool.serverName is not supported: MCP server tools",
        ),
        (TOOLS, [USER, _system({"toolAddition": {"tool": {}}})], "toolAddition.tool.name must be a non-empty string"),
        (TOOLS, [{"role": "user", "content": [_remove("clock")]}], "toolRemoval is only allowed in system messages"),
        (
            {**TOOLS, "toolChoice": {"tool": {"name": "clock"}}},
            [USER, _system(_remove("clock"))],
            "toolConfig.toolChoice.tool.name 'clock' names a tool the messages removed",
        ),
        (
            {"tools": [_spec("clock")], "toolChoice": {"any": {}}},
            [USER, _system(_remove("clock"))],
            "toolConfig.toolChoice.any needs a tool",
        ),
    ],
)
def test_tool_changes_bedrock_would_refuse_are_validation_errors(bedrock, tool_config, messages, problem):
    kwargs = {"toolConfig": tool_config} if tool_config else {}
    assert problem in _error(bedrock, messages=messages, **kwargs)


def test_an_undeclared_tool_error_lists_the_declared_ones(bedrock):
    message = _error(bedrock, toolConfig=TOOLS, messages=[USER, _system(_add("calendar"))])
    assert message.endswith("is not a tool declared in toolConfig.tools (declared: clock, search, weather)")


# -- searchResult ------------------------------------------------------------------------------------

RESULT = {
    "title": "Tides",
    "source": "https://example.com/tides",
    "content": [{"text": "High tide is at 6am."}, {"text": "Low tide is at noon."}],
}
RESULT_TEXT = (
    "<search_result>\ntitle: Tides\nsource: https://example.com/tides\ncontent:\n"
    "High tide is at 6am.\nLow tide is at noon.\n</search_result>"
)


def test_search_result_text_format():
    assert search_result_text(RESULT["title"], RESULT["source"], ["High tide is at 6am.", "Low tide is at noon."]) == (
        RESULT_TEXT
    )


def test_a_search_result_in_a_user_turn_reaches_the_model_as_text(bedrock):
    message = {"role": "user", "content": [{"searchResult": {**RESULT, "citations": {"enabled": True}}}, {"text": "?"}]}
    assert _body(bedrock, messages=[message])["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": RESULT_TEXT}, {"type": "text", "text": "?"}]}
    ]


def test_a_search_result_in_a_tool_result_reaches_the_model_as_text(bedrock):
    call = {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "search", "input": {}}}]}
    result = {
        "role": "user",
        "content": [{"toolResult": {"toolUseId": "t1", "content": [{"searchResult": RESULT}, {"text": "1 hit"}]}}],
    }
    body = _body(bedrock, toolConfig=TOOLS, messages=[USER, call, result])
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "t1", "content": f"{RESULT_TEXT}\n1 hit"}


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        ({**RESULT, "content": [{"json": {}}]}, "searchResult.content[0] has unknown field(s): json"),
        ({**RESULT, "citations": {"enabled": "yes"}}, "searchResult.citations.enabled must be a boolean"),
        ({k: v for k, v in RESULT.items() if k != "title"}, "searchResult.title must be a string"),
    ],
)
def test_malformed_search_results_are_refused(result, problem):
    with pytest.raises(GatewayError) as raised:
        converse_request_to_openai("m", {"messages": [{"role": "user", "content": [{"searchResult": result}]}]})
    assert raised.value.message == f"messages[0].content[0].{problem}"


def test_video_in_a_tool_result_says_why_it_is_refused():
    result = {"toolUseId": "t", "content": [{"video": {"format": "mp4", "source": {"bytes": "AA=="}}}]}
    with pytest.raises(GatewayError) as raised:
        converse_request_to_openai("m", {"messages": [{"role": "user", "content": [{"toolResult": result}]}]})
    assert "video content blocks are not supported: LiteLLM's chat completions have no video input" in (
        raised.value.message
    )


# -- systemTool --------------------------------------------------------------------------------------

GROUNDING = {"systemTool": {"name": "nova_grounding"}}


def test_nova_grounding_asks_litellm_for_web_search(bedrock):
    body = _body(bedrock, toolConfig={"tools": [GROUNDING, _spec("clock")]}, messages=[USER])
    assert body["web_search_options"] == {}
    assert _tool_names(body) == ["clock"]


def test_nova_grounding_alone_sends_no_function_tools(bedrock):
    body = _body(bedrock, toolConfig={"tools": [GROUNDING], "toolChoice": {"auto": {}}}, messages=[USER])
    assert body["web_search_options"] == {}
    assert "tools" not in body and "tool_choice" not in body


def test_a_removed_nova_grounding_stops_the_web_search(bedrock):
    body = _body(
        bedrock, toolConfig={"tools": [GROUNDING, _spec("clock")]}, messages=[USER, _system(_remove("nova_grounding"))]
    )
    assert "web_search_options" not in body and _tool_names(body) == ["clock"]


@pytest.mark.parametrize(
    ("tool_config", "problem"),
    [
        (
            {"tools": [{"systemTool": {"name": "nova_code_interpreter"}}]},
            "toolConfig.tools[0].systemTool.name 'nova_code_interpreter' is not supported: LiteLLM has no counterpart",
        ),
        ({"tools": [GROUNDING], "toolChoice": {"any": {}}}, "toolChoice can only be auto"),
    ],
)
def test_system_tools_without_a_counterpart_are_refused(bedrock, tool_config, problem):
    assert problem in _error(bedrock, toolConfig=tool_config, messages=[USER])
