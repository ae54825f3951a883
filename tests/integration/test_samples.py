"""The runnable samples and the model-comparison script, run as a user would, against the local stack.

Each script runs in a subprocess with ``API_ENDPOINT``/``API_KEY`` pointing at the session's stack and
``MODEL_ID=fake`` (the fake upstream echoes "Echo: <last user text>"), and must exit 0 with the
answers, usage and session ids on stdout.
"""

from __future__ import annotations

import csv
import inspect
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.processes import free_port
from devstack.stack import REPO_ROOT
from tests.support.fake_bedrock_agent import FakeBedrockAgent, text_variant
from tests.support.oidc_issuer import OidcIssuer

SAMPLES = REPO_ROOT / "samples"
BENCHMARK = REPO_ROOT / "scripts" / "benchmark.py"
# settings a developer's shell may carry that would change what the scripts do
_SCRUBBED = ("API_ENDPOINT", "API_KEY", "MODEL_ID", "OKTA_TOKEN", "PROMPT_ARN", "PROMPT_VARIABLES",
             "AWS_BEARER_TOKEN_BEDROCK", "AWS_PROFILE", "BENCHMARK_MODELS", "BENCHMARK_CONCURRENCY",
             "BENCHMARK_MAX_TOKENS")  # fmt: skip


