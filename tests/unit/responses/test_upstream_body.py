"""What LiteLLM receives for a Responses call: never the gateway's state fields, always ``store: false``,
the stored chain as explicit input items before the request's own input."""

from __future__ import annotations

import pytest

from gateway.errors import GatewayError
from gateway.responses.service import ResponsesService, check_body

CHAIN = [
    {"role": "user", "content": "my name is Alice"},
    {"role": "assistant", "content": "Hi Alice", "reasoning_content": "a name"},
]


def test_the_chain_is_sent_as_items_and_the_state_fields_are_not_sent():
    body = {"model": "m", "input": "what is my name?", "previous_response_id": "resp_x", "store": True,
            "instructions": "be brief", "tools": []}  # fmt: skip
    items = [{"type": "message", "role": "user", "content": "what is my name?"}]
    sent = ResponsesService._upstream_body(body, items, CHAIN, "s" * 32)
    assert sent["store"] is False and "previous_response_id" not in sent and "conversation" not in sent
    assert sent["instructions"] == "be brief" and sent["tools"] == []
    kinds = [(i["type"], i.get("role")) for i in sent["input"]]
    assert kinds == [("message", "user"), ("reasoning", None), ("message", "assistant"), ("message", "user")]
    assert sent["input"][-1] == items[0]


def test_without_a_chain_the_input_goes_as_sent():
    body = {"model": "m", "input": "hi", "conversation": "conv_x", "store": False}
    sent = ResponsesService._upstream_body(body, [{"role": "user", "content": "hi"}], [], "")
    assert sent == {"model": "m", "input": "hi", "store": False}


@pytest.mark.parametrize(
    "body",
    [
        {"input": "x"},
        {"model": "", "input": "x"},
        {"model": "m"},
        {"model": "m", "input": "x", "store": "yes"},
        {"model": "m", "input": "x", "stream": 1},
        {"model": "m", "input": "x", "background": True},
        {"model": "m", "input": "x", "previous_response_id": "resp_1", "conversation": "conv_1"},
        {"model": "m", "input": "x", "instructions": 5},
    ],
)
def test_bodies_the_gateway_cannot_serve_are_a_400(body):
    with pytest.raises(GatewayError) as caught:
        check_body(body)
    assert caught.value.kind.shape.openai_status == 400
