"""render_config: the LiteLLM config adapted to the environment (container start-up and `make local`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "litellm_service" / "render_config.py"
sys.path.insert(0, str(SCRIPT.parent))
from render_config import available_models, render_config  # noqa: E402

BASE = {
    "model_list": [
        {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "api_key": "os.environ/OPENAI_API_KEY"}},
        {"model_name": "bedrock", "litellm_params": {"model": "bedrock/x", "aws_region_name": "os.environ/AWS_REGION"}},
        {"model_name": "mock", "litellm_params": {"model": "openai/mock", "mock_response": "hi"}},
    ],
    "litellm_settings": {"success_callback": ["s3_v2"], "s3_callback_params": {"s3_path": "litellm"}},
    "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"s3_path": "litellm"}),
        ({"LITELLM_LOG_BUCKET": "logs"}, {"s3_path": "litellm", "s3_bucket_name": "logs"}),
        (
            {"LITELLM_LOG_BUCKET": "logs", "AWS_REGION": "eu-west-1"},
            {"s3_path": "litellm", "s3_bucket_name": "logs", "s3_region_name": "eu-west-1"},
        ),
    ],
)
def test_s3_log_bucket_and_region_are_injected(env: dict[str, str], expected: dict[str, str]) -> None:
    assert render_config(BASE, env)["litellm_settings"]["s3_callback_params"] == expected


def test_s3_params_created_when_the_config_has_none() -> None:
    rendered = render_config({"model_list": []}, {"LITELLM_LOG_BUCKET": "b", "AWS_REGION": "us-east-1"})
    assert rendered["litellm_settings"] == {
        "s3_callback_params": {"s3_bucket_name": "b", "s3_region_name": "us-east-1"}
    }


@pytest.mark.parametrize(
    ("callbacks", "expected"),
    [
        (["s3_v2"], ["s3_v2", "langsmith"]),
        (["langsmith", "s3_v2"], ["langsmith", "s3_v2"]),
        ("s3_v2", ["s3_v2", "langsmith"]),
        (None, ["langsmith"]),
    ],
)
def test_langsmith_callback_is_added_once(callbacks: object, expected: list[str]) -> None:
    config = {"litellm_settings": {"success_callback": callbacks}}
    rendered = render_config(config, {"LANGSMITH_API_KEY": "lsv2-x", "LANGSMITH_PROJECT": "p"})
    assert rendered["litellm_settings"]["success_callback"] == expected
    # LiteLLM reads LANGSMITH_* from the environment: they never land in the file.
    assert "lsv2-x" not in yaml.safe_dump(rendered) and "LANGSMITH_PROJECT" not in yaml.safe_dump(rendered)


def test_no_langsmith_without_its_key() -> None:
    rendered = render_config(BASE, {"LANGSMITH_PROJECT": "p"})
    assert rendered["litellm_settings"]["success_callback"] == ["s3_v2"]


def test_models_without_their_credentials_are_left_out() -> None:
    kept, dropped = available_models(BASE["model_list"], {"AWS_REGION": "eu-west-1"})
    assert [m["model_name"] for m in kept] == ["bedrock", "mock"]
    assert dropped == ["gpt-4o"]
    rendered = render_config(BASE, {"AWS_REGION": "eu-west-1", "OPENAI_API_KEY": "sk-1"})
    assert [m["model_name"] for m in rendered["model_list"]] == ["gpt-4o", "bedrock", "mock"]
    assert rendered["general_settings"] == BASE["general_settings"]  # only model_list entries are pruned


def test_input_is_not_modified() -> None:
    snapshot = yaml.safe_dump(BASE)
    render_config(BASE, {"LITELLM_LOG_BUCKET": "b", "LANGSMITH_API_KEY": "k"})
    assert yaml.safe_dump(BASE) == snapshot


def test_cli_renders_a_file(tmp_path: Path) -> None:
    source, target = tmp_path / "in.yaml", tmp_path / "out.yaml"
    source.write_text(yaml.safe_dump(BASE))
    env = {"PATH": "/usr/bin:/bin", "LITELLM_LOG_BUCKET": "logs", "AWS_REGION": "eu-west-1"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(source), str(target)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(target.read_text())
    assert rendered["litellm_settings"]["s3_callback_params"]["s3_bucket_name"] == "logs"
    assert [m["model_name"] for m in rendered["model_list"]] == ["bedrock", "mock"]
    assert "left out (credentials not set): gpt-4o" in result.stderr


def test_cli_usage_errors(tmp_path: Path) -> None:
    assert subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, check=False).returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(bad), str(tmp_path / "o.yaml")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "must be a YAML mapping" in result.stderr
