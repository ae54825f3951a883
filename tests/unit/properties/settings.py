"""One Hypothesis setting for the property tests: bounded and derandomized, so CI is reproducible."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# derandomize: the same examples on every run (no seed to pass around, no example database)
PROPERTIES = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
