"""One run of the deployment rehearsal (``python -m rehearsal``, as ``make rehearse``) per session.

It synthesizes the stack, then boots LiteLLM, the functions, PostgreSQL (TLS only) and Redis (TLS +
AUTH) with exactly what the template gives them; only AWS is replaced (see docs/rehearsal.md). As root
it runs in its own network namespace, so the template's fixed ports never collide with other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("rehearsal")
    report = out / "report.json"
    path = os.pathsep.join(str(ROOT / p) for p in ("layers/gateway", "scripts", "."))
    result = subprocess.run(
        [sys.executable, "-m", "rehearsal", "--json", str(report), "--work", str(out / "work")],
        env={**os.environ, "PYTHONPATH": path},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=560,  # inside pytest-timeout's 600 s
        check=False,
    )
    if not report.exists():
        pytest.fail(f"the rehearsal did not finish:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    data = json.loads(report.read_text())
    data["output"] = result.stdout
    return data
