"""CDK entry point: ``make synth`` runs it directly (offline), ``make deploy`` through the CDK CLI.

Settings come from ``.env`` (see ``.env.template``) overlaid by the environment; an invalid setting stops
here with a message naming it. cdk-nag's AwsSolutions pack runs on every synth and fails it on any
unacknowledged finding.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# jsii warns on every run under Node 20; the app works the same (drop this once CI runs Node 22+).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_cdk.settings import Settings, SettingsError, load_env
from gateway_cdk.stack import build_app

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    try:
        settings = Settings.from_env(load_env(ROOT / ".env", os.environ))
    except SettingsError as error:
        print(f"Invalid setting {error}", file=sys.stderr)
        return 2
    app, _ = build_app(settings, ROOT, outdir=os.environ.get("CDK_OUTDIR", str(ROOT / "cdk.out")))
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
