"""The LiteLLM config as `make local` runs it.

Model entries whose secrets (``os.environ/NAME``) are not set are left out, so providers "light
up" when their API keys are in the environment and a newcomer still starts with the offline mock.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ENV_REF = "os.environ/"


def _env_refs(value: Any) -> list[str]:
    if isinstance(value, str) and value.startswith(ENV_REF):
        return [value[len(ENV_REF) :]]
    if isinstance(value, dict):
        return [ref for v in value.values() for ref in _env_refs(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in _env_refs(v)]
    return []


def available_models(config: dict, env: Mapping[str, str]) -> tuple[list[dict], list[str]]:
    """(entries whose env references are all set, names of the entries left out)."""
    kept, skipped = [], []
    for entry in config.get("model_list") or []:
        missing = [ref for ref in _env_refs(entry.get("litellm_params", {})) if not env.get(ref)]
        (skipped if missing else kept).append(entry)
    return kept, [e.get("model_name", "?") for e in skipped]


def render_local_config(source: Path, dest: Path, env: Mapping[str, str]) -> tuple[dict, list[str]]:
    config = yaml.safe_load(source.read_text()) or {}
    config["model_list"], skipped = available_models(config, env)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(config, sort_keys=False))
    return config, skipped
