"""Build the ``gateway`` Lambda layer at synth time, without Docker.

``pip install --platform manylinux… --only-binary=:all:`` fetches the wheels Lambda runs (CPython 3.13,
arm64 or x86_64) on any build machine, and the ``gateway`` package is copied beside them. The result is
cached under ``.local/cdk-build/layer-<hash>`` where the hash covers every input (requirements, the
package's files, architecture, Python version, this module), so a second synth reuses it in
milliseconds and any change rebuilds.

Example::

    path = build_layer(Path("layers/gateway"), Path(".local/cdk-build"), "arm64")
    lambda_.LayerVersion(self, "Gateway", code=lambda_.Code.from_asset(str(path)))
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

#: The Lambda runtime the layer targets.
PYTHON_VERSION = "3.13"
#: glibc levels the python3.13 runtime (Amazon Linux 2023, glibc 2.34) can load, newest first.
_MANYLINUX = ("manylinux_2_34", "manylinux_2_28", "manylinux2014")
_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
#: Provided by the Lambda Python runtime itself; shipping them again only adds ~25 MB.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
_SKIP_DIRS = {"__pycache__", "tests", "test"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".pyi")


class LayerBuildError(RuntimeError):
    """pip could not produce the layer; the message carries pip's output."""


def _source_files(package_dir: Path) -> list[Path]:
    return sorted(
        p for p in package_dir.rglob("*") if p.is_file() and not (_SKIP_DIRS & set(p.parts)) and p.suffix != ".pyc"
    )


def input_hash(layer_src: Path, architecture: str, extra: Iterable[str] = ()) -> str:
    """Hash of everything that decides the layer's content."""
    digest = hashlib.sha256()
    for part in (PYTHON_VERSION, architecture, *_MANYLINUX, *RUNTIME_PROVIDED, *extra):
        digest.update(part.encode() + b"\0")
    digest.update(Path(__file__).read_bytes())
    requirements = layer_src / "requirements.txt"
    digest.update(requirements.read_bytes())
    for path in _source_files(layer_src / "gateway"):
        digest.update(str(path.relative_to(layer_src)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def pip_command(requirements: Path, target: Path, architecture: str) -> list[str]:
    """The pip invocation that fetches Lambda-compatible wheels only (no sdist builds, no Docker)."""
    machine = _MACHINE[architecture]
    platforms = [arg for tag in _MANYLINUX for arg in ("--platform", f"{tag}_{machine}")]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]


def _prune(site: Path) -> None:
    """Drop what the runtime provides and what is never imported (caches, tests, stubs, RECORDs)."""
    for name in RUNTIME_PROVIDED:
        shutil.rmtree(site / name, ignore_errors=True)
        for info in site.glob(f"{name}-*.dist-info"):
            shutil.rmtree(info, ignore_errors=True)
    shutil.rmtree(site / "bin", ignore_errors=True)
    for path in sorted(site.rglob("*"), reverse=True):
        if path.is_dir() and path.name in _SKIP_DIRS and "dist-info" not in path.parent.name:
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and (path.suffix in _SKIP_SUFFIXES or path.name == "RECORD"):
            path.unlink()


def build_layer(layer_src: Path, cache_root: Path, architecture: str) -> Path:
    """Return a directory laid out as a Lambda layer (``python/…``), building it if not cached."""
    if architecture not in _MACHINE:
        raise ValueError(f"architecture must be one of {sorted(_MACHINE)}, got {architecture!r}")
    out = cache_root / f"layer-{architecture}-{input_hash(layer_src, architecture)}"
    if (out / ".complete").is_file():
        return out
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="layer-", dir=cache_root))
    try:
        site = staging / "python"
        env = {**os.environ, "PIP_NO_INPUT": "1"}
        result = subprocess.run(
            pip_command(layer_src / "requirements.txt", site, architecture),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise LayerBuildError(f"pip failed building the gateway layer:\n{result.stdout}\n{result.stderr}")
        shutil.copytree(
            layer_src / "gateway",
            site / "gateway",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"),
        )
        _prune(site)
        (staging / ".complete").write_text(f"{architecture} python{PYTHON_VERSION}\n")
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _evict_old(cache_root, keep=out, architecture=architecture)
    return out


def _evict_old(cache_root: Path, keep: Path, architecture: str, retain: int = 3) -> None:
    """Keep the few most recent builds per architecture so ``.local`` does not grow forever."""
    builds = sorted(
        (p for p in cache_root.glob(f"layer-{architecture}-*") if p != keep and p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[retain - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
