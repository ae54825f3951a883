"""Agent frameworks written for Bedrock reach any LiteLLM model through the Converse interface,
unchanged: the LangChain and Strands samples run in their own virtualenv (``.venv-clients``, see
requirements-clients.txt) against the local stack."""

from __future__ import annotations

import os
import subprocess

import pytest

from devstack.stack import REPO_ROOT

CLIENTS_PYTHON = REPO_ROOT / ".venv-clients" / "bin" / "python"


def run_sample(name: str, gateway_url: str, key: str) -> str:
    if not CLIENTS_PYTHON.exists():
        pytest.fail("the clients virtualenv is missing: run `make install` (make test does)")
    env = {**os.environ, "API_ENDPOINT": gateway_url, "API_KEY": key, "MODEL_ID": "fake", "AWS_REGION": "us-east-1"}
    env.pop("AWS_BEARER_TOKEN_BEDROCK", None)
    result = subprocess.run(
        [str(CLIENTS_PYTHON), str(REPO_ROOT / "samples" / name)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_langchain_invoke_stream_and_tool_calling(gateway_url, master_key):
    out = run_sample("langchain_converse.py", gateway_url, master_key)
    assert "invoke: Echo: Hello from LangChain!" in out
    assert "'output_tokens': " in out  # usage metadata came through
    assert "stream: Echo: Stream, please" in out
    assert "tool call: get_weather {'city': 'test'}" in out


def test_strands_agent_calls_one_tool_and_answers(gateway_url, master_key):
    out = run_sample("strands_agent.py", gateway_url, master_key)
    assert "tool called: get_weather('test')" in out
    assert "answer: Tool said: sunny in test" in out
