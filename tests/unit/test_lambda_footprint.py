"""What the Lambda functions load and weigh, on a Lambda-like environment (see ``bench.footprint``).

Functional checks only: no heavy package is imported, and code + layer fit the size budget. The
import *time* depends on the machine's load, so ``make bench`` measures and reports it against its
budget instead of a test asserting on it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.footprint import ENTRY_POINTS, HEAVY, PACKAGE_BUDGET_MB, import_profile, lambda_python, package_mb


@pytest.fixture(scope="module")
def python() -> Path:
    return lambda_python()


@pytest.mark.parametrize("function", sorted(ENTRY_POINTS))
def test_entry_module_imports_nothing_heavy(python, function):
    _, packages = import_profile(python, function, runs=1)
    assert "gateway" in packages  # the profile saw the real import
    assert not packages & set(HEAVY), f"{function} imports {sorted(packages & set(HEAVY))}"


@pytest.mark.parametrize("function", sorted(ENTRY_POINTS))
def test_function_code_and_layer_fit_the_size_budget(python, function):
    assert package_mb(python, function) <= PACKAGE_BUDGET_MB


if __name__ == "__main__":  # a quick report: python tests/unit/test_lambda_footprint.py
    sys.exit(pytest.main([__file__, "-q"]))