def run_script(script: Path, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    full_env.update({"AWS_REGION": "us-east-1", "PYTHONUNBUFFERED": "1", **env})
    return subprocess.run(
        [sys.executable, str(script), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        check=False,
    )


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def session_ids(stdout: str) -> list[str]:
    return re.findall(r"^session id: (\S+)$", stdout, re.M)


@pytest.fixture
def sample_env(gateway_url, user_key) -> dict[str, str]:
    return {"API_ENDPOINT": gateway_url, "API_KEY": user_key, "MODEL_ID": "fake"}


# --- boto3 Converse samples ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/bedrock"], ids=["base-url", "bedrock-url"])
def test_converse_synchronous_sample(sample_env, suffix):
    env = {**sample_env, "API_ENDPOINT": sample_env["API_ENDPOINT"] + suffix}
    out = succeeded(run_script(SAMPLES / "test-middleware-synchronous.py", env))
    assert "answer: Echo: Hello, how are you?" in out
    assert "answer: Echo: What did I last say to you?" in out
    assert "stop reason: end_turn" in out
    usage = [tuple(map(int, m)) for m in re.findall(r"^usage: (\d+) in \+ (\d+) out = (\d+) tokens$", out, re.M)]
    assert len(usage) == 2 and all(i + o == t and o > 0 for i, o, t in usage)
    assert usage[1][0] > usage[0][0], "the second turn must carry the stored first turn"
    ids = session_ids(out)
    assert len(ids) == 2 and ids[0] == ids[1] != "None"


def test_converse_streaming_sample(sample_env):
    out = succeeded(run_script(SAMPLES / "test-middleware-streaming.py", sample_env))
    assert "answer: Echo: Tell me a short story." in out
    assert "answer: Echo: What did I last say to you?" in out
    assert out.count("stop reason: end_turn") == 2
    usage = re.findall(r"^usage: (\d+) in \+ (\d+) out = (\d+) tokens$", out, re.M)
    assert len(usage) == 2 and int(usage[1][0]) > int(usage[0][0])
    ids = session_ids(out)
    assert len(ids) == 2 and ids[0] == ids[1] != "None"


@pytest.mark.parametrize("script", ["test-middleware-synchronous.py", "test-middleware-streaming.py"])
def test_converse_samples_fail_clearly_with_a_bad_key(sample_env, script):
    result = run_script(SAMPLES / script, {**sample_env, "API_KEY": "sk-not-a-key"})
    assert result.returncode != 0
    assert "AccessDeniedException" in result.stderr
    assert "Traceback" not in result.stderr


def test_openai_sample_fails_clearly_with_a_bad_key(sample_env):
    result = run_script(SAMPLES / "openai_chat.py", {**sample_env, "API_KEY": "sk-not-a-key"})
    assert result.returncode != 0
    assert "error: HTTP 401: invalid API key" in result.stderr
    assert "Traceback" not in result.stderr


def test_sample_fails_clearly_when_the_gateway_is_down(sample_env):
    result = run_script(SAMPLES / "openai_chat.py", {**sample_env, "API_ENDPOINT": "http://127.0.0.1:9"})
    assert result.returncode != 0
    assert "cannot reach the gateway" in result.stderr
    assert "Traceback" not in result.stderr


# --- OpenAI SDK -------------------------------------------------------------------------------------


def test_openai_chat_sample(sample_env):
    out = succeeded(run_script(SAMPLES / "openai_chat.py", sample_env))
    assert "answer: Echo: Hello, how are you?" in out
    assert "answer: Echo: What did I last say to you?" in out
    assert out.count("finish reason: stop") == 2
    assert len(re.findall(r"^usage: \d+ in \+ \d+ out = \d+ tokens$", out, re.M)) == 2
    ids = session_ids(out)
    assert len(ids) == 2 and ids[0] == ids[1] != "None"


# --- the Anthropic SDK's Bedrock client (InvokeModel routes) -----------------------------------------

USAGE = re.compile(r"^usage: (\d+) in \+ (\d+) out = (\d+) tokens$", re.M)


def test_anthropic_bedrock_sample(sample_env):
    # fake-chat: LiteLLM's /v1/messages reaches it over chat completions (it sends `openai/*` models,
    # such as `fake`, to the Responses API, which the fake upstream does not serve)
    out = succeeded(run_script(SAMPLES / "anthropic_bedrock.py", {**sample_env, "MODEL_ID": "fake-chat"}))
    assert "answer: Echo: Hello, how are you?" in out
    assert "answer: Echo: Tell me a short story." in out  # streamed
    assert "tool call: get_weather({'city': 'test'}) -> 21 C and sunny in test" in out
    assert "answer: Tool said: 21 C and sunny in test" in out  # the tool result reached the model
    assert out.count("stop reason: end_turn") == 3
    usage = [tuple(map(int, m)) for m in USAGE.findall(out)]
    assert len(usage) == 3 and all(i + o == t and i > 0 and o > 0 for i, o, t in usage)


def test_anthropic_bedrock_sample_with_its_default_model(gateway_url, user_key):
    """No MODEL_ID: ``mock-gpt``, LiteLLM's offline mock (what ``make local`` serves), which calls no tool."""
    out = succeeded(run_script(SAMPLES / "anthropic_bedrock.py", {"API_ENDPOINT": gateway_url, "API_KEY": user_key}))
    assert out.count("answer: Hello from the mock.") == 2
    assert "answer (the model called no tool): Hello from the mock." in out


def test_anthropic_bedrock_sample_fails_clearly_with_a_bad_key(sample_env):
    result = run_script(SAMPLES / "anthropic_bedrock.py", {**sample_env, "API_KEY": "sk-not-a-key"})
    assert result.returncode != 0
    assert "error: HTTP 401: " in result.stderr
    assert "Traceback" not in result.stderr


# --- chat history -----------------------------------------------------------------------------------


def test_chat_history_sample(sample_env, gateway_url, user_key):
    probe = httpx.post(f"{gateway_url}/session-ids", json={}, headers={"Authorization": f"Bearer {user_key}"})
    if probe.status_code in (404, 405):
        pytest.skip(f"POST /session-ids is not served yet (HTTP {probe.status_code})")
    out = succeeded(run_script(SAMPLES / "chat_history.py", sample_env))
    assert "[openai]  Echo: My name is Ada and I like graph theory." in out
    assert "[bedrock] Echo: What is my name?" in out
    assert "POST /chat-history: 4 messages (OpenAI format)" in out
    assert "  user: My name is Ada and I like graph theory." in out
    assert "POST /bedrock/chat-history: 4 messages (Converse format)" in out
    assert '  user: [{"text": "What is my name?"}]' in out
    assert "this one listed: yes" in out


# --- managed prompts and Okta: a middleware instance configured for them, next to the session's stack ---


def extra_middleware(stack, name: str, env: dict[str, str]) -> str:
    """Another middleware instance of the shared stack with ``env`` on top (as the feature tests do)."""
    if "env_overrides" not in inspect.signature(stack.start_middleware).parameters:
        pytest.skip("LocalStack.start_middleware(env_overrides=...) is not available yet")
    return stack.start_middleware(name, free_port(), env_overrides=env)


@pytest.fixture(scope="module")
def prompt_gateway(stack) -> Iterator[tuple[str, str]]:
    """(gateway URL, prompt ARN): a TEXT prompt for the `fake` model, served by the bedrock-agent stand-in."""
    with FakeBedrockAgent() as agent:
        prompt_id = agent.put_prompt(text_variant("Tell me one fact about {{topic}}.", model_id="fake"))
        url = extra_middleware(stack, "middleware-samples-prompts", {"AWS_ENDPOINT_URL_BEDROCK_AGENT": agent.url})
        yield url, agent.arn(prompt_id, agent.create_version(prompt_id))


def test_managed_prompts_sample(prompt_gateway, user_key):
    url, arn = prompt_gateway
    probe = httpx.post(
        f"{url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {user_key}"},
        json={"model": arn, "messages": [], "promptVariables": {"topic": {"text": "probes"}}},
        timeout=30,
    )
    if probe.status_code in (400, 404, 405) and "Invalid model name" in probe.text:
        pytest.skip(f"managed prompts are not resolved by the gateway yet: {probe.text[:200]}")
    env = {"API_ENDPOINT": url, "API_KEY": user_key, "PROMPT_ARN": arn, "PROMPT_VARIABLES": '{"topic": "otters"}'}
    out = succeeded(run_script(SAMPLES / "managed_prompts.py", env))
    assert "[openai] answer: Echo: Tell me one fact about otters." in out
    assert "[converse] answer: Echo: Tell me one fact about otters." in out
    assert "[converse-stream] answer: Echo: Tell me one fact about otters." in out


def test_managed_prompts_sample_needs_a_prompt_arn(sample_env):
    result = run_script(SAMPLES / "managed_prompts.py", sample_env)
    assert result.returncode != 0
    assert "set PROMPT_ARN" in result.stderr


@pytest.fixture(scope="module")
def okta_gateway(stack) -> Iterator[tuple[str, OidcIssuer]]:
    """(gateway URL, issuer): a middleware instance that trusts a local OIDC issuer."""
    with OidcIssuer() as idp:
        url = extra_middleware(stack, "middleware-samples-okta", {"OKTA_ISSUER": idp.issuer})
        yield url, idp


def test_okta_user_sample(okta_gateway):
    url, idp = okta_gateway
    sub = f"sample-{uuid.uuid4().hex[:8]}@example.com"
    token = idp.mint(idp.claims(sub=sub, email=sub))
    result = run_script(SAMPLES / "okta_user.py", {"API_ENDPOINT": url, "OKTA_TOKEN": token, "MODEL_ID": "fake"})
    if result.returncode and re.search(r"POST /user/new answered HTTP (401|404|405)", result.stderr):
        pytest.skip(f"JWT provisioning on POST /user/new is not served yet: {result.stderr.strip()[:200]}")
    out = succeeded(result)
    assert f"user_id: {sub}" in out
    assert "role: internal_user" in out
    assert "second key: sk-" in out and f"for user_id {sub}" in out
    assert "answer: Echo: Hello from Okta!" in out
    assert token not in out


def test_okta_user_sample_needs_a_token(sample_env):
    result = run_script(SAMPLES / "okta_user.py", {"API_ENDPOINT": sample_env["API_ENDPOINT"]})
    assert result.returncode != 0
    assert "set OKTA_TOKEN" in result.stderr


# --- scripts/benchmark.py ---------------------------------------------------------------------------


def litellm_cost(gateway_url: str, key: str, model: str) -> float | None:
    """The cost header the gateway relays for one call to ``model`` (None when LiteLLM sent none)."""
    response = httpx.post(
        f"{gateway_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "messages": [{"role": "user", "content": "price check"}], "max_tokens": 512},
        timeout=30,
    )
    response.raise_for_status()
    cost = response.headers.get("x-litellm-response-cost")
    return None if cost is None else float(cost)


def test_benchmark_compares_models_and_writes_json_and_csv(gateway_url, master_key, tmp_path):
    json_out, csv_out = tmp_path / "results.json", tmp_path / "results.csv"
    result = run_script(
        BENCHMARK,
        {"API_ENDPOINT": gateway_url, "API_KEY": master_key},
        "--env-file", str(tmp_path / "absent.env"),
        "--models", "fake,mock-gpt,no-such-model",
        "--question", "What is two plus two?",
        "--question", "Name a colour.",
        "--concurrency", "3",
        "--out", str(json_out),
        "--out", str(csv_out),
    )  # fmt: skip
    out = succeeded(result)

    data = json.loads(json_out.read_text())
    assert data["models"] == ["fake", "mock-gpt", "no-such-model"]
    results = data["results"]
    assert len(results) == 6
    ok = [r for r in results if r["ok"]]
    assert {r["model"] for r in ok} == {"fake", "mock-gpt"} and len(ok) == 4
    # the cost is LiteLLM's x-litellm-response-cost header, absent for a model LiteLLM has no price for
    priced = {model: litellm_cost(gateway_url, master_key, model) is not None for model in ("fake", "mock-gpt")}
    for r in ok:
        assert r["seconds"] > 0 and r["total_tokens"] > 0
        assert (r["cost_usd"] is not None) == priced[r["model"]]
        assert r["cost_usd"] is None or r["cost_usd"] >= 0
    fake = {r["question"]: r["answer"] for r in ok if r["model"] == "fake"}
    assert fake == {"What is two plus two?": "Echo: What is two plus two?", "Name a colour.": "Echo: Name a colour."}
    assert all(r["answer"] == "Hello from the mock." for r in ok if r["model"] == "mock-gpt")
    failed = [r for r in results if not r["ok"]]
    assert {r["model"] for r in failed} == {"no-such-model"} and all(r["error"] for r in failed)

    summary = {s["model"]: s for s in data["summary"]}
    assert summary["fake"]["succeeded"] == 2 and summary["fake"]["failed"] == 0
    assert summary["fake"]["p50_seconds"] <= summary["fake"]["p95_seconds"]
    assert summary["no-such-model"]["failed"] == 2 and summary["no-such-model"]["mean_seconds"] is None

    with csv_out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert [(r["model"], r["ok"]) for r in rows[:2]] == [("fake", "True"), ("fake", "True")]

    # the printed report: answers, the summary table and the failures per model
    assert "Echo: Name a colour." in out
    assert re.search(r"^fake\s+2\s+0\s", out, re.M)
    assert re.search(r"^no-such-model\s+0\s+2\s", out, re.M)
    assert "=== Failures" in out and "no-such-model: 2 of 2 failed" in out


def test_benchmark_reads_models_from_the_env_file(gateway_url, master_key, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f'# comment\nexport API_ENDPOINT="{gateway_url}"\nBENCHMARK_MODELS=fake\n')
    result = run_script(
        BENCHMARK, {"API_KEY": master_key}, "--env-file", str(env_file), "--question", "hi there", "--no-answers"
    )
    out = succeeded(result)
    assert re.search(r"^fake\s+1\s+0\s", out, re.M)
    assert "Echo: hi there" not in out


def test_benchmark_exits_1_when_every_call_fails(gateway_url, master_key, tmp_path):
    result = run_script(
        BENCHMARK,
        {"API_ENDPOINT": gateway_url, "API_KEY": master_key},
        "--env-file", str(tmp_path / "absent.env"), "--models", "no-such-model", "--question", "hi",
    )  # fmt: skip
    assert result.returncode == 1
    assert "no-such-model: 1 of 1 failed" in result.stdout
    assert "Traceback" not in result.stderr


def test_benchmark_plot_needs_matplotlib_or_draws_the_png(gateway_url, master_key, tmp_path):
    png = tmp_path / "results.png"
    result = run_script(
        BENCHMARK,
        {"API_ENDPOINT": gateway_url, "API_KEY": master_key},
        "--env-file", str(tmp_path / "absent.env"), "--models", "fake", "--question", "hi", "--plot", str(png),
    )  # fmt: skip
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert result.returncode == 2
        assert "--plot needs matplotlib" in result.stderr
        assert not png.exists()
    else:
        succeeded(result)
        assert png.read_bytes().startswith(b"\x89PNG")
