"""`make local`'s program (`python -m devstack`) as a newcomer runs it: it says when it is ready,
and SIGTERM leaves nothing running or listening."""

from __future__ import annotations

import os
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


def test_without_a_prisma_engine_it_starts_without_the_database_and_says_so(tmp_path):
    text, _, _ = run_local_gateway(tmp_path, OFFLINE_PRISMA_KIT="off")
    assert "DATABASE MODE OFF" in text
    assert not (tmp_path / "local" / "pgdata").exists()
