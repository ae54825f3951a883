"""Converse request -> LiteLLM chat/completions body. Bodies come from boto3's own serializer."""

from __future__ import annotations

import base64
import copy
import json
import random

import pytest

from gateway.converse.translate import converse_request_to_openai
from gateway.errors import ErrorKind, GatewayError

PNG = b"\x89PNG\r\n\x1a\n fake image bytes"
PDF = b"%PDF-1.7 fake document"
USER_HI = {"role": "user", "content": [{"text": "Hi"}]}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _translate(bedrock, model_id: str = "gpt-4o", **kwargs):
    """What the gateway gets: boto3 serializes ``converse(**kwargs)``, then we translate the body."""
    return converse_request_to_openai(model_id, bedrock.wire_body(modelId=model_id, **kwargs))


def test_text_system_and_inference_config(bedrock):
    call = _translate(
        bedrock,
        messages=[USER_HI, {"role": "assistant", "content": [{"text": "Hello!"}]}, USER_HI],
        system=[{"text": "Be brief."}, {"text": "Answer in French."}],
        inferenceConfig={"maxTokens": 256, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
    )
    assert call.openai_body == {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "system",
                "content": [
                    {"type": "text", "text": "Be brief."},
                    {"type": "text", "text": "Answer in French."},
                ],
            },
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Hi"},
        ],
        "max_tokens": 256,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END"],
    }
    assert call.session_id is None
    assert call.prompt_variables is None


def test_single_system_block_is_a_plain_string(bedrock):
    call = _translate(bedrock, messages=[USER_HI], system=[{"text": "Be brief."}])
    assert call.openai_body["messages"][0] == {"role": "system", "content": "Be brief."}


def test_cache_points_become_cache_control_and_guard_content_is_text(bedrock):
    call = _translate(
        bedrock,
        system=[{"text": "Long policy"}, {"cachePoint": {"type": "default"}}],
        messages=[
            {
                "role": "user",
                "content": [
                    {"guardContent": {"text": {"text": "Guarded question"}}},
                    {"cachePoint": {"type": "default", "ttl": "1h"}},
                    {"text": "More"},
                ],
            }
        ],
    )
    system, user = call.openai_body["messages"]
    assert system["content"] == [{"type": "text", "text": "Long policy", "cache_control": {"type": "ephemeral"}}]
    assert user["content"] == [
        {"type": "text", "text": "Guarded question", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        {"type": "text", "text": "More"},
    ]


WEATHER = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Weather for a city",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
}
WEATHER_OPENAI = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        (None, None),
        ({"auto": {}}, "auto"),
        ({"any": {}}, "required"),
        ({"tool": {"name": "get_weather"}}, {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tools_and_tool_choice(bedrock, tool_choice, expected):
    tool_config = {"tools": [WEATHER, {"cachePoint": {"type": "default"}}]}
    if tool_choice is not None:
        tool_config["toolChoice"] = tool_choice
    body = _translate(bedrock, messages=[USER_HI], toolConfig=tool_config).openai_body
    assert body["tools"] == [{**WEATHER_OPENAI, "cache_control": {"type": "ephemeral"}}]
    assert body.get("tool_choice") == expected


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif", "webp"])
def test_image_each_format_becomes_a_data_url(bedrock, fmt):
    call = _translate(
        bedrock,
        messages=[
            {
                "role": "user",
                "content": [{"text": "What is this?"}, {"image": {"format": fmt, "source": {"bytes": PNG}}}],
            }
        ],
    )
    assert call.openai_body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": f"data:image/{fmt};base64,{_b64(PNG)}"}},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("pdf", "application/pdf"),
        ("csv", "text/csv"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("html", "text/html"),
        ("txt", "text/plain"),
        ("md", "text/markdown"),
    ],
)
def test_document_becomes_a_litellm_file_part(bedrock, fmt, mime):
    doc = {"document": {"format": fmt, "name": "Quarterly report", "source": {"bytes": PDF}}}
    call = _translate(bedrock, messages=[{"role": "user", "content": [{"text": "Summarize"}, doc]}])
    assert call.openai_body["messages"][0]["content"][1] == {
        "type": "file",
        "file": {"file_data": f"data:{mime};base64,{_b64(PDF)}", "filename": f"Quarterly report.{fmt}"},
    }


def test_text_document_source_is_sent_as_a_text_file(bedrock):
    doc = {"document": {"name": "notes", "source": {"text": "line one"}}}
    part = _translate(bedrock, messages=[{"role": "user", "content": [doc]}]).openai_body["messages"][0]["content"][0]
    assert part["file"] == {
        "file_data": f"data:text/plain;base64,{_b64(b'line one')}",
        "filename": "notes.txt",
    }


def test_tool_use_and_tool_result_round_trip_in_openai_order(bedrock):
    messages = [
        {"role": "user", "content": [{"text": "Weather in Paris and Oslo?"}]},
        {
            "role": "assistant",
            "content": [
                {"reasoningContent": {"reasoningText": {"text": "Need two lookups.", "signature": "sig=="}}},
                {"text": "Checking."},
                {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "t2", "name": "get_weather", "input": {"city": "Oslo"}}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"text": "Also, be brief."},
                {"toolResult": {"toolUseId": "t1", "content": [{"json": {"temp_c": 21}}]}},
                {"toolResult": {"toolUseId": "t2", "content": [{"text": "service down"}], "status": "error"}},
            ],
        },
    ]
    call = _translate(bedrock, messages=messages, toolConfig={"tools": [WEATHER]})
    assert call.openai_body["messages"] == [
        {"role": "user", "content": "Weather in Paris and Oslo?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "t1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "t2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                },
            ],
            "thinking_blocks": [{"type": "thinking", "thinking": "Need two lookups.", "signature": "sig=="}],
            "reasoning_content": "Need two lookups.",
        },
        {"role": "tool", "tool_call_id": "t1", "content": '{"temp_c": 21}'},
        {"role": "tool", "tool_call_id": "t2", "content": "Error: service down"},
        {"role": "user", "content": "Also, be brief."},
    ]


