"""Every key-writing route applies the same non-admin allow-list as ``/key/generate`` (issue 16, defect 3).

Real keys against the local stack: a user (``internal_user``) makes a key of their own through the
gateway, then tries to change it through each LiteLLM route that writes keys. LiteLLM itself (master
key, its own port) is the ground truth for what the key ends up with.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import LocalStack
from tests.integration.conftest import new_user_key


@pytest.fixture(scope="module")
def litellm(stack: LocalStack, master_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.litellm_url, headers=_bearer(master_key), timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def owner(gateway_url: str, master_key: str) -> tuple[str, str]:
    """(user_id, user key) of a plain internal user."""
    return new_user_key(gateway_url, master_key, "key-writer")


@pytest.fixture
def own_key(gateway_url: str, owner: tuple[str, str]) -> str:
    """A key the user made for themselves through the gateway (so LiteLLM lets them edit it)."""
    made = httpx.post(
        f"{gateway_url}/key/generate",
        headers=_bearer(owner[1]),
        json={"key_alias": f"own-{secrets.token_hex(4)}", "metadata": {"project": "a"}},
        timeout=30,
    )
    assert made.status_code == 200, made.text
    return made.json()["key"]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _row(litellm: httpx.Client, key: str) -> dict[str, Any]:
    response = litellm.post("/v2/key/info", json={"keys": [key]})
    assert response.status_code == 200, response.text
    (row,) = response.json()["info"]
    return row


def _assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["type"] == "permission_error", error
    assert field in error["message"], error


# Fields LiteLLM lets a key's owner write on /key/update that /key/generate refuses to non-admins.
REFUSED_UPDATES = [
    ({"tags": ["premium-routing"]}, "tags"),
    ({"guardrails": []}, "guardrails"),  # empty still refused: on an update it clears
    ({"metadata": {"guardrails": ["none"]}}, "metadata.guardrails"),
    ({"aliases": {"cheap": "fake"}}, "aliases"),
    ({"model_rpm_limit": {"fake": 100000}}, "model_rpm_limit"),
    ({"router_settings": {"num_retries": 9}}, "router_settings"),
    ({"enable_prompt_caching": True}, "enable_prompt_caching"),
    ({"allowed_routes": []}, "allowed_routes"),
    ({"blocked": False}, "blocked"),
]


@pytest.mark.parametrize(("change", "field"), REFUSED_UPDATES, ids=[f for _, f in REFUSED_UPDATES])
def test_key_update_refuses_what_key_generate_refuses(gateway_url, litellm, owner, own_key, change, field):
    before = _row(litellm, own_key)
    response = httpx.post(
        f"{gateway_url}/key/update", headers=_bearer(owner[1]), json={"key": own_key, **change}, timeout=30
    )
    _assert_refused(response, field.split(".")[0])
    after = _row(litellm, own_key)
    assert {k: after.get(k) for k in ("metadata", "aliases", "model_rpm_limit", "blocked", "allowed_routes")} == {
        k: before.get(k) for k in ("metadata", "aliases", "model_rpm_limit", "blocked", "allowed_routes")
    }


def test_key_update_non_canonical_paths_are_checked_too(gateway_url, owner, own_key):
    for path in ("/key/update/", "/key//update", "/key/%75pdate"):
        response = httpx.post(
            f"{gateway_url}{path}", headers=_bearer(owner[1]), json={"key": own_key, "tags": ["x"]}, timeout=30
        )
        _assert_refused(response, "tags")


def test_allowed_key_updates_still_work(gateway_url, litellm, owner, own_key):
    alias = f"renamed-{secrets.token_hex(4)}"
    change = {"key": own_key, "key_alias": alias, "models": ["fake"], "tpm_limit": 5000, "metadata": {"project": "b"}}
    response = httpx.post(f"{gateway_url}/key/update", headers=_bearer(owner[1]), json=change, timeout=30)
    assert response.status_code == 200, response.text
    row = _row(litellm, own_key)
    assert (row["key_alias"], row["models"], row["tpm_limit"]) == (alias, ["fake"], 5000)
    assert row["metadata"]["project"] == "b"


def test_label_update_keeps_what_an_administrator_set(gateway_url, master_key, litellm, owner, own_key):
    """LiteLLM replaces metadata wholesale; a user's label edit must not drop an admin's settings."""
    admin_set = litellm.post("/key/update", json={"key": own_key, "metadata": {"project": "a", "priority": "low"}})
    assert admin_set.status_code == 200, admin_set.text
    response = httpx.post(
        f"{gateway_url}/key/update",
        headers=_bearer(owner[1]),
        json={"key": own_key, "metadata": {"project": "b"}},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert _row(litellm, own_key)["metadata"] == {"project": "b", "priority": "low"}


def test_key_update_cannot_give_the_key_away(gateway_url, master_key, litellm, owner, own_key):
    other_id, _ = new_user_key(gateway_url, master_key, "receiver")
    for user_id in (other_id, None):
        response = httpx.post(
            f"{gateway_url}/key/update",
            headers=_bearer(owner[1]),
            json={"key": own_key, "user_id": user_id},
            timeout=30,
        )
        _assert_refused(response, "user_id")
    assert _row(litellm, own_key)["user_id"] == owner[0]


@pytest.mark.parametrize("path", ["/key/regenerate", "/key/{key}/regenerate"])
def test_key_regenerate_refuses_admin_fields(gateway_url, litellm, owner, own_key, path):
    url = gateway_url + path.format(key=own_key)
    response = httpx.post(url, headers=_bearer(owner[1]), json={"key": own_key, "tags": ["vip"]}, timeout=30)
    _assert_refused(response, "tags")
    response = httpx.post(url, headers=_bearer(owner[1]), json={"new_key": "sk-" + "a" * 32}, timeout=30)
    _assert_refused(response, "new_key")
    assert _row(litellm, own_key)["user_id"] == owner[0]  # the key still works: nothing was regenerated


def test_key_bulk_update_refuses_admin_fields(gateway_url, litellm, owner, own_key):
    body = {"keys": [{"key": own_key, "tags": ["vip"], "team_id": "t-1"}]}
    response = httpx.post(f"{gateway_url}/key/bulk_update", headers=_bearer(owner[1]), json=body, timeout=30)
    _assert_refused(response, "keys[0].tags")
    assert _row(litellm, own_key).get("team_id") is None


def test_team_key_bulk_update_refuses_admin_fields(gateway_url, owner):
    body = {"team_id": "t-1", "all_keys_in_team": True, "update_fields": {"tags": ["vip"]}}
    response = httpx.post(f"{gateway_url}/team/key/bulk_update", headers=_bearer(owner[1]), json=body, timeout=30)
    _assert_refused(response, "update_fields.tags")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/key/service-account/generate", {"team_id": "t-1"}),
        ("/key/unblock", {"key": "{key}"}),
        ("/key/{key}/reset_spend", {"reset_to": 0}),
    ],
)
def test_admin_only_key_routes_are_refused_to_users(gateway_url, owner, own_key, path, body):
    body = {k: v.format(key=own_key) if isinstance(v, str) else v for k, v in body.items()}
    response = httpx.post(gateway_url + path.format(key=own_key), headers=_bearer(owner[1]), json=body, timeout=30)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["type"] == "permission_error"


def test_key_reads_and_deletes_still_relay(gateway_url, litellm, owner, own_key):
    headers = _bearer(owner[1])
    info = httpx.get(f"{gateway_url}/key/info", headers=_bearer(own_key), timeout=30)
    assert info.status_code == 200, info.text
    listed = httpx.get(f"{gateway_url}/key/list", headers=headers, params={"user_id": owner[0]}, timeout=30)
    assert listed.status_code == 200, listed.text
    deleted = httpx.post(f"{gateway_url}/key/delete", headers=headers, json={"keys": [own_key]}, timeout=30)
    assert deleted.status_code == 200, deleted.text
    assert litellm.post("/v2/key/info", json={"keys": [own_key]}).json()["info"] == []


def test_admins_are_not_restricted(gateway_url, master_key, litellm, own_key):
    change = {"key": own_key, "metadata": {"priority": "high"}, "model_rpm_limit": {"fake": 7}}
    response = httpx.post(f"{gateway_url}/key/update", headers=_bearer(master_key), json=change, timeout=30)
    assert response.status_code == 200, response.text
    row = _row(litellm, own_key)
    assert row["metadata"]["priority"] == "high"
    assert (row.get("model_rpm_limit") or row["metadata"].get("model_rpm_limit")) == {"fake": 7}


@pytest.mark.parametrize("path", ["/key/regenerate", "/key/{key}/regenerate"])
def test_an_unlicensed_enterprise_feature_is_a_403_not_a_server_error(gateway_url, master_key, own_key, path):
    """LiteLLM answers 500 to key regeneration without an Enterprise licence; the gateway says what it is."""
    url = gateway_url + path.format(key=own_key)
    response = httpx.post(url, headers=_bearer(master_key), json={"key": own_key}, timeout=30)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["type"] == "permission_error"
    assert "Enterprise" in response.json()["error"]["message"]


def test_a_body_that_is_not_an_object_is_a_400_for_everyone(gateway_url, master_key, owner):
    for key in (master_key, owner[1]):
        response = httpx.post(f"{gateway_url}/key/update", headers=_bearer(key), json=["tags"], timeout=30)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_key_in_the_path_is_not_logged(stack, gateway_url, owner, own_key):
    """/key/{key}/regenerate now passes through the middleware (also in AWS): its log must not hold the key."""
    response = httpx.post(
        f"{gateway_url}/key/{own_key}/regenerate", headers=_bearer(owner[1]), json={"tags": ["x"]}, timeout=30
    )
    assert response.status_code == 403
    log = stack.log_dir / "middleware.log"
    deadline = time.monotonic() + 10
    while "/key/sk-…/regenerate" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)  # logs are written asynchronously
    assert "/key/sk-…/regenerate" in log.read_text()
    assert own_key not in log.read_text()
