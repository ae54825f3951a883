"""Request bodies: anything that is not plain JSON a model could receive is a 400, never a 500."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.jsonbytes import json_bytes
from gateway.web.requests import MAX_JSON_DEPTH, parse_json_object


def nested(depth: int) -> bytes:
    return b'{"model": "m", "x": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 5_000, 200_000])
def test_too_deep_bodies_are_validation_errors(depth: int) -> None:
    with pytest.raises(GatewayError) as err:
        parse_json_object(nested(depth))
    assert err.value.kind is ErrorKind.VALIDATION and "nested too deeply" in err.value.message


def test_a_deep_but_allowed_body_parses() -> None:
    assert parse_json_object(nested(MAX_JSON_DEPTH - 2))["model"] == "m"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"messages": [{"role": "user", "content": "\\ud800"}]}',
        b'{"messages": [{"role": "user", "content": "ok \\udfff end"}]}',
        b'{"\\ud83d": 1}',
        '{"content": "\udcff"}'.encode("utf-8", "surrogatepass"),  # raw surrogate bytes, not an escape
    ],
    ids=["escape", "low-half", "in-a-key", "raw-bytes"],
)
def test_lone_surrogates_are_validation_errors(raw: bytes) -> None:
    with pytest.raises(GatewayError) as err:
        parse_json_object(raw)
    assert err.value.kind is ErrorKind.VALIDATION and "not valid Unicode" in err.value.message


def test_paired_surrogate_escapes_are_a_valid_emoji() -> None:
    body = parse_json_object(b'{"content": "\\ud83d\\ude00"}')
    assert body["content"] == "😀" and json.dumps(body, ensure_ascii=False).encode()


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_number_constants_are_validation_errors(constant: bytes) -> None:
    with pytest.raises(GatewayError) as err:
        parse_json_object(b'{"temperature": ' + constant + b"}")
    assert err.value.kind is ErrorKind.VALIDATION and "not valid JSON" in err.value.message


def test_json_bytes_escapes_a_lone_surrogate_instead_of_failing() -> None:
    message = {"role": "assistant", "content": "broken \ud800 emoji 😀"}
    encoded = json_bytes(message)
    assert json.loads(encoded) == message
    assert json_bytes({"content": "naïve 😀"}) == '{"content":"naïve 😀"}'.encode()
