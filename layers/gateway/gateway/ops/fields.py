"""Checking an event's fields: unknown fields are refused, never silently dropped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.ops.context import OpsError


def only(event: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """The event without ``task``; ``OpsError`` naming any field the task does not know."""
    allowed = set(allowed)
    params = {k: v for k, v in event.items() if k != "task"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise OpsError(f"unknown field(s) {', '.join(unknown)}; this task accepts {', '.join(sorted(allowed))}")
    return params


def text(params: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise OpsError(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise OpsError(f"{name} must be a string")
    return value


def exactly_one(params: Mapping[str, Any], *names: str) -> tuple[str, str]:
    """(name, value) of the one of ``names`` the event sets."""
    given = [(n, text(params, n, required=False)) for n in names]
    present = [(n, v) for n, v in given if v]
    if len(present) != 1:
        raise OpsError(f"give exactly one of {', '.join(names)}")
    return present[0]  # type: ignore[return-value]
