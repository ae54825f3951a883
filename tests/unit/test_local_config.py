"""`make local` renders config/local-config.yaml the way the container renders the deployed one."""

from __future__ import annotations

from pathlib import Path

import yaml

from devstack.litellm_config import render_local_config

LOCAL_CONFIG = Path(__file__).resolve().parents[2] / "config" / "local-config.yaml"


def test_newcomer_gets_the_offline_mock_and_providers_light_up_with_their_keys(tmp_path):
    rendered, skipped = render_local_config(LOCAL_CONFIG, tmp_path / "out.yaml", {})
    assert [m["model_name"] for m in rendered["model_list"]] == ["mock-gpt"]
    assert "gpt-4o-mini" in skipped
    with_key, _ = render_local_config(LOCAL_CONFIG, tmp_path / "out.yaml", {"OPENAI_API_KEY": "sk-x"})
    assert "gpt-4o-mini" in [m["model_name"] for m in with_key["model_list"]]


def test_langsmith_key_turns_on_the_langsmith_callback_in_the_written_file(tmp_path):
    out = tmp_path / "out.yaml"
    render_local_config(LOCAL_CONFIG, out, {"LANGSMITH_API_KEY": "ls-key", "LANGSMITH_PROJECT": "gw"})
    written = yaml.safe_load(out.read_text())
    assert "langsmith" in written["litellm_settings"]["success_callback"]
    assert "ls-key" not in out.read_text()  # LiteLLM reads the key from the environment, never the file
