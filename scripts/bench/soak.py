"""Long-run check of the local stack: chat turns with sessions through the gateway, emulator memory.

    .venv/bin/python -m bench.soak [--turns 5000] [--sessions 100] [--block 500] [--c16 800]

Starts the real local stack on loopback (fake upstream, LiteLLM, PostgreSQL, DynamoDB emulator,
middleware with history on), then sends ``--turns`` chat turns at concurrency 1, round-robin over
``--sessions`` sessions, and reports per block of ``--block`` turns the latency (p50/p95) and the
DynamoDB emulator's resident memory. Last, ``--c16`` more turns at concurrency 16, counting status
codes (a 503 there is the "chat history store unavailable" failure). Bounded request counts only.
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


def chat_body(session: str) -> bytes:
    message = {"role": "user", "content": "a soak-test question about nothing in particular"}
    return json.dumps({"model": "fake", "messages": [message], "session_id": session}).encode()


async def turns(
    client: httpx.AsyncClient, url: str, sessions: list[str], start: int, count: int, concurrency: int
) -> tuple[Result, Counter[int]]:
    result, statuses = Result(), Counter()
    queue = iter(range(start, start + count))

    async def worker() -> None:
        for i in queue:
            began = time.perf_counter()
            try:
                response = await client.post(url, content=chat_body(sessions[i % len(sessions)]))
                statuses[response.status_code] += 1
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
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:
        sessions = []
        for _ in range(args.sessions):
            body = json.dumps({"model": "fake", "messages": [{"role": "user", "content": "hello"}]})
            sessions.append((await client.post(url, content=body)).json()["session_id"])
        print(f"emulator RSS after start and {args.sessions} new sessions: {rss_mb(emulator.process.pid)} MB")
        done = 0
        while done < args.turns:
            count = min(args.block, args.turns - done)
            result, statuses = await turns(client, url, sessions, done, count, 1)
            done += count
            blocks.append({"turns": done, "concurrency": 1, **result.summary(), "statuses": dict(statuses),
                           "emulator_rss_mb": rss_mb(emulator.process.pid)})  # fmt: skip
            print(json.dumps(blocks[-1]), flush=True)
        if args.c16:
            result, statuses = await turns(client, url, sessions, done, args.c16, 16)
            blocks.append({"turns": done + args.c16, "concurrency": 16, **result.summary(),
                           "statuses": dict(statuses), "emulator_rss_mb": rss_mb(emulator.process.pid)})  # fmt: skip
            print(json.dumps(blocks[-1]), flush=True)
    return {"blocks": blocks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--block", type=int, default=500)
    parser.add_argument("--c16", type=int, default=800)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-soak.json")
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
