"""Schemathesis against the real local stack: every route of ``GET /gateway/openapi.json``.

For each operation, Hypothesis draws requests from the OpenAPI document — valid ones (positive
mode) and ones that break it (negative mode) — half with the master key, half with no credential
or a malformed or unknown one, and the model named in the request being either a model the stack serves or a generated
name. Each answer must be:
- never a 5xx (and no internal-error frame or event inside a 200 stream);
- an error in its route family's format: OpenAI routes ``{"error": {"message","type","code"}}``,
  Bedrock routes an ``x-amzn-errortype`` header and ``{"message"}``;
- a status code, content type and headers the document declares.

All findings of a run are collected and reported together (route, status, what is wrong, the
smallest input that showed it), so one run lists every distinct failure. Runs are derandomized
(fixed seed, no example database), and bounded: ``FUZZ_EXAMPLES`` per operation and mode.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import schemathesis
from botocore.eventstream import EventStreamBuffer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, response_headers_conformance, status_code_conformance
from schemathesis.core.failures import FailureGroup

from gateway.web.openapi import openapi_document

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = sorted(op.ok().label for op in SCHEMA.get_all_operations())
# an operation without parameters or body cannot be sent data that breaks its schema
NO_INPUT = {
    f"{method.upper()} {path}"
    for path, item in SCHEMA.raw_schema["paths"].items()
    for method, op in item.items()
    if "requestBody" not in op and "parameters" not in op
}
CASES = [
    (label, mode)
    for label in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or label not in NO_INPUT
]
CONFORMANCE = [status_code_conformance, content_type_conformance, response_headers_conformance]
# LiteLLM answers it itself (mock_response). Not the fake-upstream models: LiteLLM's OpenAI provider code
# answers 500 to some malformed content parts before any upstream call (test_fuzz_findings.py).
SERVED_MODELS = ("mock-gpt",)
_JWT_SHAPED = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"  # {"alg":"none"}.{"sub":"x"}: looks like a JWT
CREDENTIALS = {
    "master": None,  # filled in with the stack's master key
    "none": "",
    "garbage key": "Bearer sk-garbage-not-a-key",
    "jwt-shaped": f"Bearer {_JWT_SHAPED}",
    "other scheme": "Basic dXNlcjpwYXNz",
    "two tokens": "Bearer a b",
    "overlong": "Bearer sk-" + "x" * 8000,
}


@dataclass(frozen=True)
class Finding:
    operation: str
    status: int
    problem: str
    request: str


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _header(response: schemathesis.Response, name: str) -> str:
    return (response.headers.get(name) or [""])[0]


def _text(response: schemathesis.Response) -> str:
    return response.content.decode("utf-8", "replace")


def _problems(path: str, response: schemathesis.Response) -> list[str]:
    """What is wrong with an answer of the gateway (empty: nothing)."""
    status = response.status_code
    if status >= 500:
        return [f"server error {status}: {_text(response)[:200]}"]
    if status >= 400:
        return error_format_problems(path, _header(response, "x-amzn-errortype"), response.content)
    kind = _header(response, "content-type")
    if kind.startswith("text/event-stream"):
        return _sse_problems(_text(response))
    if kind.startswith("application/vnd.amazon.eventstream"):
        return _eventstream_problems(response.content)
    return []


def error_format_problems(path: str, errortype: str, content: bytes) -> list[str]:
    """What is wrong with an error answer of ``path`` (``errortype``: its x-amzn-errortype header)."""
    text = content.decode("utf-8", "replace")[:200]
    try:
        body = json.loads(content)
    except ValueError:
        return [f"error body is not JSON: {text!r}"]
    if path.startswith("/bedrock/"):
        problems = [] if errortype else ["Bedrock error without x-amzn-errortype"]
        if not (isinstance(body, dict) and isinstance(body.get("message"), str)):
            problems.append(f"Bedrock error body is not {{'message': str}}: {text}")
        return problems
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and isinstance(error.get("message"), str) and {"type", "code"} <= error.keys()):
        return [f"OpenAI error body is not {{'error': {{message, type, code}}}}: {text}"]
    return []


def _sse_problems(text: str) -> list[str]:
    for line in text.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        try:
            event = json.loads(line[6:])
        except ValueError:
            return [f"stream event is not JSON: {line[:200]}"]
        error = event.get("error") if isinstance(event, dict) else None
        if isinstance(error, dict) and error.get("code") == "internal_error":
            return [f"internal error inside the stream: {line[:200]}"]
    return []


def _eventstream_problems(data: bytes) -> list[str]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    try:
        frames = list(buffer)
    except Exception as exc:  # any decoding failure of botocore's own parser is a finding
        return [f"event stream does not decode: {exc!r}"]
    for frame in frames:
        if frame.headers.get(":exception-type") == "internalServerException":
            return [f"internal error frame inside the stream: {frame.payload[:200]!r}"]
    return []


def _describe(case: schemathesis.Case, credential: str) -> str:
    body = json.dumps(case.body, ensure_ascii=True, default=str) if case.body is not None else "-"
    return f"{case.method} {case.formatted_path} credential={credential} body={body[:400]}"


def _override_model(case: schemathesis.Case, model: str | None) -> None:
    """Point some requests at models the stack really serves, so they reach the translators."""
    if model is None:
        return
    if "modelId" in (case.path_parameters or {}):
        case.path_parameters["modelId"] = model
    elif case.operation.path.endswith("/chat/completions") and isinstance(case.body, dict):
        case.body["model"] = model


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
def test_fuzz_operation(label, mode, gateway_url, master_key, http):
    operation = SCHEMA.find_operation_by_label(label)
    keys = CREDENTIALS | {"master": f"Bearer {master_key}"}
    seen: dict[tuple[int, str], Finding] = {}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        credential=st.just("master") | st.sampled_from(sorted(set(CREDENTIALS) - {"master"})),  # half: master
        model=st.sampled_from((None, *SERVED_MODELS)),
    )
    def run(case: schemathesis.Case, credential: str, model: str | None) -> None:
        _override_model(case, model)
        headers = {"Authorization": keys[credential]} if keys[credential] else {}
        response = case.call(base_url=gateway_url, session=http, headers=headers, timeout=60)
        problems = _problems(operation.path, response)
        try:
            case.validate_response(response, checks=CONFORMANCE, headers=headers)
        except FailureGroup as group:  # undocumented status, content type or missing header
            problems += [f"does not match the document: {type(e).__name__}: {e}"[:300] for e in group.exceptions]
        for problem in problems:
            key = (response.status_code, ":".join(problem.split(":")[:2]))
            found = Finding(label, response.status_code, problem, _describe(case, credential))
            if key not in seen or len(found.request) < len(seen[key].request):
                seen[key] = found  # keep the smallest input per distinct failure

    run()
    assert not seen, "\n".join(f"{f.operation} → {f.status}: {f.problem}\n    {f.request}" for f in seen.values())
