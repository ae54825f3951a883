"""Render the LiteLLM config for this environment, at container start-up and for ``make local``.

``render_config(config, env)`` is pure: it returns a new dict and never reads ``os.environ``.

* ``LITELLM_LOG_BUCKET`` / ``AWS_REGION`` set -> ``litellm_settings.s3_callback_params.s3_bucket_name`` /
  ``s3_region_name`` (the S3 request-log bucket the stack created).
* ``LANGSMITH_API_KEY`` set -> ``langsmith`` added to ``litellm_settings.success_callback``. LiteLLM reads
  ``LANGSMITH_API_KEY``, ``LANGSMITH_PROJECT``, ``LANGSMITH_DEFAULT_RUN_NAME`` (and ``LANGSMITH_BASE_URL``)
  from the environment itself, so they stay there and never land in the file.
* ``model_list`` entries whose ``litellm_params`` name an ``os.environ/NAME`` that is not set are left
  out, so only providers with credentials are served (``/v1/models`` tells the truth).

Callbacks already present are never duplicated. CLI::

    python render_config.py IN.yaml OUT.yaml
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Mapping
from typing import Any

import yaml

ENV_PREFIX = "os.environ/"
LANGSMITH_CALLBACK = "langsmith"


def _missing_env(value: Any, env: Mapping[str, str]) -> list[str]:
    """Every ``os.environ/NAME`` inside ``value`` whose NAME is unset or empty."""
    if isinstance(value, str):
        name = value[len(ENV_PREFIX) :] if value.startswith(ENV_PREFIX) else None
        return [name] if name is not None and not env.get(name) else []
    if isinstance(value, Mapping):
        return [n for v in value.values() for n in _missing_env(v, env)]
    if isinstance(value, list):
        return [n for v in value for n in _missing_env(v, env)]
    return []


def available_models(models: list[dict[str, Any]], env: Mapping[str, str]) -> tuple[list[dict], list[str]]:
    """Split ``model_list`` into the entries whose secrets are set and the names of those left out."""
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for entry in models:
        if _missing_env(entry.get("litellm_params", {}), env):
            dropped.append(str(entry.get("model_name")))
        else:
            kept.append(entry)
    return kept, dropped


def _callbacks(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def render_config(config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Return ``config`` adapted to ``env`` (see the module docstring); the input is not modified."""
    rendered: dict[str, Any] = copy.deepcopy(dict(config))
    settings: dict[str, Any] = dict(rendered.get("litellm_settings") or {})

    bucket, region = env.get("LITELLM_LOG_BUCKET"), env.get("AWS_REGION")
    if bucket or region:
        params = dict(settings.get("s3_callback_params") or {})
        if bucket:
            params["s3_bucket_name"] = bucket
        if region:
            params["s3_region_name"] = region
        settings["s3_callback_params"] = params

    if env.get("LANGSMITH_API_KEY"):
        success = _callbacks(settings.get("success_callback"))
        if LANGSMITH_CALLBACK not in success:
            success.append(LANGSMITH_CALLBACK)
        settings["success_callback"] = success

    if settings or "litellm_settings" in rendered:
        rendered["litellm_settings"] = settings
    if isinstance(rendered.get("model_list"), list):
        rendered["model_list"], _ = available_models(rendered["model_list"], env)
    return rendered


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: render_config.py IN.yaml OUT.yaml", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as source:
        config = yaml.safe_load(source) or {}
    if not isinstance(config, dict):
        print(f"{argv[1]}: a LiteLLM config must be a YAML mapping", file=sys.stderr)
        return 2
    _, dropped = available_models(config.get("model_list") or [], os.environ)
    rendered = render_config(config, os.environ)
    with open(argv[2], "w", encoding="utf-8") as target:
        yaml.safe_dump(rendered, target, sort_keys=False)
    served = len(rendered.get("model_list") or [])
    note = f"; left out (credentials not set): {', '.join(dropped)}" if dropped else ""
    print(f"render_config: {argv[2]} serves {served} model entries{note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
