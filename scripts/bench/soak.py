"""Long-run check of the local stack: chat turns with sessions through the gateway, emulator memory.

    .venv/bin/python -m bench.soak [--turns 5000] [--turns-per-session 10] [--block 500] [--c16 800]

Starts the real local stack on loopback (fake upstream, LiteLLM, PostgreSQL, DynamoDB emulator,
middleware with history on), then sends ``--turns`` chat turns at concurrency 1: each session gets
``--turns-per-session`` turns (its first one opens it), so the work per turn stays the same while
the table grows. Per block of ``--block`` turns it reports latency (p50/p95) and the DynamoDB
emulator's resident memory. Last, ``--c16`` more turns at concurrency 16 over the last sessions,
counting status codes (a 503 there is the "chat history store unavailable" failure). Bounded
request counts only.
Results: a table on stdout and JSON in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.load import Result
from devstack.stack import REPO_ROOT, LocalStack


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (Linux ``/proc``; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def chat_body(session: str | None) -> bytes:
    body = {"model": "fake", "messages": [{"role": "user", "content": "a soak-test question about nothing"}]}
    if session:
        body["session_id"] = session
    return json.dumps(body).encode()


class Sessions:
    """Turn ``i`` continues session ``i // per_session``; the session's first turn opens it."""

    def __init__(self, per_session: int) -> None:
        self.per_session = per_session
        self.ids: dict[int, str] = {}

    def for_turn(self, i: int) -> str | None:
        return self.ids.get(i // self.per_session)

    def opened(self, i: int, response: httpx.Response) -> None:
        if i // self.per_session not in self.ids and response.status_code == 200:
            self.ids[i // self.per_session] = response.json()["session_id"]


async def turns(
    client: httpx.AsyncClient, url: str, sessions: Sessions, start: int, count: int, concurrency: int
) -> tuple[Result, Counter[int]]:
    result, statuses = Result(), Counter()
    queue = iter(range(start, start + count))

    async def worker() -> None:
        for i in queue:
            began = time.perf_counter()
            try:
                response = await client.post(url, content=chat_body(sessions.for_turn(i)))
                statuses[response.status_code] += 1
                sessions.opened(i, response)
                ok = response.status_code == 200
            except httpx.HTTPError:
                statuses[0] += 1
                ok = False
            if ok:
                result.latencies_ms.append((time.perf_counter() - began) * 1000)
            else:
                result.errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - began
    return result, statuses


async def soak(stack: LocalStack, args: argparse.Namespace) -> dict:
    emulator = next(c for c in stack.children if c.name == "dynamodb")
    headers = {"Authorization": f"Bearer {stack.options.master_key}", "content-type": "application/json"}
    url = f"{stack.gateway_url}/v1/chat/completions"
    blocks: list[dict] = []
    sessions = Sessions(args.turns_per_session)
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    print(f"emulator RSS after start: {rss_mb(emulator.process.pid)} MB")
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:
        done = 0
        while done < args.turns:
            count = min(args.block, args.turns - done)
            result, statuses = await turns(client, url, sessions, done, count, 1)
            done += count
            blocks.append({"turns": done, "concurrency": 1, **result.summary(), "statuses": dict(statuses),
                           "emulator_rss_mb": rss_mb(emulator.process.pid)})  # fmt: skip
            print(json.dumps(blocks[-1]), flush=True)
        if args.c16:
            # 16 concurrent turns on 16 different, already open sessions (no conflicts by design)
            last = sorted(sessions.ids.values())[-16:]
            fixed = Sessions(1)
            fixed.ids = {i: last[i % len(last)] for i in range(args.c16)}
            result, statuses = await turns(client, url, fixed, 0, args.c16, 16)
            blocks.append({"turns": done + args.c16, "concurrency": 16, **result.summary(),
                           "statuses": dict(statuses), "emulator_rss_mb": rss_mb(emulator.process.pid)})  # fmt: skip
            print(json.dumps(blocks[-1]), flush=True)
    return {"blocks": blocks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=5000)
    parser.add_argument("--turns-per-session", type=int, default=10)
    parser.add_argument("--block", type=int, default=500)
    parser.add_argument("--c16", type=int, default=800)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".local" / "bench-soak.json")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on `kill`/timeout too
    from bench.__main__ import start  # the same loopback stack as `make bench`

    stack, fake, _ = start(args)
    try:
        report = asyncio.run(soak(stack, args))
    finally:
        stack.stop()
        fake.stop()
    print(f"\n{'turns':>6} {'c':>3} {'p50 ms':>8} {'p95 ms':>8} {'rps':>6} {'RSS MB':>8}  statuses")
    for b in report["blocks"]:
        print(f"{b['turns']:>6} {b['concurrency']:>3} {b['p50_ms']:>8} {b['p95_ms']:>8} {b['rps']:>6} "
              f"{b['emulator_rss_mb']:>8}  {b['statuses']}")  # fmt: skip
    args.out.write_text(json.dumps(report, indent=2))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.exit(main())