def test_tool_only_assistant_turn_has_null_content_and_tool_result_with_image(bedrock):
    messages = [
        USER_HI,
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "snap", "input": {}}}]},
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "t1",
                        "content": [
                            {"text": "photo"},
                            {"image": {"format": "png", "source": {"bytes": PNG}}},
                        ],
                    }
                }
            ],
        },
    ]
    _, assistant, tool = _translate(bedrock, messages=messages).openai_body["messages"]
    assert assistant["content"] is None
    assert assistant["tool_calls"][0]["function"]["arguments"] == "{}"
    assert tool["content"] == [
        {"type": "text", "text": "photo"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_b64(PNG)}"}},
    ]


def test_redacted_reasoning_becomes_redacted_thinking(bedrock):
    messages = [
        USER_HI,
        {
            "role": "assistant",
            "content": [{"reasoningContent": {"redactedContent": b"EncryptedOpaque=="}}, {"text": "ok"}],
        },
        USER_HI,
    ]
    assistant = _translate(bedrock, messages=messages).openai_body["messages"][1]
    assert assistant["thinking_blocks"] == [{"type": "redacted_thinking", "data": "EncryptedOpaque=="}]


def test_reasoning_only_assistant_turn_keeps_string_content(bedrock):
    messages = [
        USER_HI,
        {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": "t"}}}]},
        USER_HI,
    ]
    assistant = _translate(bedrock, messages=messages).openai_body["messages"][1]
    assert assistant["content"] == ""
    assert assistant["thinking_blocks"] == [{"type": "thinking", "thinking": "t"}]


def test_additional_fields_merge_and_session_id_is_extracted(bedrock):
    call = _translate(
        bedrock,
        messages=[USER_HI],
        inferenceConfig={"maxTokens": 10},
        additionalModelRequestFields={"session_id": "chat-42", "top_k": 5, "max_tokens": 20},
        requestMetadata={"team": "search", "ticket": "T-1"},
        promptVariables={"city": {"text": "Paris"}},
        performanceConfig={"latency": "optimized"},
    )
    assert call.session_id == "chat-42"
    assert call.prompt_variables == {"city": {"text": "Paris"}}
    body = call.openai_body
    assert "session_id" not in body
    assert body["top_k"] == 5
    assert body["max_tokens"] == 20  # the escape hatch wins over inferenceConfig
    assert body["metadata"] == {"team": "search", "ticket": "T-1"}
    assert "promptVariables" not in body and "performanceConfig" not in body


def test_output_config_json_schema_becomes_response_format(bedrock):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    body = _translate(
        bedrock,
        messages=[USER_HI],
        outputConfig={
            "textFormat": {
                "type": "json_schema",
                "structure": {"jsonSchema": {"schema": json.dumps(schema), "name": "answer"}},
            }
        },
    ).openai_body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema},
    }


