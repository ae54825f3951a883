"""The Anthropic TypeScript SDK's ``AnthropicBedrock`` (``@anthropic-ai/bedrock-sdk``, pinned in
tests/js/package.json, installed by ``make js-clients``) through the local stack, with a gateway key and
with an Okta JWT, against ``fake-chat``: a model that is not Anthropic's (the fake OpenAI-compatible
upstream behind LiteLLM, the one stand-in here).

``node tests/js/anthropic_bedrock.mjs`` runs the SDK as an application does, configured by the SDK's own
environment variables, and prints what each call returned or the SDK error it raised as JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from devstack.processes import free_port
from devstack.stack import REPO_ROOT, LocalStack
from tests.support.oidc_issuer import OidcIssuer

SCRIPT = REPO_ROOT / "tests/js/anthropic_bedrock.mjs"
JS_CLIENTS = Path(os.environ.get("JS_CLIENTS_DIR") or REPO_ROOT / ".local/js-clients")
MODEL = "fake-chat"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if not found:
        pytest.fail("node (>= 20) is not on PATH")
    if not (JS_CLIENTS / "node_modules/@anthropic-ai/bedrock-sdk").is_dir():
        pytest.fail(f"@anthropic-ai/bedrock-sdk is not installed in {JS_CLIENTS}: run `make js-clients`")
    return found


def run_js(node: str, base_url: str, credential: str, *steps: str, model: str = MODEL) -> dict:
    """Run the script's ``steps``; only the SDK's variables in the environment (no AWS credentials, so
    a request the SDK tried to SigV4-sign would fail instead of reaching the gateway)."""
    env = {
        "PATH": os.environ["PATH"],
        "JS_CLIENTS_DIR": str(JS_CLIENTS),
        "ANTHROPIC_BEDROCK_BASE_URL": f"{base_url}/bedrock",
        "AWS_BEARER_TOKEN_BEDROCK": credential,
        "AWS_REGION": "us-east-1",
    }
    argv = [node, str(SCRIPT), "--model", model, *steps]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def assert_a_users_answers(report: dict) -> None:
    """What create, stream and a tool-use round trip show the application."""
    created = report["create=hello from js"]
    assert "error" not in created, created
    assert (created["type"], created["role"], created["blocks"]) == ("message", "assistant", ["text"])
    assert created["text"] == "Echo: hello from js"
    assert created["stop_reason"] == "end_turn"
    assert created["usage"]["input_tokens"] > 0 and created["usage"]["output_tokens"] > 0

    streamed = report["stream=stream this from js"]
    assert "error" not in streamed, streamed
    assert streamed["deltas"] > 1  # event by event, not one block at the end
    assert streamed["streamed_text"] == streamed["final_text"] == "Echo: stream this from js"
    assert streamed["stop_reason"] == "end_turn" and streamed["output_tokens"] > 0

    tools = report["tool_use=Weather in Paris?"]
    assert "error" not in tools, tools
    assert tools["first_stop_reason"] == "tool_use"
    assert tools["call"] == {"name": "get_weather", "input": {"city": "test"}}
    assert (tools["stop_reason"], tools["text"]) == ("end_turn", "Tool said: 21 C, sunny")


STEPS = ("create=hello from js", "stream=stream this from js", "tool_use=Weather in Paris?")


def test_create_stream_and_tool_use_with_a_gateway_key(node, gateway_url, user_key):
    assert_a_users_answers(run_js(node, gateway_url, user_key, *STEPS))


@pytest.fixture(scope="module")
def okta_url(stack: LocalStack, idp: OidcIssuer) -> str:
    env = {"OKTA_ISSUER": idp.issuer, "OKTA_AUDIENCE": idp.audience}
    return stack.start_middleware("middleware-js-bedrock-okta", free_port(), env_overrides=env)


def test_create_stream_and_tool_use_with_an_okta_jwt(node, okta_url, idp):
    token = idp.mint(idp.claims(sub=f"js-bedrock-{free_port()}@example.com"))
    assert_a_users_answers(run_js(node, okta_url, token, *STEPS))


def test_an_upstream_429_is_the_sdks_rate_limit_error(node, gateway_url, user_key):
    report = run_js(node, gateway_url, user_key, "create=__status_429__", "stream=__status_429__")
    for step in ("create=__status_429__", "stream=__status_429__"):
        error = report[step]["error"]
        assert error["class"] == "RateLimitError" and error["rate_limit_error"] is True, error
        assert (error["status"], error["errortype"]) == (429, "ThrottlingException")


def test_a_wrong_key_is_the_sdks_authentication_error(node, gateway_url):
    error = run_js(node, gateway_url, "sk-not-a-key", "create")["create"]["error"]
    assert (error["class"], error["status"]) == ("AuthenticationError", 401)
    assert error["errortype"] == "AccessDeniedException"


@pytest.fixture(scope="module")
def impatient(stack: LocalStack) -> str:
    """A middleware that waits at most 0.5 s between bytes from LiteLLM."""
    return stack.start_middleware(
        "middleware-js-bedrock-impatient", free_port(), env_overrides={"UPSTREAM_READ_TIMEOUT_SECONDS": "0.5"}
    )


def test_an_exception_frame_mid_stream_is_the_sdks_api_error(node, impatient, user_key):
    error = run_js(node, impatient, user_key, "stream=__drip_2__ one two")["stream=__drip_2__ one two"]["error"]
    assert error["api_error"] is True, error
    assert error["body"]["error"]["type"] == "modelTimeoutException"


@pytest.fixture(scope="module")
def aliased(stack: LocalStack) -> str:
    aliases = json.dumps({"*claude-sonnet-*": MODEL})
    return stack.start_middleware(
        "middleware-js-bedrock-aliases", free_port(), env_overrides={"BEDROCK_MODEL_ALIASES": aliases}
    )


def test_a_bedrock_claude_id_reaches_the_model_its_alias_names(node, aliased, user_key):
    """The SDK puts the id (with its ``:``) in the path; the gateway resolves it through the alias map."""
    report = run_js(
        node, aliased, user_key, "create=hi", "stream=hi", model="us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    assert report["create=hi"].get("text") == "Echo: hi", report["create=hi"]
    assert report["stream=hi"].get("final_text") == "Echo: hi", report["stream=hi"]


def test_the_docs_js_sample_prints_the_models_answer(node, gateway_url, user_key, tmp_path):
    """docs/bedrock-interface.md's snippet as written (``baseURL`` and ``apiKey`` as options this time),
    against the fake upstream's model (the snippet names make local's mock)."""
    doc = (REPO_ROOT / "docs/bedrock-interface.md").read_text()
    samples = re.findall(r"```js\n(.*?)```", doc, re.S)
    assert len(samples) == 1
    (tmp_path / "node_modules").symlink_to(JS_CLIENTS / "node_modules")  # where `import` finds the SDK
    script = tmp_path / "sample.mjs"
    # run on fake-chat: a streamed /v1/messages call to LiteLLM's mock would stop LiteLLM 1.108.7 logging the
    # mock's later /v1/messages spend (other tests check that spend)
    sample = samples[0].replace('"mock-gpt"', '"fake-chat"')
    script.write_text(
        f"const GATEWAY = {json.dumps(gateway_url)};\nconst API_KEY = {json.dumps(user_key)};\n{sample}"
        'console.log("\\n" + message.content[0].text);\n'
    )
    env = {"PATH": os.environ["PATH"], "AWS_REGION": "us-east-1"}
    done = subprocess.run([node, str(script)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "Echo: Hi\nEcho: Hi\n"
