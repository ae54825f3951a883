"""Okta (any OIDC issuer) sign-in to the gateway: JWT → LiteLLM user + key → chat.

1. ``POST /user/new`` with ``Authorization: Bearer <JWT>`` and an empty body creates (or finds) the
   LiteLLM ``internal_user`` whose ``user_id`` is the token's ``sub`` (``user_email`` its ``email``)
   and returns a new API key for it. Budgets and limits come from the gateway's configured defaults;
   a JWT caller cannot choose them.
2. ``POST /key/generate`` with that key mints another key for the same user (only for yourself:
   another ``user_id`` is refused with 403).
3. The key works like any gateway key (OpenAI SDK here; boto3 Converse likewise).

The gateway must trust the issuer: ``OKTA_ISSUER`` (e.g. https://dev-123.okta.com/oauth2/default) and
``OKTA_AUDIENCE`` (default ``api://default``) in its environment / ``.env``. Get an access token from
your Okta app, e.g. with the client-credentials or authorization-code flow, and export it.

Environment (defaults fit ``make local``):
    API_ENDPOINT  gateway base URL (default http://127.0.0.1:8080)
    OKTA_TOKEN    an access token (JWT) issued by OKTA_ISSUER for OKTA_AUDIENCE (required)
    MODEL_ID      a model name the gateway serves (default mock-gpt)

Run: ``OKTA_TOKEN=eyJ... python samples/okta_user.py`` (needs ``pip install openai`` — httpx comes with it).
"""

from __future__ import annotations

import os

import httpx
import openai
from gateway_env import error_message, fail, gateway_url


def masked(key: str) -> str:
    """Enough of a key to tell keys apart in a log, never the key itself."""
    return f"{key[:5]}…{key[-4:]}" if len(key) > 12 else "…"


def post(http: httpx.Client, path: str, token: str, body: dict) -> dict:
    response = http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code >= 300:
        hint = ""
        if response.status_code == 401:
            hint = " (is the token valid, unexpired, and issued by the gateway's OKTA_ISSUER?)"
        fail(f"POST {path} answered HTTP {response.status_code}{hint}: {response.text}")
    return response.json()


def main() -> None:
    token = os.environ.get("OKTA_TOKEN", "").strip()
    if not token:
        fail("set OKTA_TOKEN to an Okta (OIDC) access token issued for the gateway's OKTA_AUDIENCE")
    base = gateway_url()
    model = os.environ.get("MODEL_ID", "mock-gpt")
    print(f"gateway: {base}\n")
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            # 1. the JWT provisions (or finds) the user and returns a key for it
            user = post(http, "/user/new", token, {})
            key = user["key"]
            print(f"user_id: {user.get('user_id')}  email: {user.get('user_email')}  role: {user.get('user_role')}")
            print(f"budget: {user.get('max_budget')} per {user.get('budget_duration')}  key: {masked(key)}")

            # 2. a second key for the same user, minted with the first one
            second = post(http, "/key/generate", key, {"user_id": user["user_id"]})
            print(f"second key: {masked(second['key'])} for user_id {second.get('user_id')}\n")
    except httpx.HTTPError as exc:
        fail(f"cannot reach the gateway at {base}: {exc}")

    # 3. the key works like any other gateway key
    try:
        chat = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=2)
        reply = chat.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello from Okta!"}])
    except openai.APIConnectionError as exc:
        fail(f"cannot reach the gateway at {base}: {exc}")
    except openai.APIStatusError as exc:
        fail(f"chat with the new key failed, HTTP {exc.status_code}: {error_message(exc)}")
    print(f"> Hello from Okta!\nanswer: {reply.choices[0].message.content}")


if __name__ == "__main__":
    main()
