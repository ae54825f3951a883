"""AWS event-stream encoder (``application/vnd.amazon.eventstream``), the ConverseStream wire format.

Frame: prelude (total length u32 BE, headers length u32 BE, CRC32 of those 8 bytes), headers,
payload, CRC32 of everything before it. A header is (name length u8, name, type 7 = string,
value length u16 BE, value). The constant headers are pre-encoded once per event type.

Exception frames name a member of ``ConverseStreamOutput`` (``throttlingException``...), which is
what botocore matches to raise ``EventStreamError`` with that code, so names are given or turned
into lowerCamel form.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from zlib import crc32

from gateway.errors import ErrorKind, GatewayError
from gateway.jsonbytes import json_bytes

CONTENT_TYPE = "application/vnd.amazon.eventstream"

_PRELUDE = struct.Struct(">II").pack
_U32 = struct.Struct(">I").pack
_U16 = struct.Struct(">H").pack


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return bytes((len(raw_name),)) + raw_name + b"\x07" + _U16(len(raw_value)) + raw_value


_JSON_EVENT = _header(":content-type", "application/json") + _header(":message-type", "event")
_JSON_EXCEPTION = _header(":content-type", "application/json") + _header(":message-type", "exception")
_EVENT_HEADERS: dict[str, bytes] = {}

# Mid-stream errors map onto the exception members ConverseStreamOutput models; others are model errors.
_STREAM_EXCEPTIONS = {
    ErrorKind.VALIDATION: "validationException",
    ErrorKind.RATE_LIMITED: "throttlingException",
    ErrorKind.UNAVAILABLE: "serviceUnavailableException",
    ErrorKind.INTERNAL: "internalServerException",
}


def _frame(headers: bytes, payload: bytes) -> bytes:
    prelude = _PRELUDE(16 + len(headers) + len(payload), len(headers))
    prelude += _U32(crc32(prelude))
    return b"".join((prelude, headers, payload, _U32(crc32(payload, crc32(headers, crc32(prelude))))))


def encode_event(event_type: str, payload: dict | bytes) -> bytes:
    """One event frame; a dict payload is sent as compact UTF-8 JSON."""
    headers = _EVENT_HEADERS.get(event_type)
    if headers is None:
        headers = _EVENT_HEADERS[event_type] = _header(":event-type", event_type) + _JSON_EVENT
    body = payload if isinstance(payload, bytes) else json_bytes(payload)
    return _frame(headers, body)


def encode_events(events: Iterable[tuple[str, dict]]) -> bytes:
    """Several event frames back to back (what the stream translator returns per chunk)."""
    return b"".join([encode_event(name, payload) for name, payload in events])


def encode_exception(error_name: str, message: str, **fields: object) -> bytes:
    """An exception frame; ``ThrottlingException`` and ``throttlingException`` both work."""
    name = error_name[:1].lower() + error_name[1:]
    headers = _header(":exception-type", name) + _JSON_EXCEPTION
    return _frame(headers, json_bytes({"message": message, **fields}))


def encode_gateway_error(error: GatewayError) -> bytes:
    """The exception frame for a failure after the stream has started.

    Only ``modelStreamErrorException`` models ``originalStatusCode`` / ``originalMessage``; they are
    sent when the upstream reported them.
    """
    name = _STREAM_EXCEPTIONS.get(error.kind, "modelStreamErrorException")
    if name == "modelStreamErrorException" and error.original is not None:
        status, message = error.original
        return encode_exception(name, error.message, originalStatusCode=status, originalMessage=message)
    return encode_exception(name, error.message)
