"""The LiteLLM config as `make local` runs it: rendered by the same code the container runs at
start-up (``litellm_service/render_config.py``), so LangSmith and provider-key handling match.

Model entries whose secrets (``os.environ/NAME``) are not set are left out, so providers "light
up" when their API keys are in the environment and a newcomer still starts with the offline mock.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from litellm_service.render_config import render_config


def render_local_config(source: Path, dest: Path, env: Mapping[str, str]) -> tuple[dict, list[str]]:
    """Write the rendered config to ``dest``; return it and the names of the models left out."""
    config = yaml.safe_load(source.read_text()) or {}
    rendered = render_config(config, env)
    served = [m.get("model_name") for m in rendered.get("model_list") or []]
    skipped = [m.get("model_name", "?") for m in config.get("model_list") or [] if m.get("model_name") not in served]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(rendered, sort_keys=False))
    return rendered, skipped
