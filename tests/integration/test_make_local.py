"""`make local`'s program (`python -m devstack`) as a newcomer runs it: it says when it is ready,
and SIGTERM leaves nothing running or listening."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from devstack.processes import free_port, port_is_free
from devstack.stack import REPO_ROOT


def run_local_gateway(tmp_path, **extra_env: str) -> tuple[str, int, int]:
    """Start `python -m devstack`, check it answers, SIGTERM it; (its output, gateway port, LiteLLM port)."""
    gateway_port, litellm_port = free_port(), free_port()
    env = {
        **os.environ,
        "GATEWAY_PORT": str(gateway_port),
        "LITELLM_PORT": str(litellm_port),
        "GATEWAY_LOCAL_DIR": str(tmp_path / "local"),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "scripts"), str(REPO_ROOT / "layers/gateway")]),
    }
    for name in ("LITELLM_MASTER_KEY", "DATABASE_URL", "LITELLM_CONFIG", "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(name, None)
    env.update(extra_env)
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("READY"):
                break
        text = "".join(output)
        assert "READY" in text, text
        key = (tmp_path / "local" / "master_key").read_text().strip()
        assert f"master key  : {key}" in text and f"http://127.0.0.1:{gateway_port}" in text and "curl" in text
        reply = httpx.post(
            f"http://127.0.0.1:{gateway_port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
        assert reply.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert "nothing left listening" in rest
    assert port_is_free(gateway_port) and port_is_free(litellm_port)
    return text, gateway_port, litellm_port


def test_local_gateway_starts_prints_how_to_use_it_and_stops_cleanly(tmp_path):
    text, _, _ = run_local_gateway(tmp_path)
    assert "database mode on" in text
    assert not (tmp_path / "local" / "pgdata" / "postmaster.pid").exists()  # PostgreSQL stopped too


def without_any_engine_source(tmp_path, **extra: str) -> dict[str, str]:
    """The environment of a machine with no offline kit where Prisma's download cannot work: the
    npm registry and the engine mirror on a closed loopback port, an empty Prisma cache."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "scripts"), str(REPO_ROOT / "layers/gateway")]),
        "OFFLINE_PRISMA_KIT": "off",
        "PRISMA_HOME_DIR": str(tmp_path / "prisma-home"),
        "npm_config_registry": closed,
        "npm_config_fetch_retries": "0",
        "PRISMA_ENGINES_MIRROR": closed,
        **extra,
    }
    for name in ("DATABASE_URL", "PRISMA_BINARY_CACHE_DIR", "PRISMA_QUERY_ENGINE_BINARY", "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(name, None)
    return env


def test_without_a_kit_or_an_engine_download_it_stops_with_one_clear_error(tmp_path):
    gateway_port, litellm_port = free_port(), free_port()
    env = without_any_engine_source(
        tmp_path,
        GATEWAY_PORT=str(gateway_port),
        LITELLM_PORT=str(litellm_port),
        GATEWAY_LOCAL_DIR=str(tmp_path / "local"),
    )
    out = subprocess.run(
        [sys.executable, "-m", "devstack"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "READY" not in out.stdout
    assert out.stderr.count("neither source works") == 1, out.stderr
    assert "no offline Prisma kit: OFFLINE_PRISMA_KIT=off" in out.stderr
    assert "ECONNREFUSED" in out.stderr  # the download's own reason, not a stack trace
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "local" / "pgdata").exists()  # decided before starting anything
    assert not (tmp_path / "local" / "logs" / "litellm.log").exists()
    assert port_is_free(gateway_port) and port_is_free(litellm_port)


def test_the_integration_tests_report_that_cause_once(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/integration/test_openai_route.py"],
        env=without_any_engine_source(tmp_path), cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert text.count("neither source works") == 1, text
    assert "integration tests not run: LiteLLM's database mode" in text
    assert "ERROR at setup" not in text and not re.search(r"\d+ errors?\b", text)  # not one per test
