"""The event-stream encoder against botocore's own decoder, for arbitrary event names and payloads."""

from __future__ import annotations

import json

from botocore.eventstream import EventStreamBuffer
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.converse.eventstream import encode_event, encode_events, encode_exception
from tests.unit.properties.settings import PROPERTIES

# any code point, lone surrogates included (model output may carry them as JSON escapes)
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=200)
NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=60)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _decode(data: bytes) -> list:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


@PROPERTIES
@given(name=NAMES, payload=st.binary(max_size=2048))
def test_byte_payloads_and_event_names_survive_botocore(name: str, payload: bytes) -> None:
    (frame,) = _decode(encode_event(name, payload))

    assert frame.payload == payload
    assert frame.headers == {":event-type": name, ":content-type": "application/json", ":message-type": "event"}


@settings(PROPERTIES, max_examples=100)
@given(payload=st.dictionaries(ANY_TEXT, JSON, max_size=6))
@example(payload={"delta": {"text": "\ud800"}})  # regression: a lone surrogate raised UnicodeEncodeError mid-stream
def test_json_payloads_decode_to_the_same_value(payload: dict) -> None:
    (frame,) = _decode(encode_event("contentBlockDelta", payload))

    assert json.loads(frame.payload.decode("utf-8")) == payload


@settings(PROPERTIES, max_examples=50)
@given(events=st.lists(st.tuples(NAMES, st.dictionaries(ANY_TEXT, JSON, max_size=3)), max_size=8))
def test_frames_back_to_back_split_exactly(events: list) -> None:
    frames = _decode(encode_events(events))

    assert [(f.headers[":event-type"], json.loads(f.payload)) for f in frames] == events


@PROPERTIES
@given(name=st.text(st.characters(codec="ascii", categories=["Lu", "Ll"]), min_size=1, max_size=40), message=ANY_TEXT)
@example(name="ModelStreamErrorException", message="\udfff")  # regression: as above, in an exception frame
def test_exception_frames_name_a_lower_camel_member_and_carry_the_message(name: str, message: str) -> None:
    (frame,) = _decode(encode_exception(name, message))

    assert frame.headers[":message-type"] == "exception"
    assert frame.headers[":exception-type"] == name[0].lower() + name[1:]
    assert json.loads(frame.payload) == {"message": message}
