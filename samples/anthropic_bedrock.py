"""The Anthropic SDK's Bedrock client (``AnthropicBedrock``) through the gateway, for any model.

``AnthropicBedrock`` calls Bedrock's InvokeModel and InvokeModelWithResponseStream with Anthropic
Messages bodies; the gateway answers them at ``<gateway>/bedrock/model/{modelId}/invoke[-with-response-stream]``
with whatever LiteLLM model ``modelId`` names (or the model its alias map gives a Bedrock id). Point
``base_url`` at ``<gateway>/bedrock`` and pass the gateway key (or an Okta access token) as ``api_key``:
the SDK sends it as ``Authorization: Bearer``, as it does with a Bedrock API key. No AWS credentials, no
signing. The environment variables ``ANTHROPIC_BEDROCK_BASE_URL`` and ``AWS_BEARER_TOKEN_BEDROCK`` do
the same for code you cannot change. These routes keep no chat history: send the whole conversation.

Shows: a message (``messages.create``), a streamed one (``messages.stream``), and a tool-use round
trip (the model asks for ``get_weather``, the sample runs it and sends the result back).

Environment (defaults fit ``make local``):
    API_ENDPOINT  gateway base URL (default http://127.0.0.1:8080; ``/bedrock`` is added when missing)
    API_KEY       gateway (LiteLLM) API key or Okta access token (default: the contents of .local/master_key)
    MODEL_ID      a model name the gateway serves, or a Bedrock id its alias map knows (default mock-gpt,
                  which answers the same text to everything and never calls a tool)
    AWS_REGION    the SDK needs a region name; the gateway ignores it (default us-east-1)

Run: ``python samples/anthropic_bedrock.py`` (needs ``pip install anthropic``).
"""

from __future__ import annotations

import os

import anthropic
from gateway_env import api_key, bedrock_endpoint, error_message, fail

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The current weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def get_weather(city: str) -> str:
    """The sample's tool: a fixed forecast (a real one would call a weather service)."""
    return f"21 C and sunny in {city}"


def print_usage(message: anthropic.types.Message) -> None:
    usage = message.usage
    print(f"stop reason: {message.stop_reason}")
    total = usage.input_tokens + usage.output_tokens
    print(f"usage: {usage.input_tokens} in + {usage.output_tokens} out = {total} tokens")
    print()


def text_of(message: anthropic.types.Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def ask(client: anthropic.AnthropicBedrock, model: str, text: str) -> None:
    """One message, answered whole (InvokeModel)."""
    message = client.messages.create(
        model=model,
        max_tokens=512,
        system="You are a concise assistant.",
        messages=[{"role": "user", "content": text}],
    )
    print(f"> {text}")
    print(f"answer: {text_of(message)}")
    print_usage(message)


def ask_streaming(client: anthropic.AnthropicBedrock, model: str, text: str) -> None:
    """One message, printed as it arrives (InvokeModelWithResponseStream)."""
    print(f"> {text}")
    print("answer: ", end="", flush=True)
    with client.messages.stream(model=model, max_tokens=512, messages=[{"role": "user", "content": text}]) as stream:
        for piece in stream.text_stream:
            print(piece, end="", flush=True)
        final = stream.get_final_message()
    print()
    print_usage(final)


def tool_round_trip(client: anthropic.AnthropicBedrock, model: str, text: str) -> None:
    """The model asks for a tool, the sample runs it and sends back the result, the model answers."""
    messages: list[dict] = [{"role": "user", "content": text}]
    print(f"> {text}")
    first = client.messages.create(model=model, max_tokens=512, tools=[WEATHER_TOOL], messages=messages)
    calls = [block for block in first.content if block.type == "tool_use"]
    if not calls:
        print(f"answer (the model called no tool): {text_of(first)}")
        print_usage(first)
        return
    results = []
    for call in calls:
        arguments = call.input if isinstance(call.input, dict) else {}
        result = get_weather(str(arguments.get("city", ""))) if call.name == "get_weather" else f"no tool {call.name}"
        print(f"tool call: {call.name}({call.input}) -> {result}")
        results.append({"type": "tool_result", "tool_use_id": call.id, "content": result})
    messages += [
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {"role": "user", "content": results},
    ]
    second = client.messages.create(model=model, max_tokens=512, tools=[WEATHER_TOOL], messages=messages)
    print(f"answer: {text_of(second)}")
    print_usage(second)


def main() -> None:
    base_url = bedrock_endpoint()
    model = os.environ.get("MODEL_ID", "mock-gpt")
    client = anthropic.AnthropicBedrock(
        base_url=base_url,
        api_key=api_key(newline=True),
        aws_region=os.environ.get("AWS_REGION", "us-east-1"),  # the SDK needs one; the gateway ignores it
        max_retries=2,
    )
    print(f"gateway: {base_url}  model: {model}\n")
    try:
        ask(client, model, "Hello, how are you?")
        ask_streaming(client, model, "Tell me a short story.")
        tool_round_trip(client, model, "What is the weather in Paris?")
    except anthropic.APIConnectionError as exc:
        fail(f"cannot reach the gateway at {base_url}: {exc}", newline=True)
    except anthropic.APIStatusError as exc:
        fail(f"HTTP {exc.status_code}: {error_message(exc)}", newline=True)
    except anthropic.APIError as exc:  # e.g. an exception frame in the middle of a stream
        fail(str(exc.message), newline=True)


if __name__ == "__main__":
    main()
