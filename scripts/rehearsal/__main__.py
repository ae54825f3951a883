"""``python -m rehearsal [--json OUT] [--work DIR]``: run the deployment rehearsal (``make rehearse``).

The synth and the offline Prisma kit's setup run first (they may need the network). Then, as root, the
rehearsal runs in a network namespace of its own (``unshare --net``): the template's ports (RDS, Redis,
LiteLLM, the ALB's 80) are used as they are, without colliding with anything else on the machine, and
nothing can reach the internet. Exit status 0 only when every check passes.
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


def _own_namespace_possible() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False).returncode == 0


def _rehearse(work: Path, report: Path | None) -> int:
    """The rehearsal proper (inside the namespace when there is one)."""
    from rehearsal.run import Rehearsal, results

    if os.environ.get(_INSIDE):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    started = time.monotonic()
    rehearsal = Rehearsal(work, log=lambda line: print(line, flush=True))
    try:
        rehearsal.run()
    except Exception as error:
        rehearsal.check("rehearsal", False, f"{type(error).__name__}: {error}")
    finally:
        rehearsal.close()
    data = results(rehearsal.checks, time.monotonic() - started)
    if report is not None:
        report.write_text(json.dumps(data, indent=2))
    failed = [c for c in rehearsal.checks if not c.ok]
    print(f"rehearsal: {len(rehearsal.checks) - len(failed)}/{len(rehearsal.checks)} checks passed")
    return 1 if failed or not rehearsal.checks else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m rehearsal", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the checks as JSON here")
    parser.add_argument("--work", type=Path, help="keep logs and data here (default: a temporary folder)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inside:
        return _rehearse(args.work, args.json)

    from rehearsal.run import prepare

    started = time.monotonic()
    work = args.work or Path(tempfile.mkdtemp(prefix="rehearsal-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its data folder
    try:
        prepare(work)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"rehearsal: could not prepare: {error}", file=sys.stderr)
        return 1
    inner = [sys.executable, "-m", "rehearsal", "--inside", "--work", str(work)]
    inner += ["--json", str(args.json)] if args.json else []
    if _own_namespace_possible():
        code = subprocess.run(["unshare", "--net", "--", *inner], env={**os.environ, _INSIDE: "1"}, check=False)
        status = code.returncode
    else:
        status = _rehearse(work, args.json)
    print(f"rehearsal: {time.monotonic() - started:.0f} s in all (logs: {work / 'logs'})")
    if args.work is None and status == 0:
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
