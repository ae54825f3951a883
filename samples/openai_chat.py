"""The OpenAI SDK through the gateway: a synchronous answer, then a streamed one in the same session.

Any OpenAI-compatible client works: set ``base_url`` to ``<gateway>/v1`` and ``api_key`` to your
gateway API key. The gateway adds one field of its own: ``session_id``. A synchronous answer carries
it at the top level (``reply.model_extra["session_id"]``), a stream on its first chunk; send it back
with ``extra_body={"session_id": ...}`` and the gateway prepends the stored conversation.

Environment (defaults fit ``make local``):
    API_ENDPOINT  gateway base URL (default http://127.0.0.1:8080)
    API_KEY       gateway (LiteLLM) API key (default: the contents of .local/master_key)
    MODEL_ID      a model name the gateway serves (default mock-gpt)

Run: ``python samples/openai_chat.py`` (needs ``pip install openai``).
"""

from __future__ import annotations

import os

import openai
from gateway_env import api_key, error_message, fail, gateway_url


def ask(client: openai.OpenAI, model: str, text: str) -> str | None:
    """A synchronous completion; returns the new session's id."""
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    session_id = (reply.model_extra or {}).get("session_id")
    print(f"> {text}")
    print(f"answer: {reply.choices[0].message.content}")
    print(f"finish reason: {reply.choices[0].finish_reason}")
    if reply.usage:
        usage = reply.usage
        print(f"usage: {usage.prompt_tokens} in + {usage.completion_tokens} out = {usage.total_tokens} tokens")
    print(f"session id: {session_id}")
    print()
    return session_id


def ask_streaming(client: openai.OpenAI, model: str, text: str, session_id: str | None) -> str | None:
    """A streamed completion that continues ``session_id``; prints the text as it arrives."""
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": text}],
        stream=True,
        stream_options={"include_usage": True},  # the last chunk then carries the usage
        extra_body={"session_id": session_id} if session_id else None,
    )
    print(f"> {text}")
    print("answer: ", end="", flush=True)
    streamed_session, usage, finish = None, None, None
    for chunk in stream:
        streamed_session = streamed_session or (chunk.model_extra or {}).get("session_id")
        if chunk.choices:
            choice = chunk.choices[0]
            print(choice.delta.content or "", end="", flush=True)
            finish = choice.finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    print(f"\nfinish reason: {finish}")
    if usage:
        print(f"usage: {usage.prompt_tokens} in + {usage.completion_tokens} out = {usage.total_tokens} tokens")
    print(f"session id: {streamed_session}")
    print()
    return streamed_session


def main() -> None:
    base_url = f"{gateway_url()}/v1"
    model = os.environ.get("MODEL_ID", "mock-gpt")
    client = openai.OpenAI(base_url=base_url, api_key=api_key(newline=True), max_retries=2)
    print(f"gateway: {base_url}  model: {model}\n")
    try:
        session_id = ask(client, model, "Hello, how are you?")
        ask_streaming(client, model, "What did I last say to you?", session_id)
    except openai.APIConnectionError as exc:
        fail(f"cannot reach the gateway at {base_url}: {exc}", newline=True)
    except openai.APIStatusError as exc:
        fail(f"HTTP {exc.status_code}: {error_message(exc)}", newline=True)
    except openai.APIError as exc:  # e.g. an error event in the middle of a stream
        fail(str(exc.message), newline=True)


if __name__ == "__main__":
    main()
