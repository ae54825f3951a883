"""config/default-config.yaml loads in the pinned LiteLLM, through LiteLLM's own config loader.

The config is rendered as the container renders it (render_config.py), with local stand-ins for the
secrets and hosts, then handed to ``ProxyConfig.load_config`` in a child process (LiteLLM keeps global
state, so it stays out of the test process). Nothing is called: the loader builds the router, the cache
and the callbacks from the file, which is what a bad key or a typo would break.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "litellm_service"))
from render_config import render_config

PROVIDER_ENV = {
    name: "test-key"
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "MISTRAL_API_KEY",
        "COHERE_API_KEY",
        "DEEPSEEK_API_KEY",
        "GROQ_API_KEY",
        "XAI_API_KEY",
    )
}
LOCAL_ENV = {
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "LITELLM_LOG_BUCKET": "gateway-test-logs",
    "LITELLM_MASTER_KEY": "sk-test-master",
    "REDIS_HOST": "127.0.0.1",
    "REDIS_PORT": "1",  # nothing listens: the loader must not need Redis up
    "REDIS_PASSWORD": "test",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    **PROVIDER_ENV,
}
PROBE = """
import asyncio, json, sys
import litellm
from litellm.proxy.proxy_server import ProxyConfig

async def main():
    router, models, general = await ProxyConfig().load_config(router=None, config_file_path=sys.argv[1])
    print("RESULT " + json.dumps({
        "models": [m["model_name"] for m in models],
        "routing_strategy": router.routing_strategy,
        "pre_call_checks": router.enable_pre_call_checks,
        "cache": type(litellm.cache.cache).__name__ if litellm.cache else None,
        "success_callback": [c for c in litellm.success_callback if isinstance(c, str)],
        "s3": litellm.s3_callback_params,
        "max_budget": litellm.max_budget,
        "master_key_set": bool(general.get("master_key")),
    }))

asyncio.run(main())
"""


def test_default_config_loads_in_the_pinned_litellm(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "config" / "default-config.yaml").read_text())
    rendered = tmp_path / "config.yaml"
    rendered.write_text(yaml.safe_dump(render_config(config, LOCAL_ENV)))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **LOCAL_ENV}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(rendered)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    loaded = json.loads(lines[-1].removeprefix("RESULT "))
    assert loaded["models"] == [m["model_name"] for m in config["model_list"]]
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in loaded["models"] and "gpt-4o" in loaded["models"]
    assert loaded["routing_strategy"] == "usage-based-routing-v2" and loaded["pre_call_checks"] is True
    assert loaded["cache"] == "RedisCache"
    assert "s3_v2" in loaded["success_callback"]
    assert loaded["s3"]["s3_bucket_name"] == "gateway-test-logs" and loaded["s3"]["s3_region_name"] == "eu-west-1"
    assert loaded["max_budget"] > 0 and loaded["master_key_set"]


def test_every_provider_key_the_config_names_is_a_known_setting() -> None:
    """A key named in the default config must be carried from .env into Secrets Manager by the stack."""
    from gateway_cdk.settings import PROVIDER_KEY_NAMES

    def env_names(value: object) -> set[str]:
        if isinstance(value, str):
            return {value.removeprefix("os.environ/")} if value.startswith("os.environ/") else set()
        if isinstance(value, dict):
            return {n for v in value.values() for n in env_names(v)}
        if isinstance(value, list):
            return {n for v in value for n in env_names(v)}
        return set()

    named = env_names(yaml.safe_load((ROOT / "config" / "default-config.yaml").read_text()))
    runtime = {"AWS_REGION", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "LITELLM_MASTER_KEY"}
    assert named - runtime <= set(PROVIDER_KEY_NAMES)