def test_prompt_arn_allows_missing_messages():
    arn = "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT12345:1"
    call = converse_request_to_openai(arn, {"promptVariables": {"topic": {"text": "cats"}}})
    assert call.openai_body == {"model": arn, "messages": []}
    assert call.prompt_variables == {"topic": {"text": "cats"}}


def _error(body, model_id: str = "gpt-4o") -> GatewayError:
    with pytest.raises(GatewayError) as info:
        converse_request_to_openai(model_id, body)
    assert info.value.kind is ErrorKind.VALIDATION
    return info.value


def _with_content(*blocks, role="user"):
    return {"messages": [{"role": role, "content": list(blocks)}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "request body must be an object"),
        ("text", "request body must be an object"),
        ({}, "messages must be a list"),
        ({"messages": []}, "messages must not be empty"),
        ({"messages": {"role": "user"}}, "messages must be a list"),
        ({"messages": ["hi"]}, "messages[0] must be an object"),
        (
            {"messages": [{"role": "developer", "content": [{"text": "x"}]}]},
            "messages[0].role must be one of user, assistant, system",
        ),
        ({"messages": [{"role": "user", "content": []}]}, "messages[0].content must not be empty"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "messages[0].content must be a list"),
        ({"messages": [USER_HI], "temperature": 1}, "request body has unknown field(s): temperature"),
        (
            {"messages": [{"role": "user", "content": [{"text": "x"}], "name": "bob"}]},
            "messages[0] has unknown field(s): name",
        ),
        (_with_content({"sticker": {}}), "messages[0].content[0] has unknown type 'sticker'"),
        (_with_content({"text": "a", "image": {}}), "messages[0].content[0] must set exactly one of"),
        (_with_content({"text": 5}), "messages[0].content[0].text must be a string"),
        (
            _with_content({"video": {"format": "mp4"}}),
            "messages[0].content[0].video content blocks are not supported",
        ),
        (
            _with_content({"image": {"format": "bmp", "source": {"bytes": "AAAA"}}}),
            "messages[0].content[0].image.format must be one of png, jpeg, gif, webp",
        ),
        (
            _with_content({"image": {"format": "png", "source": {"bytes": "not base64!"}}}),
            "messages[0].content[0].image.source.bytes is not valid base64",
        ),
        (
            _with_content({"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/k"}}}}),
            "messages[0].content[0].image.source.s3Location is not supported",
        ),
        (
            _with_content({"image": {"format": "png"}}),
            "messages[0].content[0].image.source must be an object",
        ),
        (
            _with_content({"document": {"format": "exe", "name": "x", "source": {"bytes": "AAAA"}}}),
            "messages[0].content[0].document.format must be one of pdf, csv",
        ),
        (
            _with_content({"document": {"format": "pdf", "source": {"bytes": "AAAA"}}}),
            "messages[0].content[0].document.name must be a non-empty string",
        ),
        (
            _with_content({"toolUse": {"toolUseId": "t", "name": "n", "input": {}}}),
            "messages[0].content[0].toolUse is only allowed in assistant messages",
        ),
        (
            _with_content({"toolResult": {"toolUseId": "t", "content": []}}, role="assistant"),
            "messages[0].content[0].toolResult is only allowed in user messages",
        ),
        (
            _with_content({"toolUse": {"toolUseId": "t", "name": "n"}}, role="assistant"),
            "messages[0].content[0].toolUse.input is required",
        ),
        (
            _with_content({"toolResult": {"toolUseId": "t", "content": [{"text": "x"}], "status": "oops"}}),
            "messages[0].content[0].toolResult.status must be one of success, error",
        ),
        ({"messages": [USER_HI], "system": "Be nice"}, "system must be a list"),
        ({"messages": [USER_HI], "system": [{"image": {}}]}, "system[0] has unknown type 'image'"),
        (
            {"messages": [USER_HI], "inferenceConfig": {"maxTokens": 0}},
            "inferenceConfig.maxTokens must be a positive integer",
        ),
        (
            {"messages": [USER_HI], "inferenceConfig": {"temperature": "hot"}},
            "inferenceConfig.temperature must be a number",
        ),
        (
            {"messages": [USER_HI], "inferenceConfig": {"topK": 3}},
            "inferenceConfig has unknown field(s): topK",
        ),
        ({"messages": [USER_HI], "toolConfig": {"tools": []}}, "toolConfig.tools must not be empty"),
        (
            {"messages": [USER_HI], "toolConfig": {"tools": [{"toolSpec": {"name": "x"}}]}},
            "toolConfig.tools[0].toolSpec.inputSchema must be an object",
        ),
        (
            {"messages": [USER_HI], "toolConfig": {"tools": [WEATHER], "toolChoice": {"none": {}}}},
            "toolConfig.toolChoice has unknown type 'none'",
        ),
        (
            {"messages": [USER_HI], "guardrailConfig": {"guardrailIdentifier": "g"}},
            "request body has unknown field(s): guardrailConfig",
        ),
        (
            {"messages": [USER_HI], "additionalModelRequestFields": {"model": "gpt-5"}},
            "additionalModelRequestFields.model is not allowed",
        ),
        (
            {"messages": [USER_HI], "additionalModelRequestFields": {"messages": []}},
            "additionalModelRequestFields.messages is not allowed",
        ),
        (
            {"messages": [USER_HI], "additionalModelRequestFields": {"stream": True}},
            "additionalModelRequestFields.stream is not allowed",
        ),
        (
            {"messages": [USER_HI], "additionalModelRequestFields": {"session_id": 7}},
            "additionalModelRequestFields.session_id must be a non-empty string",
        ),
        (
            {"messages": [USER_HI], "additionalModelRequestFields": []},
            "additionalModelRequestFields must be an object",
        ),
        ({"messages": [USER_HI], "requestMetadata": {"k": 1}}, "requestMetadata.k must be a string"),
        ({"messages": [USER_HI], "promptVariables": ["x"]}, "promptVariables must be an object"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(body, message):
    assert message in _error(body).message


FULL_BODY = {
    "system": [{"text": "s"}, {"cachePoint": {"type": "default"}}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"text": "hi"},
                {"image": {"format": "png", "source": {"bytes": "AAAA"}}},
                {"document": {"format": "pdf", "name": "d", "source": {"bytes": "AAAA"}}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"reasoningContent": {"reasoningText": {"text": "t", "signature": "s"}}},
                {"toolUse": {"toolUseId": "a", "name": "f", "input": {"x": 1}}},
            ],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "a", "content": [{"json": {"a": 1}}], "status": "error"}}],
        },
    ],
    "inferenceConfig": {"maxTokens": 5, "temperature": 0.1, "topP": 1, "stopSequences": ["x"]},
    "toolConfig": {"tools": [WEATHER], "toolChoice": {"tool": {"name": "get_weather"}}},
    "additionalModelRequestFields": {"session_id": "s", "top_k": 1},
    "requestMetadata": {"a": "b"},
    "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "{}"}}}},
}


def _paths(node, prefix=()):
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, (*prefix, key))


def test_any_malformed_json_gives_a_validation_error_never_a_crash():
    """Replace random parts of a full request with wrong JSON types: only GatewayError may come out."""
    assert converse_request_to_openai("m", FULL_BODY).session_id == "s"
    wrong = [None, 0, 1.5, True, "", "x", [], [{}], {}, {"text": None}, {"a": 1}]
    paths = [p for p in _paths(FULL_BODY) if p]
    rnd = random.Random(7)
    for _ in range(3000):
        body = copy.deepcopy(FULL_BODY)
        for path in rnd.sample(paths, rnd.randint(1, 3)):
            parent = body
            try:
                for key in path[:-1]:
                    parent = parent[key]
                parent[path[-1]] = copy.deepcopy(rnd.choice(wrong))
            except (KeyError, IndexError, TypeError):
                continue  # an earlier replacement removed this path
        try:
            converse_request_to_openai("m", body)
        except GatewayError as error:
            assert error.kind is ErrorKind.VALIDATION
