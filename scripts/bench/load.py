"""A bounded, loopback-only load generator: N requests at concurrency C, latency and first-byte times."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    first_byte_ms: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0

    def pct(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    def summary(self) -> dict:
        ok = len(self.latencies_ms)
        return {
            "requests": ok + self.errors,
            "errors": self.errors,
            "p50_ms": round(self.pct(self.latencies_ms, 50), 3),
            "p95_ms": round(self.pct(self.latencies_ms, 95), 3),
            "p99_ms": round(self.pct(self.latencies_ms, 99), 3),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 3) if ok else None,
            "ttfb_p50_ms": round(self.pct(self.first_byte_ms, 50), 3) if self.first_byte_ms else None,
            "rps": round(ok / self.wall_s, 1) if self.wall_s else None,
        }


async def run_load(
    url: str,
    make_body: Callable[[int], bytes],
    *,
    headers: dict[str, str],
    requests: int,
    concurrency: int,
    stream: bool,
    warmup: int = 20,
) -> Result:
    result = Result()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one(i: int, record: bool) -> None:
            started = time.perf_counter()
            try:
                async with client.stream("POST", url, content=make_body(i), headers=headers) as response:
                    first = None
                    async for _ in response.aiter_raw():
                        if first is None:
                            first = time.perf_counter()
                    ok = response.status_code == 200
            except httpx.HTTPError:
                ok, first = False, None
            if not record:
                return
            if not ok:
                result.errors += 1
                return
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if stream and first is not None:
                result.first_byte_ms.append((first - started) * 1000)

        for i in range(warmup):
            await one(i, False)
        queue = iter(range(requests))

        async def worker() -> None:
            for i in queue:
                await one(i, True)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall_s = time.perf_counter() - started
    return result
