"""Okta / OIDC JWTs on the Responses API: the call runs with the user's gateway-managed LiteLLM key,
and the stored responses are the user's (shared with the user's own keys, no one else's)."""

from __future__ import annotations

import openai
import pytest

from tests.integration.test_okta import (  # noqa: F401 (fixtures)
    litellm,
    managed_key_row,
    new_sub,
    okta_url,
    poll,
    provision,
    spend_logs_of,
)
from tests.integration.test_responses_api import MODEL, client_for, model_saw, texts


def test_a_jwt_chain_is_charged_to_the_user_and_shared_only_with_the_users_keys(okta_url, idp, litellm):  # noqa: F811
    sub = new_sub("responder")
    token = idp.mint(idp.claims(sub=sub))
    client = client_for(okta_url, token)
    first = client.responses.create(model=MODEL, input="hello from okta")
    assert first.output_text == "Echo: hello from okta"
    streamed = list(client.responses.create(model=MODEL, input="more", previous_response_id=first.id, stream=True))
    last = streamed[-1].response
    third = client.responses.create(model=MODEL, input="__echo_request__", previous_response_id=last.id)
    assert [t for t in texts(model_saw(third)) if t[0] == "user"] == [
        ("user", "hello from okta"),
        ("user", "more"),
        ("user", "__echo_request__"),
    ]

    managed = managed_key_row(litellm, sub)
    logs = poll(
        lambda: len(rows := [r for r in spend_logs_of(litellm, sub) if r["api_key"] == managed["token"]]) >= 3 and rows
    )
    assert logs and all(r["user"] == sub for r in logs)

    own_key = provision(okta_url, token).json()["key"]  # the same user's key reads the JWT's responses
    assert client_for(okta_url, own_key).responses.retrieve(first.id).output_text == "Echo: hello from okta"
    stranger = client_for(okta_url, idp.mint(idp.claims(sub=new_sub("stranger"))))
    with pytest.raises(openai.NotFoundError):
        stranger.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        stranger.responses.create(model=MODEL, input="x", previous_response_id=first.id)
