"""The Claude Code CLI itself, in Bedrock mode, against the local stack: ``claude -p`` gets its answer
from a model that is not Anthropic's, with a gateway key and with an Okta JWT, and with Claude Code's own
default model ids once the alias map points them at a LiteLLM model.

The CLI is the pinned npm package (``make claude-code``, a native binary that runs offline); it runs
in an empty home and working directory with telemetry, error reports and updates off.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from devstack.processes import free_port
from devstack.stack import REPO_ROOT, LocalStack
from tests.support.oidc_issuer import OidcIssuer

CLAUDE = Path(os.environ.get("CLAUDE_CODE_BIN") or REPO_ROOT / ".local/claude-code/node_modules/.bin/claude")
MODEL = "mock-gpt"  # LiteLLM's offline mock, which `make local` serves too
ANSWER = "Hello from the mock."


@pytest.fixture(scope="module")
def claude() -> Path:
    if not CLAUDE.exists():
        pytest.fail(f"Claude Code is not installed at {CLAUDE}: run `make claude-code`")
    return CLAUDE


def run_claude(claude: Path, base_url: str, credential: str, tmp_path: Path, *, model: str | None = MODEL) -> dict:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "ANTHROPIC_BEDROCK_BASE_URL": f"{base_url}/bedrock",
        "AWS_BEARER_TOKEN_BEDROCK": credential,
        "AWS_REGION": "us-east-1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    if model:
        env["ANTHROPIC_MODEL"] = model
    argv = [str(claude), "-p", "say hi", "--output-format", "json", "--strict-mcp-config"]
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    return json.loads(done.stdout)


def test_claude_code_gets_its_answer_with_a_gateway_key(claude, gateway_url, user_key, tmp_path):
    result = run_claude(claude, gateway_url, user_key, tmp_path)
    assert result["is_error"] is False and result["subtype"] == "success"
    assert result["result"] == ANSWER
    assert result["usage"]["output_tokens"] > 0


@pytest.fixture(scope="module")
def okta_url(stack: LocalStack, idp: OidcIssuer) -> str:
    env = {"OKTA_ISSUER": idp.issuer, "OKTA_AUDIENCE": idp.audience}
    return stack.start_middleware("middleware-claude-code-okta", free_port(), env_overrides=env)


def test_claude_code_gets_its_answer_with_an_okta_jwt(claude, okta_url, idp, tmp_path):
    token = idp.mint(idp.claims(sub=f"claude-code-{free_port()}@example.com"))
    result = run_claude(claude, okta_url, token, tmp_path)
    assert result["is_error"] is False and result["result"] == ANSWER


@pytest.fixture(scope="module")
def aliased(stack: LocalStack) -> str:
    aliases = json.dumps({"*claude-*": MODEL})  # every Claude id Claude Code uses → the platform's model
    return stack.start_middleware(
        "middleware-claude-code-aliases", free_port(), env_overrides={"BEDROCK_MODEL_ALIASES": aliases}
    )


def test_claude_code_default_model_ids_work_through_the_alias_map(claude, aliased, user_key, tmp_path):
    result = run_claude(claude, aliased, user_key, tmp_path, model=None)
    assert result["is_error"] is False and result["result"] == ANSWER
