"""``python -m rehearsal [--json OUT] [--work DIR]``: run the deployment rehearsal (``make rehearse``).

As root it runs in a network namespace of its own (``unshare --net``): the template's ports (RDS,
Redis, LiteLLM, the ALB's 80) are used as they are, without colliding with anything else on the
machine, and nothing can reach the internet. Exit status 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_INSIDE = "REHEARSAL_NETNS"


def _in_own_namespace(argv: list[str]) -> int | None:
    """Re-run inside a fresh network namespace when possible; None when already inside or not root."""
    if os.environ.get(_INSIDE) or os.geteuid() != 0 or shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return None
    command = ["unshare", "--net", "--", sys.executable, "-m", "rehearsal", *argv]
    return subprocess.run(command, env={**os.environ, _INSIDE: "1"}, check=False).returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m rehearsal", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the checks as JSON here")
    parser.add_argument("--work", type=Path, help="keep logs and data here (default: a temporary folder)")
    args = parser.parse_args(argv)
    outer = _in_own_namespace(argv)
    if outer is not None:
        return outer
    if os.environ.get(_INSIDE):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

    from rehearsal.run import Rehearsal, results

    started = time.monotonic()
    work = args.work or Path(tempfile.mkdtemp(prefix="rehearsal-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its data folder
    rehearsal = Rehearsal(work, log=lambda line: print(line, flush=True))
    try:
        rehearsal.run()
    except Exception as error:
        rehearsal.check("rehearsal", False, f"{type(error).__name__}: {error}")
    finally:
        rehearsal.close()
    report = results(rehearsal.checks, time.monotonic() - started)
    failed = [c for c in rehearsal.checks if not c.ok]
    print(f"rehearsal: {len(rehearsal.checks) - len(failed)}/{len(rehearsal.checks)} checks passed "
          f"in {report['seconds']} s (logs: {work / 'logs'})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if args.work is None and not failed:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed or not rehearsal.checks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
