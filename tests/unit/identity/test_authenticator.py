"""The authorizer rules (bearer → principal) and the JWT accounts I/O, with LiteLLM faked by httpx.MockTransport."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar
from urllib.parse import unquote

import httpx
import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.accounts import MANAGED_ALIAS_PREFIX, Accounts, derive_managed_key
from gateway.identity.authenticator import Authenticator, bearer_token, principal_from_claims
from gateway.identity.jwt_verifier import IssuerUnavailable, JwtConfig, JwtError, JwtVerifier
from gateway.identity.principal import Principal, hash_key
from gateway.identity.provisioning import UserDefaults
from gateway.upstream import LiteLLMClient
from tests.support.oidc_issuer import OidcIssuer

T = TypeVar("T")
MASTER = "sk-master-unit"
SALT = "unit-salt"
USER_KEY = "sk-user-key-1"


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


class FakeLiteLLM:
    """A scripted LiteLLM: a handler per (method, path); records every request it saw."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.keys: dict[str, dict[str, Any]] = {USER_KEY: {"user_id": "alice"}}  # raw key -> info
        self.users: dict[str, dict[str, Any]] = {}
        self.key_info_status: int | None = None  # force an answer of /key/info
        self.fail_user_new_with: tuple[int, dict] | None = None
        self.key_generate_errors: list[tuple[int, dict]] = []

    def client(self) -> LiteLLMClient:
        return LiteLLMClient("http://litellm.test", transport=httpx.MockTransport(self.handle))

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        route = (request.method, request.url.path)
        if route == ("GET", "/key/info"):
            if self.key_info_status is not None:
                return httpx.Response(self.key_info_status, json={"error": {"message": "scripted"}})
            if bearer == MASTER and "key" in request.url.params:  # an administrator's lookup by token id
                by_id = {hashlib.sha256(k.encode()).hexdigest(): info for k, info in self.keys.items()}
                if request.url.params["key"] in by_id:
                    return httpx.Response(200, json={"key": "id", "info": by_id[request.url.params["key"]]})
                return httpx.Response(404, json={"error": {"message": "Key not found in database"}})
            if self.keys.get(bearer, {}).get("allowed_routes") == ["llm_api_routes"]:
                return httpx.Response(403, json={"error": {"message": "Virtual key is not allowed to call this route"}})
            if bearer in self.keys:
                return httpx.Response(200, json={"key": "hash", "info": self.keys[bearer]})
            return httpx.Response(401, json={"error": {"message": "Authentication Error"}})
        if bearer != MASTER:
            return httpx.Response(401, json={"error": {"message": "master key required"}})
        if route == ("GET", "/v2/user/info"):
            user_id = unquote(request.url.params["user_id"])
            if user_id not in self.users:
                return httpx.Response(404, json={"error": {"message": f"User not found: {user_id}", "code": "404"}})
            return httpx.Response(200, json=self.users[user_id])
        if route == ("POST", "/user/new"):
            body = json.loads(request.content)
            if self.fail_user_new_with:
                status, payload = self.fail_user_new_with
                self.fail_user_new_with = None
                return httpx.Response(status, json=payload)
            if body["user_id"] in self.users:
                return httpx.Response(409, json={"error": {"message": "User already exists", "code": "409"}})
            row = {k: v for k, v in body.items() if k != "auto_create_key"} | {"spend": 0.0}
            self.users[body["user_id"]] = row
            return httpx.Response(200, json=row | {"key": ""})
        if route == ("POST", "/key/generate"):
            body = json.loads(request.content)
            if self.key_generate_errors:
                status, payload = self.key_generate_errors.pop(0)
                return httpx.Response(status, json=payload)
            key = body.get("key") or f"sk-generated-{len(self.keys)}"
            self.keys.setdefault(key, {"user_id": body.get("user_id"), "key_alias": body.get("key_alias")})
            return httpx.Response(200, json={"key": key, "key_name": "sk-..." + key[-4:], "user_id": body["user_id"]})
        return httpx.Response(404, json={"error": {"message": "no such route"}})


