"""Per-route EMF latency metrics from the access-log middleware.

A tiny Starlette app stands in for the gateway routes (the metric depends only on the path and on the
response's content type); the EMF lines are the real Powertools output captured from stdout.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.web import access_log
from gateway.web.access_log import AccessLogMiddleware
from gateway.web.metrics import ALL_FAMILIES, RouteMetrics, emf_enabled, route_family


async def _chat(request: Request) -> Response:
    body = await request.json()
    if not body.get("stream"):
        return JSONResponse({"choices": [{"message": {"content": "hi"}}]})

    async def events() -> AsyncIterator[bytes]:
        yield b'data: {"choices":[{"delta":{"content":"h"}}]}\n\n'
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def _health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _client(enabled: bool) -> TestClient:
    app = Starlette(routes=[Route("/v1/chat/completions", _chat, methods=["POST"]), Route("/gateway/health", _health)])
    return TestClient(AccessLogMiddleware(app, metrics=RouteMetrics(enabled=enabled)))


def _emf_records(out: str) -> list[dict]:
    records = []
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            records.append(record)
    return records


def _metric_names(record: dict) -> list[str]:
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    return [m["Name"] for m in directive["Metrics"]]


class _Clock:
    """A perf_counter that advances one second per reading: start, first body bytes, end."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now


def test_a_stream_reports_time_to_first_byte(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_log, "time", _Clock())
    with _client(enabled=True) as client:
        response = client.post("/v1/chat/completions", json={"stream": True})
    assert response.status_code == 200 and "[DONE]" in response.text
    (record,) = _emf_records(capsys.readouterr().out)
    assert _metric_names(record) == ["TimeToFirstByte"]
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "GenAIGateway"
    assert directive["Metrics"][0]["Unit"] == "Milliseconds"
    assert sorted(directive["Dimensions"][0]) == ["route", "service"]
    assert record["route"] == "chat" and record["service"] == "genai-gateway"
    assert record["TimeToFirstByte"] == [1000.0]  # the first chunk, not the end of the stream


def test_a_synchronous_call_reports_total_latency(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_log, "time", _Clock())
    with _client(enabled=True) as client:
        response = client.post("/v1/chat/completions", json={"stream": False})
    assert response.status_code == 200
    (record,) = _emf_records(capsys.readouterr().out)
    assert _metric_names(record) == ["Latency"]
    assert record["route"] == "chat" and record["Latency"] == [2000.0]  # start .. last byte


def test_the_readiness_probe_is_not_measured(capsys: pytest.CaptureFixture[str]) -> None:
    with _client(enabled=True) as client:
        assert client.get("/gateway/health").status_code == 200
    assert _emf_records(capsys.readouterr().out) == []


def test_nothing_is_written_when_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    """``make local`` keeps a readable console: no EMF JSON outside Lambda."""
    with _client(enabled=False) as client:
        client.post("/v1/chat/completions", json={"stream": True})
        client.post("/v1/chat/completions", json={"stream": False})
    assert _emf_records(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),  # make local
        ({"AWS_LAMBDA_FUNCTION_NAME": "api"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "api", "GATEWAY_EMF_METRICS": "false"}, False),
        ({"GATEWAY_EMF_METRICS": "true"}, True),
    ],
)
def test_emf_only_in_lambda_unless_asked(environ: dict[str, str], expected: bool) -> None:
    assert emf_enabled(environ) is expected


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/v1/chat/completions", "chat"),
        ("/chat/completions", "chat"),
        ("/bedrock/model/anthropic.claude-3/converse", "converse"),
        ("/bedrock/model/arn:aws:bedrock:us-east-1:1:prompt/P/converse-stream", "converse"),
        ("/bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke", "invoke"),
        ("/bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke-with-response-stream", "invoke"),
        ("/bedrock/model/mock-gpt/count-tokens", "bedrock-control"),
        ("/bedrock/inference-profiles", "bedrock-control"),
        ("/bedrock/foundation-models/anthropic.claude-3", "bedrock-control"),
        ("/bedrock/model/mock-gpt/unknown", "litellm"),
        ("/v1/embeddings", "embeddings"),
        ("/v1/responses", "responses"),
        ("/v1/conversations/conv_1/items", "history"),
        ("/session-ids", "history"),
        ("/key/generate", "account"),
        ("/key/list", "litellm"),
        ("/ui/login", "litellm"),
        ("/v1/chat/completions-evil", "litellm"),
        ("/gateway/health", None),
    ],
)
def test_route_families_are_a_small_fixed_set(path: str, family: str | None) -> None:
    assert route_family(path) == family
    assert family is None or family in ALL_FAMILIES
