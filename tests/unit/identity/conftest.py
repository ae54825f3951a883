from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.oidc_issuer import OidcIssuer


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcIssuer]:
    """A shared issuer for tests that do not change its keys or knobs."""
    with OidcIssuer() as issuer:
        yield issuer


@pytest.fixture
def fresh_idp() -> Iterator[OidcIssuer]:
    """A private issuer for tests that rotate keys, count fetches or break discovery."""
    with OidcIssuer() as issuer:
        yield issuer
