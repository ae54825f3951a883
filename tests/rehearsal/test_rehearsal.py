"""The rehearsal's checks, one test each: the issue's points 1-4 (docs/rehearsal.md says what each proves)."""

from __future__ import annotations

from typing import Any

import pytest

CHECKS = [
    "synth",
    # 1. the LiteLLM task against PostgreSQL (TLS) and Redis (TLS + AUTH)
    "rds.tls_required",
    "litellm.healthy",
    "litellm.database_over_tls",
    "litellm.key_chat",
    "litellm.redis_cache",
    "litellm.second_task_no_migrations",
    "litellm.second_task_healthy",
    "litellm.second_task_shares_state",
    # 3. the authorizer function
    "authorizer.allows_a_good_key",
    "authorizer.denies_a_bad_key",
    "authorizer.litellm_unreachable",
    # 2. the middleware function behind the Web Adapter
    "api.readiness",
    "api.chat_with_authorizer_context",
    "api.context_bound_to_the_credential",
    # the ops function's health task (its console test event) against the rehearsed stack
    "ops.health",
    # 4. every variable is read, every required one set
    "variables.litellm",
    "variables.api",
    "variables.authorizer",
    "variables.ops",
]


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes(rehearsal: dict[str, Any], name: str) -> None:
    found = {c["name"]: c for c in rehearsal["checks"]}
    assert "rehearsal" not in found, f"the rehearsal stopped: {found.get('rehearsal', {}).get('detail')}"
    assert name in found, f"{name} did not run:\n{rehearsal['output'][-3000:]}"
    assert found[name]["ok"], f"{name}: {found[name]['detail']}"


def test_nothing_else_failed(rehearsal: dict[str, Any]) -> None:
    failed = [f"{c['name']}: {c['detail']}" for c in rehearsal["checks"] if not c["ok"]]
    assert not failed, "\n".join(failed)
