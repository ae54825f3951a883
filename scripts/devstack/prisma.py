"""LiteLLM's database mode offline: the shared offline-prisma kit, when it is there.

Prisma's native engines are normally downloaded at run time, which these machines cannot do. The
kit (``../shared/offline-prisma`` next to the repository, or ``$OFFLINE_PRISMA_KIT``) provides a
stand-in engine and applies LiteLLM's migrations with psql.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def find_kit(repo_root: Path, env: Mapping[str, str]) -> Path | None:
    """The kit's folder, or None (``OFFLINE_PRISMA_KIT=off`` forces LiteLLM to run without a database)."""
    if env.get("OFFLINE_PRISMA_KIT", "").lower() in ("off", "none", "0", "false"):
        return None
    candidates = [env.get("OFFLINE_PRISMA_KIT"), str(repo_root.parent / "shared" / "offline-prisma")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "setup.sh").is_file():
            return Path(candidate)
    return None


def _bash(script: Path, *args: str, env: Mapping[str, str]) -> None:
    out = subprocess.run(["bash", str(script), *args], env=dict(env), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{out.stderr or out.stdout}")


def prepare_database_mode(kit: Path, python: str, database_url: str, env: Mapping[str, str]) -> dict[str, str]:
    """Install the engine stand-in, migrate ``database_url``; return the env LiteLLM needs."""
    _bash(kit / "setup.sh", python, env=env)
    _bash(kit / "migrate.sh", python, database_url, env=env)
    dump = subprocess.run(
        ["bash", "-c", f'source "{kit}/env.sh" >/dev/null && env -0'],
        env=dict(env),
        capture_output=True,
        check=True,
    ).stdout
    kit_env = dict(item.split("=", 1) for item in dump.decode().split("\0") if "=" in item)
    return {k: v for k, v in kit_env.items() if env.get(k) != v}
