#!/bin/sh
# Start LiteLLM with the config rendered for this environment (S3 log bucket + region, LangSmith,
# only the providers whose credentials are set): see render_config.py. DATABASE_URL is built here
# (database_url.py: the RDS port and sslmode=require) because LiteLLM's own assembly ignores
# DATABASE_PORT. Extra arguments, and LITELLM_EXTRA_ARGS (e.g. "--num_workers 4"), go to the litellm CLI.
# "entrypoint.sh migrate" applies LiteLLM's database migrations and exits (the once-per-deploy task,
# cdk/gateway_cdk/migrations.py); the service's tasks skip them (DISABLE_SCHEMA_UPDATE=true).
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
template="${LITELLM_CONFIG_TEMPLATE:-$here/config.yaml}"
rendered="${LITELLM_CONFIG_RENDERED:-/tmp/litellm-config.yaml}"
python="$(command -v python3 || command -v python)"

"$python" "$here/render_config.py" "$template" "$rendered"
if [ -z "${DATABASE_URL:-}" ] && [ -n "${DATABASE_HOST:-}" ]; then
  DATABASE_URL="$("$python" "$here/database_url.py")"
  export DATABASE_URL
fi
if [ "${1:-}" = "migrate" ]; then
  DISABLE_SCHEMA_UPDATE=false exec litellm --config "$rendered" --skip_server_startup
fi
# shellcheck disable=SC2086  # LITELLM_EXTRA_ARGS is a word list on purpose
exec litellm --config "$rendered" --port "${PORT:-4000}" ${LITELLM_EXTRA_ARGS:-} "$@"
