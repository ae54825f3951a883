"""GUARDRAIL_MAP is checked at synth, with the middleware's rules, and passed on compact."""

from __future__ import annotations

import json

import pytest

from gateway_cdk.settings import Settings, SettingsError


def test_a_valid_map_is_kept_and_no_map_is_none() -> None:
    settings = Settings.from_env({"GUARDRAIL_MAP": ' { "gr1:2" : "pii",  "gr3": ["a", "b"] } '})
    assert settings.guardrail_map == '{"gr1:2":"pii","gr3":["a","b"]}'
    assert json.loads(settings.guardrail_map) == {"gr1:2": "pii", "gr3": ["a", "b"]}
    assert Settings.from_env({}).guardrail_map is None


@pytest.mark.parametrize("raw", ["{", '["pii"]', '{"gr1": 3}', '{"gr1": []}', '{"gr1": ["a", ""]}', '{" ": "a"}'])
def test_a_malformed_map_stops_the_synth(raw: str) -> None:
    with pytest.raises(SettingsError, match=r"^GUARDRAIL_MAP: "):
        Settings.from_env({"GUARDRAIL_MAP": raw})
