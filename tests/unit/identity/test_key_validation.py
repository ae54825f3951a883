"""How long an authorization lasts (issue 16, defects 2 and 9), with the clock driven by the test.

LiteLLM is the scripted fake of ``test_authenticator`` (``/key/info`` answers an administrator's
lookup by token id, and answers 403 to a key restricted to ``llm_api_routes`` looking itself up,
as LiteLLM 1.108.7 does); the real LiteLLM is exercised in ``tests/integration/test_identity.py``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.authenticator import NEGATIVE_TTL_SECONDS, Authenticator
from gateway.identity.jwt_verifier import JwtError
from gateway.identity.principal import Principal
from gateway.settings import Settings, SettingsError
from tests.unit.identity.test_authenticator import JWT_LIKE, MASTER, SALT, USER_KEY, FakeLiteLLM, FakeVerifier, run

TTL = 30.0
START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def setup(
    verifier: Any = None, teams: dict[str, dict] | None = None, **kwargs: Any
) -> tuple[FakeLiteLLM, Clock, Authenticator]:
    fake, clock = FakeLiteLLM(), Clock()
    if teams is not None:
        with_teams(fake, teams)
    auth = Authenticator(
        fake.client(), master_key=MASTER, hash_salt=SALT, jwt_verifier=verifier, cache_ttl=TTL, clock=clock, **kwargs
    )
    return fake, clock, auth


def accepted(auth: Authenticator, token: str) -> Principal:
    return run(auth.authenticate_headers([("authorization", f"Bearer {token}")]))


def refused(auth: Authenticator, token: str) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        accepted(auth, token)
    assert info.value.kind is ErrorKind.UNAUTHENTICATED
    return info.value


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


# ---- defect 2: validation does not depend on the key's own route permissions --------------------------------


def test_a_key_restricted_to_llm_api_routes_is_accepted() -> None:
    fake, _, auth = setup()
    fake.keys["sk-llm-only"] = {"user_id": "bob", "allowed_routes": ["llm_api_routes"]}
    assert accepted(auth, "sk-llm-only").user_id == "bob"


@pytest.mark.parametrize(
    "info",
    [
        {"status": "revoked", "blocked": True},  # /key/block
        {"blocked": True},  # a LiteLLM that does not derive a status
        {"status": "deleted", "deleted_at": "2027-01-01T00:00:00Z"},  # served from LiteLLM's archive
        {"status": "expired"},
        {"expires": iso(START - 1)},
    ],
)
def test_blocked_deleted_and_expired_keys_are_refused(info: dict) -> None:
    fake, _, auth = setup()
    fake.keys["sk-gone"] = {"user_id": "bob", **info}
    assert refused(auth, "sk-gone").message == "invalid API key"


def test_a_token_id_or_other_non_sk_value_is_never_looked_up() -> None:
    fake, _, auth = setup()
    stored_id = hashlib.sha256(USER_KEY.encode()).hexdigest()  # what LiteLLM stores for the key
    refused(auth, stored_id)
    assert fake.calls("GET", "/key/info") == []


def test_a_master_key_refused_by_litellm_is_an_outage_not_the_callers_fault() -> None:
    fake, _, auth = setup()
    fake.key_info_status = 401
    with pytest.raises(GatewayError) as info:
        accepted(auth, USER_KEY)
    assert info.value.kind is ErrorKind.UNAVAILABLE


# ---- defect 9: revocation within KEY_CACHE_TTL_SECONDS, never past expiry ---------------------------------


def test_a_deleted_key_is_refused_once_the_cache_ttl_has_passed() -> None:
    fake, clock, auth = setup()
    assert accepted(auth, USER_KEY).user_id == "alice"
    del fake.keys[USER_KEY]  # an administrator deletes it in LiteLLM
    clock.now += TTL - 1
    assert accepted(auth, USER_KEY).user_id == "alice"  # still inside the stated window
    clock.now += 1
    refused(auth, USER_KEY)
    assert len(fake.calls("GET", "/key/info")) == 2


def test_a_blocked_key_is_refused_once_the_cache_ttl_has_passed() -> None:
    fake, clock, auth = setup()
    accepted(auth, USER_KEY)
    fake.keys[USER_KEY] |= {"blocked": True, "status": "revoked"}
    clock.now += TTL
    refused(auth, USER_KEY)


def test_a_cached_key_is_never_accepted_past_its_expiry() -> None:
    fake, clock, auth = setup()
    fake.keys["sk-short"] = {"user_id": "bob", "expires": iso(START + 5)}
    accepted(auth, "sk-short")
    clock.now += 4
    accepted(auth, "sk-short")
    assert len(fake.calls("GET", "/key/info")) == 1  # cached
    clock.now += 1  # the key's expiry, well inside the cache TTL
    refused(auth, "sk-short")


def test_a_refused_key_is_remembered_briefly_then_looked_up_again() -> None:
    fake, clock, auth = setup()
    refused(auth, "sk-new")
    fake.keys["sk-new"] = {"user_id": "carol"}  # created just after the first try
    refused(auth, "sk-new")
    assert len(fake.calls("GET", "/key/info")) == 1
    clock.now += NEGATIVE_TTL_SECONDS
    assert accepted(auth, "sk-new").user_id == "carol"


def test_a_jwt_decision_is_cached_but_never_past_the_tokens_exp() -> None:
    verifier = FakeVerifier({"sub": "00u1", "exp": START + 10})
    _, clock, auth = setup(verifier)
    accepted(auth, JWT_LIKE)
    clock.now += 9
    accepted(auth, JWT_LIKE)
    assert len(verifier.tokens) == 1  # cached while valid
    clock.now += 1  # exp reached: verified again, and the verifier now refuses it
    verifier.result = JwtError("token expired")
    assert refused(auth, JWT_LIKE).message == "invalid token: token expired"


def test_a_jwt_decision_lasts_at_most_the_cache_ttl() -> None:
    verifier = FakeVerifier({"sub": "00u1", "exp": START + 3600})
    _, clock, auth = setup(verifier)
    accepted(auth, JWT_LIKE)
    clock.now += TTL
    accepted(auth, JWT_LIKE)
    assert len(verifier.tokens) == 2


def test_the_cache_is_bounded_in_size() -> None:
    fake, _, auth = setup(cache_size=3)
    keys = [f"sk-k{i}" for i in range(5)]
    for key in keys:
        fake.keys[key] = {"user_id": key}
        accepted(auth, key)
    lookups = len(fake.calls("GET", "/key/info"))
    accepted(auth, keys[-1])  # recent: still cached
    assert len(fake.calls("GET", "/key/info")) == lookups
    accepted(auth, keys[0])  # evicted: looked up again
    assert len(fake.calls("GET", "/key/info")) == lookups + 1


def test_the_cache_ttl_setting_is_bounded_so_the_stated_guarantee_holds() -> None:
    env = {"LITELLM_MASTER_KEY": MASTER}
    assert Settings.from_env(env).key_cache_ttl == 30.0
    assert Settings.from_env(env | {"KEY_CACHE_TTL_SECONDS": "1"}).key_cache_ttl == 1.0
    for bad in ("301", "0", "soon"):
        with pytest.raises(SettingsError, match="KEY_CACHE_TTL_SECONDS"):
            Settings.from_env(env | {"KEY_CACHE_TTL_SECONDS": bad})


def with_teams(fake: FakeLiteLLM, teams: dict[str, dict]) -> None:
    """Teach the fake LiteLLM ``GET /team/info`` (administrators only) for ``teams``."""
    plain = fake.handle

    def handle(request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == ("GET", "/team/info"):
            fake.requests.append(request)
            team = teams.get(request.url.params.get("team_id", ""))
            if request.headers.get("authorization") != f"Bearer {MASTER}" or team is None:
                return httpx.Response(404, json={"error": {"message": "Team not found"}})
            return httpx.Response(200, json={"team_id": request.url.params["team_id"], "team_info": team, "keys": []})
        return plain(request)

    fake.handle = handle  # type: ignore[method-assign]


def test_keys_of_a_blocked_or_missing_team_are_refused() -> None:
    teams = {"t-ok": {"blocked": False}, "t-blocked": {"blocked": True}}
    fake, clock, auth = setup(teams=teams)
    fake.keys |= {"sk-ok": {"team_id": "t-ok"}, "sk-blocked": {"team_id": "t-blocked"}, "sk-gone": {"team_id": "t-x"}}
    assert accepted(auth, "sk-ok").type == "key"
    refused(auth, "sk-blocked")
    refused(auth, "sk-gone")
    teams["t-ok"]["blocked"] = True  # /team/block: refused within the cache TTL
    clock.now += TTL
    refused(auth, "sk-ok")


def test_admin_ui_session_keys_skip_the_team_check_like_litellm_but_nothing_else() -> None:
    """LiteLLM's UI login mints keys in the pseudo-team ``litellm-dashboard`` (no such team exists; LiteLLM
    skips its team check for it): accepted as the logged-in user, still refused when expired or blocked."""
    fake, clock, auth = setup(teams={})
    ui = {"user_id": "default_user_id", "team_id": "litellm-dashboard", "expires": iso(START + 3600)}
    fake.keys |= {"sk-ui-session": ui, "sk-ui-blocked": {**ui, "blocked": True}, "sk-other": {"team_id": "t-x"}}
    principal = accepted(auth, "sk-ui-session")
    assert (principal.type, principal.user_id) == ("key", "default_user_id")
    assert fake.calls("GET", "/team/info") == []
    refused(auth, "sk-ui-blocked")
    refused(auth, "sk-other")  # any other missing team is still refused
    clock.now = START + 3600  # the UI session (and its key) expired
    refused(auth, "sk-ui-session")
