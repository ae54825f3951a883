"""Converse → OpenAI → Converse keeps every supported field of messages and system prompts.

The request translation (``converse/translate.py``) and the history view (``converse/messages.py``)
are inverses on what the gateway supports. Conversions that are lossy by design are left out of
the generated requests and listed here, so that a new loss shows up as a failure:
- ``guardContent`` is sent as plain text/image; ``document`` text/content sources become bytes;
- tool results: ``status`` is not parsed back ("Error: " text), several text-only blocks travel as
  one text joined by newlines, ``json`` blocks travel as text;
- ``cachePoint`` survives only after a user text/image/document block (OpenAI's ``cache_control``
  lives on a part; assistant and system parts lose it on the way back);
- ``redactedContent`` bytes that are not UTF-8 come back base64-encoded twice (LiteLLM's
  ``redacted_thinking.data`` is a string; providers send opaque ASCII there, so this is not hit);
- empty strings are dropped (Bedrock refuses blank text blocks anyway);
- order inside a turn is canonical: tool results first in user turns; reasoning, text, tool calls
  in assistant turns.
"""

from __future__ import annotations

import base64
import string

from hypothesis import given
from hypothesis import strategies as st

from gateway.chat.message_shape import check_messages
from gateway.converse.messages import DOCUMENT_MIME, IMAGE_MIME, openai_messages_to_converse
from gateway.converse.translate import converse_request_to_openai
from tests.unit.properties.settings import PROPERTIES

TEXT = st.text(st.characters(codec=None, categories=None), min_size=1, max_size=40)  # lone surrogates too
ID = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=20)
B64 = st.binary(min_size=1, max_size=64).map(lambda b: base64.b64encode(b).decode("ascii"))
# Bedrock's document names: alphanumerics, single spaces, hyphens, parentheses, square brackets
DOC_NAME = st.from_regex(r"[A-Za-z0-9\-()\[\]]+( [A-Za-z0-9\-()\[\]]+)*", fullmatch=True).filter(lambda s: len(s) < 60)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)

text_block = TEXT.map(lambda t: {"text": t})
image_block = st.builds(
    lambda f, b: {"image": {"format": f, "source": {"bytes": b}}}, st.sampled_from(sorted(IMAGE_MIME)), B64
)
document_block = st.builds(
    lambda f, n, b: {"document": {"format": f, "name": n, "source": {"bytes": b}}},
    st.sampled_from(sorted(DOCUMENT_MIME)),
    DOC_NAME,
    B64,
)
cache_point = st.sampled_from([{"type": "default"}, {"type": "default", "ttl": "5m"}, {"type": "default", "ttl": "1h"}])
media = image_block | document_block


@st.composite
def user_parts(draw) -> list[dict]:
    blocks = []
    for part in draw(st.lists(text_block | media, min_size=1, max_size=4)):
        blocks.append(part)
        if draw(st.booleans()):
            blocks.append({"cachePoint": draw(cache_point)})
    return blocks


tool_result_content = st.one_of(
    text_block.map(lambda b: [b]),
    st.lists(text_block | media, min_size=1, max_size=3).filter(lambda bs: any("text" not in b for b in bs)),
)
tool_result = st.builds(lambda i, c: {"toolResult": {"toolUseId": i, "content": c}}, ID, tool_result_content)


@st.composite
def user_message(draw) -> dict:
    results = draw(st.lists(tool_result, max_size=2))
    parts = draw(user_parts()) if not results or draw(st.booleans()) else []
    return {"role": "user", "content": results + parts}


reasoning_text = st.builds(
    lambda t, s: {"reasoningContent": {"reasoningText": {"text": t} | ({"signature": s} if s else {})}},
    TEXT,
    st.none() | TEXT,
)
# the bytes of a redacted block are the provider's opaque text (UTF-8): see the module docstring
redacted = st.text(st.characters(codec="utf-8"), min_size=1, max_size=32).map(
    lambda t: {"reasoningContent": {"redactedContent": base64.b64encode(t.encode()).decode("ascii")}}
)
tool_use = st.builds(lambda i, n, x: {"toolUse": {"toolUseId": i, "name": n, "input": x}}, ID, ID, JSON)


@st.composite
def assistant_message(draw) -> dict:
    content = draw(st.lists(reasoning_text | redacted, max_size=2))
    content += draw(st.lists(text_block, max_size=2))
    content += draw(st.lists(tool_use, max_size=2))
    if not content:
        content = [draw(text_block)]
    return {"role": "assistant", "content": content}


@st.composite
def conversation(draw) -> list[dict]:
    turns = draw(st.integers(min_value=1, max_value=5))
    return [draw(user_message() if k % 2 == 0 else assistant_message()) for k in range(turns)]


@PROPERTIES
@given(messages=conversation(), system=st.lists(text_block, max_size=3))
def test_converse_messages_survive_openai_and_back(messages: list[dict], system: list[dict]) -> None:
    body = {"messages": messages} | ({"system": system} if system else {})
    openai = converse_request_to_openai("some-model", body).openai_body["messages"]
    check_messages(openai)  # what the translation sends LiteLLM is well-formed OpenAI

    back_system, back_messages = openai_messages_to_converse(openai)

    assert back_system == system
    assert back_messages == messages
