"""The ops events against the real local stack, through ``make ops``'s entry point (``gateway.ops.local``).

Real LiteLLM, Postgres, DynamoDB emulator and middleware; locally the platform is the local one (the
master key in a file, no ECS), so nothing here mocks anything. The AWS platform (Secrets Manager,
ECS, Lambda) is covered with mocks in tests/unit/ops.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.processes import free_port
from devstack.stack import REPO_ROOT, LocalStack, StackOptions, persistent_master_key
from tests.integration.conftest import TEST_CONFIG, new_user_key


def ops(stack: LocalStack, event: dict, tmp_path: Path) -> dict:
    """``make ops EVENT=<file>`` against ``stack``: the JSON summary it prints."""
    path = tmp_path / f"{event['task']}-{secrets.token_hex(3)}.json"
    path.write_text(json.dumps(event))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "layers" / "gateway"), os.environ.get("PYTHONPATH", "")]),
        "GATEWAY_LOCAL_DIR": str(stack.options.work_dir),
        "LITELLM_PORT": str(stack.options.litellm_port),
    }
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)  # found in the stack's dynamodb_url file, as with make local
    done = subprocess.run(
        [sys.executable, "-m", "gateway.ops.local", str(path)], env=env, capture_output=True, text=True, timeout=300
    )
    result = json.loads(done.stdout)
    assert done.returncode == (0 if result["ok"] else 1), done.stderr
    return result


def chat(gateway_url: str, key: str, model: str = "fake", **extra: object) -> httpx.Response:
    return httpx.post(
        f"{gateway_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "messages": [{"role": "user", "content": "hello"}], **extra},
        timeout=60,
    )


@pytest.fixture(scope="module")
def local(stack: LocalStack) -> LocalStack:
    """The shared stack, with its master key where `make local` keeps it."""
    (stack.options.work_dir / "master_key").write_text(stack.options.master_key + "\n")
    return stack


def test_create_user_then_its_key_works(local: LocalStack, tmp_path: Path) -> None:
    user_id = f"ops-user-{secrets.token_hex(4)}@example.com"
    event = {"task": "create_user", "user_id": user_id, "max_budget": 5, "budget_duration": "30d",
             "rpm_limit": 30, "tpm_limit": 10000, "models": ["fake"]}  # fmt: skip
    result = ops(local, event, tmp_path)
    assert result["ok"] and result["user_id"] == user_id
    assert (result["max_budget"], result["models"], result["rpm_limit"]) == (5, ["fake"], 30)
    assert chat(local.gateway_url, result["key"]).status_code == 200
    denied = chat(local.gateway_url, result["key"], model="mock-gpt")  # outside its model list
    assert denied.status_code in (401, 403), denied.text


def test_issue_key_then_revoke_it(local: LocalStack, master_key: str, tmp_path: Path) -> None:
    user_id, _ = new_user_key(local.gateway_url, master_key, "ops-keys")
    issued = ops(local, {"task": "issue_key", "user_id": user_id, "key_alias": f"app-{user_id}"}, tmp_path)
    assert issued["ok"] and issued["key"].startswith("sk-")
    assert chat(local.gateway_url, issued["key"]).status_code == 200
    revoked = ops(local, {"task": "revoke_key", "key_id": issued["key_id"]}, tmp_path)
    assert revoked["ok"] and revoked["revoked"] == 1
    assert issued["key"] not in json.dumps(revoked)
    assert chat(local.gateway_url, issued["key"]).status_code == 401
    again = ops(local, {"task": "revoke_key", "key_id": issued["key_id"]}, tmp_path)
    assert not again["ok"]


def test_spend_of_a_user_and_of_a_key(local: LocalStack, master_key: str, tmp_path: Path) -> None:
    user_id, key = new_user_key(local.gateway_url, master_key, "ops-spend")
    by_user = ops(local, {"task": "spend", "user_id": user_id}, tmp_path)
    assert by_user["ok"] and by_user["user_id"] == user_id and len(by_user["keys"]) == 1
    key_id = by_user["keys"][0]["key_id"]
    by_key = ops(local, {"task": "spend", "key_id": key_id}, tmp_path)
    assert by_key["ok"] and by_key["user_id"] == user_id and by_key["spend"] >= 0
    assert key not in json.dumps([by_user, by_key])


def test_purge_history_of_a_user_then_the_history_is_gone(local: LocalStack, master_key: str, tmp_path: Path) -> None:
    user_id, key = new_user_key(local.gateway_url, master_key, "ops-history")
    first = chat(local.gateway_url, key).json()["session_id"]
    chat(local.gateway_url, key, session_id=first)
    second = chat(local.gateway_url, key).json()["session_id"]
    other_user, other_key = new_user_key(local.gateway_url, master_key, "ops-bystander")
    kept = chat(local.gateway_url, other_key).json()["session_id"]

    exported = ops(local, {"task": "export_history", "user_id": user_id}, tmp_path)
    assert exported["ok"] and {s["session_id"] for s in exported["sessions"]} == {first, second}
    assert exported["messages"] == 6 and exported["sessions"][-1]["messages"][0]["content"] == "hello"

    purged = ops(local, {"task": "purge_history", "user_id": user_id}, tmp_path)
    assert purged["ok"] and set(purged["sessions_purged"]) == {first, second} and purged["items_deleted"] == 8

    for session_id in (first, second):
        gone = httpx.post(f"{local.gateway_url}/chat-history", headers={"Authorization": f"Bearer {key}"},
                          json={"session_id": session_id})  # fmt: skip
        assert gone.status_code == 404
    after = ops(local, {"task": "export_history", "user_id": user_id}, tmp_path)
    assert after["ok"] and after["sessions"] == []
    still = httpx.post(f"{local.gateway_url}/chat-history", headers={"Authorization": f"Bearer {other_key}"},
                       json={"session_id": kept})  # fmt: skip
    assert still.status_code == 200 and other_user


def test_purge_history_of_one_session(local: LocalStack, master_key: str, tmp_path: Path) -> None:
    user_id, key = new_user_key(local.gateway_url, master_key, "ops-session")
    doomed = chat(local.gateway_url, key).json()["session_id"]
    kept = chat(local.gateway_url, key).json()["session_id"]
    assert ops(local, {"task": "purge_history", "session_id": doomed}, tmp_path)["sessions_purged"] == [doomed]
    exported = ops(local, {"task": "export_history", "user_id": user_id}, tmp_path)
    assert [s["session_id"] for s in exported["sessions"]] == [kept]


def test_health_checks_litellm_dynamodb_and_a_completion(local: LocalStack, tmp_path: Path) -> None:
    result = ops(local, {"task": "health", "model": "fake"}, tmp_path)
    assert result["ok"] and result["healthy"], result
    checks = result["checks"]
    assert checks["litellm_readiness"]["database"] == "connected"
    assert checks["completion"]["tokens"] and checks["dynamodb"]["ok"]
    broken = ops(local, {"task": "health", "model": "no-such-model"}, tmp_path)
    assert broken["ok"] and not broken["healthy"] and not broken["checks"]["completion"]["ok"]


def test_bad_events_are_refused_with_a_reason(local: LocalStack, tmp_path: Path) -> None:
    unknown = ops(local, {"task": "create_user", "user_id": "x@example.com", "max_budgte": 5}, tmp_path)
    assert not unknown["ok"] and "max_budgte" in unknown["error"]
    both = ops(local, {"task": "purge_history", "user_id": "a", "session_id": "b"}, tmp_path)
    assert not both["ok"] and "exactly one" in both["error"]
    assert not ops(local, {"task": "drop_tables"}, tmp_path)["ok"]


# -- master-key rotation: a stack of its own (the rotation would break the shared one's master key) ----


def _start(work_dir: Path, fake_upstream: str) -> LocalStack:
    options = StackOptions(
        gateway_port=free_port(),
        litellm_port=free_port(),
        litellm_config=TEST_CONFIG,
        work_dir=work_dir,
        master_key=persistent_master_key(work_dir),  # what `make local` does
        durable_postgres=True,
        extra_env={
            "FAKE_UPSTREAM_URL": fake_upstream,
            "FAKE_ANTHROPIC_URL": fake_upstream.removesuffix("/v1") + "/anthropic",
            "STORE_MODEL_IN_DB": "True",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        },
    )
    local = LocalStack(options, log=lambda *_: None)
    local.start()
    return local


@pytest.fixture
def own_stack(tmp_path_factory, fake_upstream: str) -> Iterator[tuple[Path, str]]:
    work_dir = tmp_path_factory.mktemp("rotation")
    yield work_dir, fake_upstream


def test_rotate_master_key_then_old_key_refused_new_key_works_user_keys_and_credentials_kept(
    own_stack: tuple[Path, str], tmp_path: Path
) -> None:
    work_dir, fake_upstream = own_stack
    local = _start(work_dir, fake_upstream)
    try:
        old_key = local.options.master_key
        _, user_key = new_user_key(local.gateway_url, old_key, "rotation")
        # a model with its provider credential stored (encrypted) in LiteLLM's database
        added = httpx.post(
            f"{local.litellm_url}/model/new",
            headers={"Authorization": f"Bearer {old_key}"},
            json={
                "model_name": "db-model",
                "litellm_params": {"model": "openai/fake", "api_base": fake_upstream, "api_key": "provider-secret"},
            },
            timeout=30,
        )
        assert added.status_code == 200, added.text
        assert chat(local.gateway_url, user_key, model="db-model").status_code == 200

        result = ops(local, {"task": "rotate_master_key"}, tmp_path)
        assert result["ok"] and result["stored_credentials_reencrypted"] and result["restart_required"]
        new_key = (work_dir / "master_key").read_text().strip()
        assert new_key != old_key and new_key not in json.dumps(result)
    finally:
        local.stop()

    local = _start(work_dir, fake_upstream)  # the operator restarts `make local`
    try:
        assert local.options.master_key == new_key
        models = f"{local.gateway_url}/v1/models"
        assert httpx.get(models, headers={"Authorization": f"Bearer {old_key}"}).status_code == 401
        assert httpx.get(models, headers={"Authorization": f"Bearer {new_key}"}).status_code == 200
        assert chat(local.gateway_url, user_key).status_code == 200
        assert chat(local.gateway_url, user_key, model="db-model").status_code == 200  # credential decrypts
        assert chat(local.gateway_url, new_key, model="db-model").status_code == 200
    finally:
        local.stop()