class FakeVerifier:
    def __init__(self, result: Mapping[str, Any] | Exception) -> None:
        self.result = result
        self.tokens: list[str] = []

    async def verify(self, token: str) -> Mapping[str, Any]:
        self.tokens.append(token)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def authenticator(fake: FakeLiteLLM, verifier: Any = None, **kwargs: Any) -> Authenticator:
    return Authenticator(fake.client(), master_key=MASTER, hash_salt=SALT, jwt_verifier=verifier, **kwargs)


def authenticate(auth: Authenticator, header: str | None) -> Principal:
    return run(auth.authenticate(header))


def refused(auth: Authenticator, header: str | None) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        authenticate(auth, header)
    return info.value


# a well-formed RS256 token (the fakes never verify it)
JWT_LIKE = OidcIssuer().mint({"iss": "https://idp.example.com", "aud": "api://default", "sub": "00u123"})


# ---- the Authorization header -----------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer  ", "Bearer a b", "token"])
def test_malformed_authorization_is_401(header: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        bearer_token(header)
    assert info.value.kind is ErrorKind.UNAUTHENTICATED


def test_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer abc") == "abc"


# ---- master key and LiteLLM keys ----------------------------------------------------------------


def test_master_key_is_admin_without_any_call() -> None:
    fake = FakeLiteLLM()
    principal = authenticate(authenticator(fake), f"Bearer {MASTER}")
    assert principal.type == "admin" and principal.is_admin
    assert principal.key_hash == hash_key(MASTER, SALT)
    assert fake.requests == []


def test_user_key_is_validated_by_an_admin_lookup_of_its_token_id_and_cached() -> None:
    fake = FakeLiteLLM()
    auth = authenticator(fake)
    first = authenticate(auth, f"Bearer {USER_KEY}")
    second = authenticate(auth, f"Bearer {USER_KEY}")
    assert first == second == Principal(type="key", user_id="alice", key_hash=hash_key(USER_KEY, SALT))
    [call] = fake.calls("GET", "/key/info")
    assert call.headers["authorization"] == f"Bearer {MASTER}"
    assert call.url.params["key"] == hashlib.sha256(USER_KEY.encode()).hexdigest()
    assert USER_KEY not in str(call.url)  # the raw key never travels in a URL


def test_unknown_key_is_401_and_remembered_briefly() -> None:
    fake = FakeLiteLLM()
    auth = authenticator(fake)
    for _ in range(3):
        err = refused(auth, "Bearer sk-nope")
        assert err.kind is ErrorKind.UNAUTHENTICATED and err.message == "invalid API key"
    assert len(fake.calls("GET", "/key/info")) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_litellm_failure_while_validating_a_key_is_503(status: int) -> None:
    fake = FakeLiteLLM()
    fake.key_info_status = status
    assert refused(authenticator(fake), f"Bearer {USER_KEY}").kind is ErrorKind.UNAVAILABLE


def test_key_without_user_has_no_user_id() -> None:
    fake = FakeLiteLLM()
    fake.keys["sk-service"] = {"user_id": None}
    assert authenticate(authenticator(fake), "Bearer sk-service").user_id is None


# ---- JWTs ---------------------------------------------------------------------------------------


def test_jwt_becomes_a_jwt_principal_without_calling_litellm() -> None:
    fake = FakeLiteLLM()
    verifier = FakeVerifier({"sub": "00u123", "email": "alice@example.com"})
    principal = authenticate(authenticator(fake, verifier), f"Bearer {JWT_LIKE}")
    assert (principal.type, principal.user_id, principal.email) == ("jwt", "00u123", "alice@example.com")
    assert principal.key_hash == hash_key(JWT_LIKE, SALT)  # binds the context to this token, never the token itself
    assert verifier.tokens == [JWT_LIKE]
    assert fake.requests == []


def test_non_jwt_bearer_skips_the_verifier() -> None:
    fake = FakeLiteLLM()
    verifier = FakeVerifier({"sub": "x"})
    assert authenticate(authenticator(fake, verifier), f"Bearer {USER_KEY}").type == "key"
    assert verifier.tokens == []


def test_jwt_without_configured_issuer_is_treated_as_a_key() -> None:
    fake = FakeLiteLLM()
    err = refused(authenticator(fake, None), f"Bearer {JWT_LIKE}")
    assert err.kind is ErrorKind.UNAUTHENTICATED and err.message == "invalid API key"
    assert fake.calls("GET", "/key/info") == []  # not an "sk-" key, which is all LiteLLM accepts


@pytest.mark.parametrize("reason", ["token expired", "wrong audience", "invalid signature", "algorithm not allowed"])
def test_refused_jwt_is_401_with_the_short_reason(reason: str, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeLiteLLM()
    err = refused(authenticator(fake, FakeVerifier(JwtError(reason))), f"Bearer {JWT_LIKE}")
    assert err.kind is ErrorKind.UNAUTHENTICATED
    assert err.message == f"invalid token: {reason}"
    assert JWT_LIKE not in err.message
    assert fake.requests == []  # a refused JWT never falls through to key validation
    logged = [str(vars(record)) for record in caplog.records]
    assert any(reason in line for line in logged)  # logged …
    assert not any(JWT_LIKE in line for line in logged)  # … without the token


def test_issuer_unavailable_is_503_not_401() -> None:
    err = refused(authenticator(FakeLiteLLM(), FakeVerifier(IssuerUnavailable("JWKS fetch returned HTTP 500"))),
                  f"Bearer {JWT_LIKE}")  # fmt: skip
    assert err.kind is ErrorKind.UNAVAILABLE
    assert "500" not in err.message  # the detail is for logs


def test_master_key_wins_even_if_it_looks_like_a_jwt() -> None:
    fake = FakeLiteLLM()
    verifier = FakeVerifier(JwtError("invalid signature"))
    auth = Authenticator(fake.client(), master_key=JWT_LIKE, hash_salt=SALT, jwt_verifier=verifier)
    assert authenticate(auth, f"Bearer {JWT_LIKE}").type == "admin"
    assert verifier.tokens == []


@pytest.mark.parametrize(
    ("claims", "email"),
    [
        ({"sub": "u1", "email": "a@example.com"}, "a@example.com"),
        ({"sub": "u1", "email": "a@example.com", "email_verified": True}, "a@example.com"),
        ({"sub": "u1", "email": "a@example.com", "email_verified": False}, None),
        ({"sub": "u1", "email": "not-an-email"}, None),
        ({"sub": "u1", "email": 7}, None),
        ({"sub": "u1"}, None),
    ],
)
def test_email_only_when_plausible_and_not_unverified(claims: dict, email: str | None) -> None:
    assert principal_from_claims(claims).email == email


@pytest.mark.parametrize("claims", [{}, {"sub": ""}, {"sub": "  "}, {"sub": 5}])
def test_claims_without_a_subject_are_refused(claims: dict) -> None:
    with pytest.raises(GatewayError) as info:
        principal_from_claims(claims)
    assert info.value.kind is ErrorKind.UNAUTHENTICATED


def test_with_a_real_verifier_and_issuer(idp: OidcIssuer) -> None:
    """The whole chain: a minted token → the real JwtVerifier → a principal; a forgery → 401."""

    async def go() -> tuple[Principal, GatewayError]:
        verifier = JwtVerifier(JwtConfig(issuer=idp.issuer))
        auth = Authenticator(FakeLiteLLM().client(), master_key=MASTER, hash_salt=SALT, jwt_verifier=verifier)
        try:
            ok = await auth.authenticate(f"Bearer {idp.mint(idp.claims(sub='00uREAL'))}")
            with pytest.raises(GatewayError) as info:
                await auth.authenticate(f"Bearer {idp.mint_hs256_with_public_key(idp.claims(sub='00uFORGED'))}")
            return ok, info.value
        finally:
            await verifier.aclose()

    ok, forged = run(go())
    assert ok.type == "jwt" and ok.user_id == "00uREAL" and ok.email == "alice@example.com"
    assert forged.kind is ErrorKind.UNAUTHENTICATED and forged.message == "invalid token: algorithm not allowed"


def test_unreachable_issuer_gives_503() -> None:
    async def go() -> GatewayError:
        with OidcIssuer() as idp:
            issuer, token = idp.issuer, idp.mint()
        verifier = JwtVerifier(JwtConfig(issuer=issuer))  # the issuer is gone
        auth = Authenticator(FakeLiteLLM().client(), master_key=MASTER, hash_salt=SALT, jwt_verifier=verifier)
        try:
            with pytest.raises(GatewayError) as info:
                await auth.authenticate(f"Bearer {token}")
            return info.value
        finally:
            await verifier.aclose()

    assert run(go()).kind is ErrorKind.UNAVAILABLE


# ---- accounts: JWT users and the managed key ------------------------------------------------------

ALICE = Principal(type="jwt", user_id="alice+okta@example.com", key_hash=None, email="alice@example.com")
DEFAULTS = UserDefaults(max_budget=5.0, budget_duration="30d", rpm_limit=60, models=("fake",))


def accounts(fake: FakeLiteLLM, **kwargs: Any) -> Accounts:
    return Accounts(fake.client(), master_key=MASTER, hash_salt=SALT, defaults=DEFAULTS, **kwargs)


def test_managed_key_is_derived_stable_and_per_user() -> None:
    key = derive_managed_key(SALT, "alice")
    assert key == derive_managed_key(SALT, "alice")
    assert key.startswith("sk-gw-") and len(key) == len("sk-gw-") + 64
    assert key != derive_managed_key(SALT, "bob")
    assert key != derive_managed_key("other-salt", "alice")
    # never equal to the salted hash the authenticator computes for a bearer (domain separation)
    assert key.removeprefix("sk-gw-") != hash_key("alice", SALT)


def test_new_user_is_created_from_defaults_only() -> None:
    fake = FakeLiteLLM()
    answer = run(accounts(fake).new_key_for(ALICE))
    [new] = fake.calls("POST", "/user/new")
    body = json.loads(new.content)
    assert body == {
        "user_id": ALICE.user_id,
        "user_role": "internal_user",
        "auto_create_key": False,
        "user_email": "alice@example.com",
        "max_budget": 5.0,
        "budget_duration": "30d",
        "rpm_limit": 60,
        "models": ["fake"],
    }
    assert new.headers["authorization"] == f"Bearer {MASTER}"
    # the id travels URL-encoded (LiteLLM reads '+' as a space otherwise)
    assert "user_id=alice%2Bokta%40example.com" in str(fake.calls("GET", "/v2/user/info")[0].url)
    assert answer["user_created"] is True and answer["user_id"] == ALICE.user_id
    assert answer["key"].startswith("sk-generated-") and answer["max_budget"] == 5.0
    [gen] = fake.calls("POST", "/key/generate")
    assert json.loads(gen.content)["user_id"] == ALICE.user_id


def test_existing_user_gets_another_key_and_is_not_modified() -> None:
    fake = FakeLiteLLM()
    fake.users[ALICE.user_id] = {"user_id": ALICE.user_id, "user_role": "internal_user", "max_budget": 50.0}
    acc = accounts(fake)
    first, second = run(acc.new_key_for(ALICE)), run(acc.new_key_for(ALICE))
    assert first["key"] != second["key"]
    assert first["user_created"] is second["user_created"] is False
    assert first["max_budget"] == 50.0  # the administrator's value stays
    assert fake.calls("POST", "/user/new") == []


@pytest.mark.parametrize("role", ["proxy_admin", "proxy_admin_viewer", "org_admin", None])
def test_existing_elevated_user_is_refused(role: str | None) -> None:
    fake = FakeLiteLLM()
    fake.users[ALICE.user_id] = {"user_id": ALICE.user_id, "user_role": role}
    with pytest.raises(GatewayError) as info:
        run(accounts(fake).new_key_for(ALICE))
    assert info.value.kind is ErrorKind.FORBIDDEN
    with pytest.raises(GatewayError):
        run(accounts(fake).managed_key(ALICE))
    assert fake.calls("POST", "/key/generate") == []


def test_user_created_concurrently_elsewhere_is_used() -> None:
    fake = FakeLiteLLM()

    def lose_the_race(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/user/new":
            fake.users[ALICE.user_id] = {"user_id": ALICE.user_id, "user_role": "internal_user"}
        return FakeLiteLLM.handle(fake, request)

    fake.handle = lose_the_race  # type: ignore[method-assign]
    answer = run(accounts(fake).new_key_for(ALICE))
    assert answer["user_created"] is False and answer["key"]


def test_email_owned_by_another_user_is_left_out() -> None:
    fake = FakeLiteLLM()
    fake.fail_user_new_with = (409, {"error": {"message": "User with email alice@example.com already exists"}})
    answer = run(accounts(fake).new_key_for(ALICE))
    first, second = fake.calls("POST", "/user/new")
    assert "user_email" in json.loads(first.content)
    assert "user_email" not in json.loads(second.content)
    assert answer["user_created"] is True


def test_other_user_new_failures_propagate() -> None:
    fake = FakeLiteLLM()
    fake.fail_user_new_with = (500, {"error": {"message": "db down"}})
    with pytest.raises(GatewayError):
        run(accounts(fake).new_key_for(ALICE))


def test_managed_key_created_once_with_alias_and_metadata() -> None:
    fake = FakeLiteLLM()
    acc = accounts(fake)

    async def go() -> list[str]:
        return list(await asyncio.gather(*(acc.managed_key(ALICE) for _ in range(5))))

    keys = run(go())
    expected = derive_managed_key(SALT, ALICE.user_id)
    assert keys == [expected] * 5
    [gen] = fake.calls("POST", "/key/generate")
    assert json.loads(gen.content) == {
        "key": expected,
        "user_id": ALICE.user_id,
        "key_alias": MANAGED_ALIAS_PREFIX + ALICE.user_id,
        "metadata": {"gateway_managed": "true"},
    }
    # the key is only ever sent as a credential, never in a URL
    assert all(expected not in str(r.url) for r in fake.requests)
    # later calls in this process do not touch LiteLLM
    before = len(fake.requests)
    assert run(acc.managed_key(ALICE)) == expected
    assert len(fake.requests) == before


def test_existing_managed_key_is_reused_not_recreated() -> None:
    fake = FakeLiteLLM()
    fake.users[ALICE.user_id] = {"user_id": ALICE.user_id, "user_role": "internal_user"}
    fake.keys[derive_managed_key(SALT, ALICE.user_id)] = {"user_id": ALICE.user_id}
    assert run(accounts(fake).managed_key(ALICE)) == derive_managed_key(SALT, ALICE.user_id)
    assert fake.calls("POST", "/key/generate") == [] and fake.calls("POST", "/user/new") == []


def test_taken_alias_falls_back_to_no_alias() -> None:
    fake = FakeLiteLLM()
    fake.key_generate_errors = [(400, {"error": {"message": "Key with alias 'x' already exists."}})]
    run(accounts(fake).managed_key(ALICE))
    first, second = fake.calls("POST", "/key/generate")
    assert "key_alias" in json.loads(first.content) and "key_alias" not in json.loads(second.content)


def test_managed_key_rechecked_after_cache_ttl() -> None:
    fake = FakeLiteLLM()
    acc = accounts(fake, cache_ttl=0.05)
    run(acc.managed_key(ALICE))
    del fake.keys[derive_managed_key(SALT, ALICE.user_id)]  # an administrator deleted it
    time.sleep(0.1)
    run(acc.managed_key(ALICE))
    assert len(fake.calls("POST", "/key/generate")) == 2


def test_accounts_only_serve_jwt_principals_and_need_the_master_key() -> None:
    fake = FakeLiteLLM()
    with pytest.raises(GatewayError) as info:
        run(accounts(fake).managed_key(Principal(type="key", user_id="alice", key_hash="h")))
    assert info.value.kind is ErrorKind.INTERNAL
    acc = Accounts(fake.client(), master_key=None, hash_salt=SALT, defaults=DEFAULTS)
    with pytest.raises(GatewayError) as info:
        run(acc.new_key_for(ALICE))
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert fake.requests == []


def test_litellm_down_while_checking_the_managed_key_is_503() -> None:
    fake = FakeLiteLLM()
    fake.users[ALICE.user_id] = {"user_id": ALICE.user_id, "user_role": "internal_user"}
    fake.key_info_status = 503
    with pytest.raises(GatewayError) as info:
        run(accounts(fake).managed_key(ALICE))
    assert info.value.kind is ErrorKind.UNAVAILABLE
