"""LiteLLM's database mode needs Prisma's engines: from the offline kit, or Prisma's own download.

Two ways, tried in this order:

- the offline kit (``../shared/offline-prisma`` next to the repository, or ``$OFFLINE_PRISMA_KIT``;
  ``OFFLINE_PRISMA_KIT=off`` skips it): a stand-in engine, LiteLLM's migrations applied with psql;
- Prisma's normal download: ``prisma generate`` on LiteLLM's schema, which fetches the Prisma CLI
  (npm) and the engines (binaries.prisma.sh) into ``~/.cache/prisma-python`` once; LiteLLM then
  applies its migrations itself (``prisma migrate deploy``) at start-up, as in its container.

When neither works the local stack does not start: without a database LiteLLM has no virtual keys,
users, budgets or Okta provisioning, which is not the gateway.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

GENERATE_TIMEOUT_S = 900  # the first download (CLI + engines) on a slow line


class DatabaseModeUnavailable(RuntimeError):
    """Neither the offline kit nor Prisma's engine download can give LiteLLM its database."""


@dataclass
class DatabasePlan:
    """How LiteLLM gets its database: ``"kit"`` or ``"download"``, and what to run/set for it."""

    way: str
    kit: Path | None = None
    env: dict[str, str] = field(default_factory=dict)


def find_kit(repo_root: Path, env: Mapping[str, str]) -> Path | None:
    """The kit's folder, or None (absent, or ``OFFLINE_PRISMA_KIT=off``)."""
    if env.get("OFFLINE_PRISMA_KIT", "").lower() in ("off", "none", "0", "false"):
        return None
    candidates = [env.get("OFFLINE_PRISMA_KIT"), str(repo_root.parent / "shared" / "offline-prisma")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "setup.sh").is_file():
            return Path(candidate)
    return None


def litellm_schema() -> Path:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseModeUnavailable("litellm is not installed in this virtualenv")
    return Path(next(iter(spec.submodule_search_locations))) / "proxy" / "schema.prisma"


def prisma_generate(python: str, env: Mapping[str, str]) -> tuple[bool, str]:
    """Prisma's normal path: ``prisma generate`` on LiteLLM's schema (downloads on first use)."""
    try:
        out = subprocess.run(
            [python, "-m", "prisma", "generate", "--schema", str(litellm_schema())],
            env=dict(env), capture_output=True, text=True, timeout=GENERATE_TIMEOUT_S, cwd="/",
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return False, f"`prisma generate` did not finish within {GENERATE_TIMEOUT_S} s"
    return out.returncode == 0, (out.stdout + out.stderr).strip()


def plan_database_mode(
    repo_root: Path,
    env: Mapping[str, str],
    python: str,
    generate: Callable[[str, Mapping[str, str]], tuple[bool, str]] = prisma_generate,
) -> DatabasePlan:
    """The kit when present, else Prisma's download; ``DatabaseModeUnavailable`` when neither works."""
    kit = find_kit(repo_root, env)
    if kit is not None:
        return DatabasePlan("kit", kit=kit)
    ok, output = generate(python, env)
    if ok:
        # LiteLLM migrates at start-up with the downloaded CLI and engines; a stale DISABLE from
        # the user's shell would leave the database without tables.
        return DatabasePlan("download", env={"DISABLE_SCHEMA_UPDATE": "false"})
    tail = "\n".join(_cause_lines(output)) or "(no output)"
    raise DatabaseModeUnavailable(
        "LiteLLM's database mode (virtual keys, users, budgets, Okta provisioning) needs Prisma's "
        "engines, and neither source works:\n"
        f"  - no offline Prisma kit: {kit_hint(repo_root, env)};\n"
        "  - Prisma's engine download failed (`prisma generate` fetches the Prisma CLI from the npm "
        "registry and the engines from binaries.prisma.sh; check the network or proxy settings):\n"
        f"{_indent(tail)}\n"
        "Fix one of the two and run again; the local gateway does not start without its database."
    )


def kit_hint(repo_root: Path, env: Mapping[str, str]) -> str:
    if env.get("OFFLINE_PRISMA_KIT", "").lower() in ("off", "none", "0", "false"):
        return "OFFLINE_PRISMA_KIT=off"
    given = env.get("OFFLINE_PRISMA_KIT")
    where = given or str(repo_root.parent / "shared" / "offline-prisma")
    return f"none at {where} (set OFFLINE_PRISMA_KIT to its folder)"


def _cause_lines(output: str, keep: int = 8) -> list[str]:
    """The lines of a failed ``prisma generate`` that say why (no stack frames or tracebacks)."""
    noise = re.compile(r"^(\s|npm error\s{2,}|npm error\s*[{}]?$|Traceback \(most recent call last\))")
    return [line for line in output.splitlines() if line.strip() and not noise.match(line)][-keep:]


def _indent(text: str) -> str:
    return "\n".join(f"      {line}" for line in text.splitlines())


def _bash(script: Path, *args: str, env: Mapping[str, str]) -> None:
    out = subprocess.run(["bash", str(script), *args], env=dict(env), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{out.stderr or out.stdout}")


def prepare_database_mode(kit: Path, python: str, database_url: str, env: Mapping[str, str]) -> dict[str, str]:
    """Install the kit's engine stand-in, migrate ``database_url``; return the env LiteLLM needs."""
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
