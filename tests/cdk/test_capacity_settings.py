"""Capacity settings of issue 13: the WAF rate limit and the authorizer's reserved concurrency."""

from __future__ import annotations

import pytest

from gateway_cdk.settings import Settings, SettingsError

from .conftest import Synthesized


def test_the_default_waf_limit_lets_a_company_behind_one_nat_address_work() -> None:
    """WAF counts per IP over 5 minutes: 2,000 (~7 requests/s) blocks a whole company sharing one NAT."""
    limit = Settings.from_env({}).sizing.waf_rate_limit
    assert limit >= 50_000
    assert Settings.from_env({"WAF_RATE_LIMIT": "5000"}).sizing.waf_rate_limit == 5000
    with pytest.raises(SettingsError, match=r"^WAF_RATE_LIMIT"):
        Settings.from_env({"WAF_RATE_LIMIT": "lots"})


def test_the_authorizer_keeps_reserved_capacity_by_default() -> None:
    assert Settings.from_env({}).sizing.authorizer_reserved_concurrency == 20
    assert Settings.from_env({"AUTHORIZER_RESERVED_CONCURRENCY": "50"}).sizing.authorizer_reserved_concurrency == 50
    # 0 turns the reservation off (the function would never run with a reservation of 0).
    assert Settings.from_env({"AUTHORIZER_RESERVED_CONCURRENCY": "0"}).sizing.authorizer_reserved_concurrency is None
    with pytest.raises(SettingsError, match=r"^AUTHORIZER_RESERVED_CONCURRENCY"):
        Settings.from_env({"AUTHORIZER_RESERVED_CONCURRENCY": "-1"})


def test_the_deployed_authorizer_has_its_reservation(synth: Synthesized) -> None:
    (authorizer,) = [
        r["Properties"]
        for k, r in synth.resources("AWS::Lambda::Function").items()
        if k.startswith("FunctionsAuthorizer")
    ]
    assert authorizer["ReservedConcurrentExecutions"] == 20
