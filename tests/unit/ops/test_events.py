"""The shipped events and the refusals that need no running service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gateway.history.config import HistoryConfig
from gateway.ops.context import OpsContext, redact
from gateway.ops.dispatch import TASKS, run
from gateway.ops.platform import local_platform
from gateway.upstream import LiteLLMClient

EVENTS = sorted((Path(__file__).resolve().parents[3] / "functions" / "ops" / "events").glob("*.json"))
UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens


@pytest.fixture
def ctx(tmp_path, monkeypatch) -> OpsContext:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", UNREACHABLE)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    (tmp_path / "master_key").write_text("sk-local-current\n")
    return OpsContext(
        platform=local_platform(tmp_path, {}),
        litellm=LiteLLMClient(UNREACHABLE, connect_timeout=1.0, read_timeout=1.0),
        history_config=HistoryConfig(max_attempts=1, connect_timeout_seconds=1.0, read_timeout_seconds=1.0),
    )


def test_every_task_has_a_shipped_event() -> None:
    assert {json.loads(p.read_text())["task"] for p in EVENTS} == set(TASKS)


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
def test_shipped_events_pass_field_checks(path: Path, ctx: OpsContext) -> None:
    result = asyncio.run(run(ctx, json.loads(path.read_text())))
    assert "unknown field" not in result.get("error", ""), result
    assert "required" not in result.get("error", ""), result


def test_a_failed_rotation_leaves_the_master_key_in_place(ctx: OpsContext, tmp_path: Path) -> None:
    result = asyncio.run(run(ctx, {"task": "rotate_master_key"}))
    assert not result["ok"] and "unreachable" in result["error"]
    assert (tmp_path / "master_key").read_text().strip() == "sk-local-current"


@pytest.mark.parametrize("event", [None, [], {"task": 3}, {"task": "nope"}])
def test_events_without_a_known_task_are_refused(event, ctx: OpsContext) -> None:
    result = asyncio.run(run(ctx, event))
    assert result["ok"] is False and "task must be one of" in result["error"]


def test_keys_in_upstream_messages_are_redacted() -> None:
    assert redact("Key sk-abc123XYZ_-9 not found") == "Key sk-… not found"
