"""What non-admins may write on keys after creation: update, regenerate, bulk updates (issue 16, defect 3)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest
from starlette.requests import Request

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.key_policy import (
    carry_reserved_metadata,
    key_bulk_update_body_for,
    key_generate_body_for,
    key_regenerate_body_for,
    key_update_body_for,
    team_key_bulk_update_body_for,
)
from gateway.identity.principal import Principal
from gateway.web.key_routes import _target_key, canonical_path, rule_for

ALICE = Principal(type="key", user_id="alice", key_hash="h1")
USERLESS_KEY = Principal(type="key", user_id=None, key_hash="h2")
ADMIN = Principal(type="admin", user_id=None, key_hash="h3")
KEY = "sk-alice-own-key"


def refused(rule, body: dict, principal: Principal = ALICE) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        rule(principal, body)
    return info.value


def test_allowed_update_is_forwarded_unchanged() -> None:
    body = {"key": KEY, "key_alias": "laptop", "models": ["fake"], "tpm_limit": 10, "metadata": {"project": "x"}}
    assert key_update_body_for(ALICE, body) == body
    # key_alias alone names the key; clearing an allowed field is allowed
    assert key_update_body_for(ALICE, {"key_alias": "laptop", "duration": None}) == {
        "key_alias": "laptop",
        "duration": None,
    }


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"tags": ["vip"]}, "tags"),
        ({"tags": []}, "tags"),  # empty values clear on an update: refused too
        ({"guardrails": None}, "guardrails"),
        ({"allowed_routes": []}, "allowed_routes"),
        ({"blocked": False}, "blocked"),
        ({"team_id": "t"}, "team_id"),
        ({"spend": 0}, "spend"),
        ({"temp_budget_increase": 100}, "temp_budget_increase"),
        ({"router_settings": {"num_retries": 9}}, "router_settings"),
        ({"key_type": "management"}, "key_type"),  # fixed at creation
        ({"user_id": "bob"}, "user_id"),
        ({"user_id": None}, "user_id"),
    ],
)
def test_update_refuses_admin_fields(change: dict, param: str) -> None:
    error = refused(key_update_body_for, {"key": KEY, **change})
    assert (error.kind, error.param) == (ErrorKind.FORBIDDEN, param)
    assert "/key/update" in error.message or param == "user_id"


@pytest.mark.parametrize(
    ("change", "kind", "param"),
    [
        ({"metadata": {"guardrails": "off"}}, ErrorKind.FORBIDDEN, "metadata"),
        ({"metadata": {"tags": "x"}}, ErrorKind.FORBIDDEN, "metadata"),
        ({"duration": "forever"}, ErrorKind.VALIDATION, "duration"),
        ({"max_budget": -1}, ErrorKind.VALIDATION, "max_budget"),
        ({"key": 7}, ErrorKind.VALIDATION, "key"),
    ],
)
def test_update_checks_values_like_generate(change: dict, kind: ErrorKind, param: str) -> None:
    error = refused(key_update_body_for, {"key": KEY, **change})
    assert (error.kind, error.param) == (kind, param)


def test_regenerate_allows_grace_period_but_not_a_chosen_key() -> None:
    assert key_regenerate_body_for(ALICE, {"key": KEY, "grace_period": "24h", "key_type": "llm_api"})["grace_period"]
    assert refused(key_regenerate_body_for, {"new_key": "sk-" + "a" * 32}).param == "new_key"
    assert refused(key_regenerate_body_for, {"new_master_key": "sk-x"}).param == "new_master_key"
    assert refused(key_regenerate_body_for, {"tags": ["vip"]}).param == "tags"
    assert refused(key_regenerate_body_for, {"grace_period": "1y"}).kind is ErrorKind.VALIDATION


def test_bulk_update_items_may_only_name_a_key_and_its_budget() -> None:
    body = {"keys": [{"key": KEY, "max_budget": 5}]}
    assert key_bulk_update_body_for(ALICE, body) == body
    error = refused(key_bulk_update_body_for, {"keys": [{"key": KEY}, {"key": "sk-2", "team_id": "t", "tags": []}]})
    assert (error.kind, error.param) == (ErrorKind.FORBIDDEN, "keys[1].tags")
    assert refused(key_bulk_update_body_for, {"keys": "sk-1"}).kind is ErrorKind.VALIDATION


def test_team_bulk_update_only_budgets_limits_and_durations() -> None:
    body = {"team_id": "t", "key_ids": ["a"], "update_fields": {"tpm_limit": 5, "duration": "30d"}}
    assert team_key_bulk_update_body_for(ALICE, body) == body
    for field in ("tags", "metadata", "budget_id", "model_rpm_limit"):
        error = refused(team_key_bulk_update_body_for, {"team_id": "t", "update_fields": {field: {}}})
        assert error.param == f"update_fields.{field}"
    assert refused(team_key_bulk_update_body_for, {"team_id": "t", "update_fields": []}).kind is ErrorKind.VALIDATION


@pytest.mark.parametrize(
    "rule",
    [key_generate_body_for, key_update_body_for, key_regenerate_body_for, key_bulk_update_body_for,
     team_key_bulk_update_body_for],
)  # fmt: skip
def test_admins_are_unrestricted_and_userless_keys_refused(rule) -> None:
    body = {"keys": [{"key": KEY, "tags": ["vip"]}], "tags": ["vip"], "update_fields": {"tags": []}}
    assert rule(ADMIN, body) == body
    assert "does not belong to a user" in refused(rule, {"key": KEY}, USERLESS_KEY).message
    assert refused(rule, ["not", "an", "object"]).kind is ErrorKind.VALIDATION


def test_label_edits_keep_the_administrators_metadata() -> None:
    existing = {"project": "a", "tags": ["cost-center"], "guardrails": ["pii"], "model_rpm_limit": {"x": 1}}
    assert carry_reserved_metadata(existing, {"project": "b"}) == {
        "project": "b",
        "tags": ["cost-center"],
        "guardrails": ["pii"],
        "model_rpm_limit": {"x": 1},
    }
    assert carry_reserved_metadata(existing, None) == {k: v for k, v in existing.items() if k != "project"}
    assert carry_reserved_metadata(None, {"project": "b"}) == {"project": "b"}


@pytest.mark.parametrize(
    ("path", "guarded"),
    [
        ("/key/generate", True),
        ("/key/update", True),
        ("/key/regenerate", True),
        ("/key/sk-abc/regenerate", True),
        ("/key/bulk_update", True),
        ("/team/key/bulk_update", True),
        ("/key/service-account/generate", True),
        ("/key/unblock", True),
        ("/key/sk-abc/reset_spend", True),
        ("/key/info", False),
        ("/key/list", False),
        ("/key/delete", False),
        ("/key/block", False),
        ("/key/health", False),
        ("/key/aliases", False),
    ],
)
def test_every_key_writing_route_of_litellm_is_guarded(path: str, guarded: bool) -> None:
    assert (rule_for(path) is not None) is guarded


def test_paths_are_checked_in_canonical_form() -> None:
    assert canonical_path("/key//update/") == "/key/update"
    assert canonical_path("/key/sk-a/regenerate/") == "/key/sk-a/regenerate"
    admin_only = rule_for(canonical_path("/key/unblock/"))
    assert isinstance(admin_only, GatewayError) and admin_only.kind is ErrorKind.FORBIDDEN


def _litellm_key_routes() -> set[tuple[str, str]]:
    """(METHOD, path) of every route in the pinned LiteLLM's key management module, read from its
    source (importing the proxy takes seconds)."""
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    source = Path(spec.submodule_search_locations[0], "proxy/management_endpoints/key_management_endpoints.py")
    routes = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Attribute)
                    and isinstance(deco.func.value, ast.Name)
                    and deco.func.value.id == "router"
                ):
                    routes.add((deco.func.attr.upper(), deco.args[0].value))
    return routes


# POST routes under /key/ that only read or narrow a key: relayed, LiteLLM decides.
RELAYED_ON_PURPOSE = {"/key/delete", "/key/block", "/key/health"}


def test_no_key_writing_route_of_the_pinned_litellm_is_unguarded() -> None:
    routes = _litellm_key_routes()
    assert ("POST", "/key/update") in routes and len(routes) > 10  # the parse found the routes
    for method, path in routes:
        if not path.startswith(("/key/", "/team/key/")):
            continue
        concrete = path.replace("{key:path}", "sk-example")
        if method != "POST":
            continue  # reads (the middleware relays every other method)
        if path in RELAYED_ON_PURPOSE:
            assert rule_for(concrete) is None, path
        else:
            assert rule_for(concrete) is not None, f"POST {path} writes keys but is not guarded"


@pytest.mark.parametrize(
    ("path", "query", "body", "target"),
    [
        ("/key/update", b"key=sk-other", {"key": "sk-mine"}, "sk-mine"),
        ("/key/update", b"key=sk-other", {"key_alias": "laptop"}, None),  # LiteLLM ignores ?key= here
        ("/key/regenerate", b"key=sk-q", {}, "sk-q"),
        ("/key/sk-path/regenerate", b"key=sk-other", {}, "sk-path"),  # the path wins, as in LiteLLM
        ("/key/sk-path/regenerate", b"", {"key": "sk-body"}, "sk-body"),
    ],
)
def test_metadata_is_carried_over_from_the_key_litellm_will_change(path, query, body, target) -> None:
    request = Request({"type": "http", "method": "POST", "path": path, "query_string": query, "headers": []})
    assert _target_key(request, path, body) == target
