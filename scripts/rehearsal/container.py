"""The LiteLLM container without Docker: the image's files and ``ENV`` from its Dockerfile, its
``ENTRYPOINT`` run as the task starts it, and the task definition's health check command.

Paths the image uses (``/app``, ``/tmp``) are mapped under a per-task root folder; the image's Python
and ``litellm`` are this virtualenv's (the same pinned LiteLLM, ``litellm_service/requirements-local.txt``).
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

IMAGE_PREFIXES = ("/app/", "/tmp/")


@dataclass(frozen=True)
class Image:
    root: Path
    env: dict[str, str]  # the Dockerfile's ENV, paths mapped under root
    entrypoint: list[str]

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")


def _map(root: Path, value: str) -> str:
    return str(root / value.lstrip("/")) if value.startswith(IMAGE_PREFIXES) else value


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buffer = ""
    for line in dockerfile.splitlines():
        if not buffer and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buffer += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            word, _, rest = buffer.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            buffer = ""
    return out


def stage_image(context: Path, root: Path) -> Image:
    """Lay out the image's ``COPY``ed files under ``root`` and read its ``ENV`` and ``ENTRYPOINT``."""
    env: dict[str, str] = {}
    entrypoint: list[str] = []
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    for word, args in _instructions((context / "Dockerfile").read_text()):
        if word == "ENV":
            for item in shlex.split(args):
                name, _, value = item.partition("=")
                env[name] = _map(root, value)
        elif word == "COPY":
            tokens = [t for t in shlex.split(args) if not t.startswith("--")]
            modes = [t.split("=", 1)[1] for t in shlex.split(args) if t.startswith("--chmod=")]
            *sources, dest = tokens
            into_folder = dest.endswith("/") or len(sources) > 1
            target = root / dest.lstrip("/")
            (target if into_folder else target.parent).mkdir(parents=True, exist_ok=True)
            for source in sources:
                copied = Path(shutil.copy2(context / source, target / source if into_folder else target))
                if modes:
                    copied.chmod(int(modes[0], 8))
        elif word == "ENTRYPOINT":
            entrypoint = [_map(root, part) for part in json.loads(args)]
    return Image(root, env, entrypoint)


def container_environment(
    image: Image, task_env: Mapping[str, str], secrets: Mapping[str, str], runtime: Mapping[str, str]
) -> dict[str, str]:
    """What the process sees: image ENV, overridden by the task's Environment and Secrets, plus
    ``runtime`` (what the container runtime and the local stand-ins add; listed in ``docs/rehearsal.md``)."""
    return {**image.env, **runtime, **task_env, **secrets}


def run_health_check(command: list[str], env: Mapping[str, str], timeout: float) -> tuple[bool, str]:
    """Run a task definition ``HealthCheck.Command`` (``CMD-SHELL``/``CMD``) as the container runtime does."""
    kind, *rest = command
    argv = ["/bin/sh", "-c", rest[0]] if kind == "CMD-SHELL" else list(rest)
    try:
        out = subprocess.run(argv, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout} s"
    return out.returncode == 0, (out.stderr or out.stdout)[-300:]
