"""``make deploy``: validate ``.env``, then ``cdk deploy`` with the provider keys as NoEcho parameters.

Provider API keys never enter the template: each one set in ``.env`` (or the environment) becomes a
``NoEcho`` CloudFormation parameter whose value CloudFormation writes into its Secrets Manager secret.
Keys are passed to the CDK CLI as arguments of a child process (no shell, nothing in shell history).

Usage::

    python cdk/deploy.py --cdk .local/cdk-cli/node_modules/.bin/cdk [extra cdk deploy args...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_cdk.secrets import parameter_name
from gateway_cdk.settings import Settings, SettingsError, load_env

ROOT = Path(__file__).resolve().parent.parent


def deploy_command(cdk: str, settings: Settings, env: dict[str, str], extra: list[str]) -> list[str]:
    """The ``cdk deploy`` argv for ``settings``; provider key values come from ``env``."""
    names = list(settings.provider_keys) + (["LANGSMITH_API_KEY"] if settings.langsmith_enabled else [])
    parameters = [
        arg for name in names for arg in ("--parameters", f"{settings.stack_name}:{parameter_name(name)}={env[name]}")
    ]
    return [cdk, "deploy", settings.stack_name, *parameters, *extra]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cdk", required=True, help="path of the pinned CDK CLI")
    args, extra = parser.parse_known_args(argv)
    env = load_env(ROOT / ".env", os.environ)
    try:
        settings = Settings.from_env(env)
    except SettingsError as error:
        print(f"Invalid setting {error}", file=sys.stderr)
        return 2
    # The app re-reads .env itself; the CLI runs it with the account/region of the credentials.
    return subprocess.call(deploy_command(args.cdk, settings, env, extra), cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
