#!/bin/sh
# Start LiteLLM with the config rendered for this environment (S3 log bucket + region, LangSmith,
# only the providers whose credentials are set): see render_config.py. Extra arguments, and
# LITELLM_EXTRA_ARGS (e.g. "--num_workers 4"), go to the litellm CLI.
set -eu

template="${LITELLM_CONFIG_TEMPLATE:-/app/gateway/config.yaml}"
rendered="${LITELLM_CONFIG_RENDERED:-/tmp/litellm-config.yaml}"
python="$(command -v python3 || command -v python)"

"$python" /app/gateway/render_config.py "$template" "$rendered"
# shellcheck disable=SC2086  # LITELLM_EXTRA_ARGS is a word list on purpose
exec litellm --config "$rendered" --port "${PORT:-4000}" ${LITELLM_EXTRA_ARGS:-} "$@"
