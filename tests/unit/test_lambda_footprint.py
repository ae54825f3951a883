"""Cold-start and size budgets of the Lambda functions, checked on a Lambda-like environment.

The functions run with only the layer's requirements (``layers/gateway/requirements.txt``) plus
the boto3 the Python runtime ships; the dev virtualenv has far more (LiteLLM, rich, …) and would
hide heavy imports. So the test builds that environment once (cached under ``.local/``) and
imports each entry module there with ``python -X importtime``.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "layers" / "gateway" / "requirements.txt"
RUNTIME_PROVIDED = ["boto3==1.44.8"]  # in the python3.13 managed runtime; the layer leaves it out
IMPORT_BUDGET_MS = 300
PACKAGE_BUDGET_MB = 30
HEAVY = ("litellm", "openai", "rich", "pandas", "numpy", "langchain", "fastapi", "pydantic", "aiohttp")
ENTRY_POINTS = {"api": ("functions/api", "main"), "authorizer": ("functions/authorizer", "handler")}


@pytest.fixture(scope="module")
def lambda_python() -> Path:
    key = hashlib.sha256((REQUIREMENTS.read_text() + "".join(RUNTIME_PROVIDED)).encode()).hexdigest()[:12]
    home = ROOT / ".local" / f"lambda-venv-{key}"
    python = home / "bin" / "python"
    if not (home / ".complete").exists():
        venv.create(home, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(REQUIREMENTS), *RUNTIME_PROVIDED],
            check=True,
        )  # fmt: skip
        (home / ".complete").touch()
    return python


def import_profile(python: Path, folder: str, module: str) -> tuple[float, set[str]]:
    """(cumulative import time of ``module`` in ms — best of 3, imported top-level packages)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT / 'layers' / 'gateway'}{os.pathsep}{ROOT / folder}",
        "LITELLM_MASTER_KEY": "sk-footprint",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    best, packages = float("inf"), set()
    for _ in range(3):
        out = subprocess.run(
            [str(python), "-X", "importtime", "-c", f"import {module}, sys; print(*sys.modules)"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        total = re.findall(rf"import time:\s+\d+ \|\s+(\d+) \| {module}$", out.stderr, re.MULTILINE)
        best = min(best, int(total[-1]) / 1000)
        packages = {name.split(".")[0] for name in out.stdout.split()}
    return best, packages


@pytest.mark.parametrize("function", sorted(ENTRY_POINTS))
def test_entry_module_imports_fast_and_nothing_heavy(lambda_python, function):
    folder, module = ENTRY_POINTS[function]
    elapsed_ms, packages = import_profile(lambda_python, folder, module)
    assert not packages & set(HEAVY), f"{function} imports {sorted(packages & set(HEAVY))}"
    assert elapsed_ms <= IMPORT_BUDGET_MS, f"{function} entry import took {elapsed_ms:.0f} ms"


def test_function_code_and_layer_fit_the_size_budget(lambda_python):
    site = next((lambda_python.parent.parent / "lib").glob("python3*/site-packages"))
    provided = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3", "pip", "setuptools"}

    def size(path: Path) -> int:
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)

    layer = sum(
        size(p) if p.is_dir() else p.stat().st_size
        for p in site.iterdir()
        if p.name.split("-")[0].split(".")[0].lower() not in provided and not p.name.endswith(".dist-info")
    )
    gateway_code = size(ROOT / "layers" / "gateway" / "gateway")
    for function, (folder, _) in ENTRY_POINTS.items():
        total_mb = (layer + gateway_code + size(ROOT / folder)) / 1024 / 1024
        assert total_mb <= PACKAGE_BUDGET_MB, f"{function}: {total_mb:.1f} MB unzipped"


if __name__ == "__main__":  # a quick report: python tests/unit/test_lambda_footprint.py
    sys.exit(pytest.main([__file__, "-q"]))
