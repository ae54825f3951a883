"""The Lambda functions' footprint on a Lambda-like environment: imports, import time, package size.

The functions run with only the layer's requirements (``layers/gateway/requirements.txt``) plus the
boto3 the Python runtime ships; the dev virtualenv has far more (LiteLLM, rich, …) and would hide
heavy imports. So this builds that environment once (cached under ``.local/``) and imports each
entry module there with ``python -X importtime``. The unit test checks what is imported and the
size; ``make bench`` reports the import time against its budget (a duration is a measurement, not
a test: it depends on the machine's load).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "layers" / "gateway" / "requirements.txt"
RUNTIME_PROVIDED = ["boto3==1.44.8"]  # in the python3.13 managed runtime; the layer leaves it out
IMPORT_BUDGET_MS = 300
PACKAGE_BUDGET_MB = 30
HEAVY = ("litellm", "openai", "rich", "pandas", "numpy", "langchain", "fastapi", "pydantic", "aiohttp")
ENTRY_POINTS = {"api": ("functions/api", "main"), "authorizer": ("functions/authorizer", "handler")}
_PROVIDED_PACKAGES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3", "pip", "setuptools"}


def lambda_python() -> Path:
    """The Lambda-like virtualenv's python (built on first use, keyed by the requirements)."""
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


def import_profile(python: Path, function: str, runs: int = 3) -> tuple[float, set[str]]:
    """(cumulative import time of the entry module in ms, best of ``runs``; top-level packages imported)."""
    folder, module = ENTRY_POINTS[function]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT / 'layers' / 'gateway'}{os.pathsep}{ROOT / folder}",
        "LITELLM_MASTER_KEY": "sk-footprint",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    best, packages = float("inf"), set()
    for _ in range(runs):
        out = subprocess.run(
            [str(python), "-X", "importtime", "-c", f"import {module}, sys; print(*sys.modules)"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        total = re.findall(rf"import time:\s+\d+ \|\s+(\d+) \| {module}$", out.stderr, re.MULTILINE)
        best = min(best, int(total[-1]) / 1000)
        packages = {name.split(".")[0] for name in out.stdout.split()}
    return best, packages


def package_mb(python: Path, function: str) -> float:
    """Unzipped size of the function's code + the gateway package + the layer (runtime-provided left out)."""
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))

    def size(path: Path) -> int:
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)

    layer = sum(
        size(p) if p.is_dir() else p.stat().st_size
        for p in site.iterdir()
        if p.name.split("-")[0].split(".")[0].lower() not in _PROVIDED_PACKAGES and not p.name.endswith(".dist-info")
    )
    folder, _ = ENTRY_POINTS[function]
    return (layer + size(ROOT / "layers" / "gateway" / "gateway") + size(ROOT / folder)) / 1024 / 1024


def report() -> dict[str, dict[str, float | bool]]:
    """Per function: import time and size, each against its budget (for ``make bench``)."""
    python = lambda_python()
    rows: dict[str, dict[str, float | bool]] = {}
    for function in sorted(ENTRY_POINTS):
        elapsed, _ = import_profile(python, function)
        size = package_mb(python, function)
        rows[function] = {
            "import_ms": round(elapsed, 1),
            "import_budget_ms": IMPORT_BUDGET_MS,
            "import_within_budget": elapsed <= IMPORT_BUDGET_MS,
            "package_mb": round(size, 1),
            "package_budget_mb": PACKAGE_BUDGET_MB,
        }
    return rows
