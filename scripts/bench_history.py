"""Micro-benchmark of the chat history store: added latency and DynamoDB requests per turn.

A turn is what a chat route adds around the model call: ``load_for_turn`` (read + owner check) and,
after the reply, ``append`` of the user message and the reply. Runs against the local DynamoDB
emulator (started here unless ``--endpoint`` names one). Each measured turn gets a fresh table, so
numbers do not drift with table size (moto copies a whole table per transaction).

    .venv/bin/python scripts/bench_history.py [--turns 20] [--json bench-results-history.json]

Emulator numbers bound the store's own overhead (serialisation, botocore, HTTP on loopback); in AWS
add DynamoDB's in-region latency (single-digit ms per request).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "gateway"), str(ROOT / "scripts"), str(ROOT)]

from devstack.dynamodb import create_history_table, start_dynamodb_emulator  # noqa: E402
from gateway.history import HistoryConfig, HistoryStore, SessionTurn  # noqa: E402
from gateway.identity.principal import Principal  # noqa: E402

REGION = "us-east-1"
PRINCIPAL = Principal(type="key", user_id="bench", key_hash=None)


def text_turn(i: int) -> list[dict]:
    return [
        {"role": "user", "content": f"question {i}: " + "lorem ipsum " * 20},
        {"role": "assistant", "content": f"answer {i}: " + "dolor sit amet " * 40},
    ]


def image_message(size: int) -> dict:
    data = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    return {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
        ],
    }


@dataclass
class Scenario:
    name: str
    history: Callable[[], list[dict]]  # stored before the measured turn
    turn: Callable[[], list[dict]]  # appended by the measured turn
    new_session: bool = False


@dataclass
class Result:
    name: str
    load_ms: list[float] = field(default_factory=list)
    raw_query_ms: list[float] = field(default_factory=list)
    append_ms: list[float] = field(default_factory=list)
    turn_ms: list[float] = field(default_factory=list)
    requests: list[Counter[str]] = field(default_factory=list)

    def row(self) -> dict:
        ops = Counter[str]()
        for c in self.requests:
            ops.update(c)
        n = len(self.requests)
        return {
            "scenario": self.name,
            "turns": n,
            "load_p50": _pct(self.load_ms, 50),
            "raw_query_p50": _pct(self.raw_query_ms, 50),
            "append_p50": _pct(self.append_ms, 50),
            "turn_p50": _pct(self.turn_ms, 50),
            "turn_p95": _pct(self.turn_ms, 95),
            "requests_per_turn": {op: round(count / n, 2) for op, count in sorted(ops.items())},
        }


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 2)


class Bench:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def fresh_store(self) -> tuple[HistoryStore, Counter[str]]:
        name = f"bench-{uuid.uuid4().hex[:12]}"
        create_history_table(self.endpoint, name, REGION)
        store = HistoryStore(HistoryConfig(table_name=name, region=REGION))
        store.ping()  # warm the client outside the measurement
        counts: Counter[str] = Counter()
        store.botocore_client.meta.events.register(
            "before-send.dynamodb", lambda event_name, **_: counts.update([event_name.rsplit(".", 1)[-1]])
        )
        return store, counts

    def run(self, scenario: Scenario, turns: int) -> Result:
        result = Result(scenario.name)
        for _ in range(turns):
            store, counts = self.fresh_store()
            session_id = ""
            if not scenario.new_session:
                session_id = store.new_session(PRINCIPAL.owner_id)
                history = scenario.history()
                for start in range(0, len(history), 40):
                    store.append(session_id, history[start : start + 40], "bench-model")
            new = scenario.turn()
            if not scenario.new_session:
                result.raw_query_ms.append(self.raw_query_ms(store, session_id))
            counts.clear()
            t0 = time.perf_counter()
            if scenario.new_session:
                turn = store.start_session(PRINCIPAL.owner_id)
            else:
                turn = store.load_for_turn(session_id, PRINCIPAL)
            t1 = time.perf_counter()
            store.check_size(new[:-1], "bench-model")
            store.append(turn, new, "bench-model")
            t2 = time.perf_counter()
            result.load_ms.append((t1 - t0) * 1000)
            result.append_ms.append((t2 - t1) * 1000)
            result.turn_ms.append((t2 - t0) * 1000)
            result.requests.append(Counter(counts))
        return result

    def raw_query_ms(self, store: HistoryStore, session_id: str) -> float:
        """The emulator's own time for the load's Query (plain boto3, no decoding): the baseline."""
        import boto3

        client = boto3.client("dynamodb", region_name=REGION, endpoint_url=self.endpoint)
        client.describe_limits()  # connect outside the measurement
        t0 = time.perf_counter()
        kwargs = {
            "TableName": store.config.table_name,
            "KeyConditionExpression": "session_id = :s",
            "ExpressionAttributeValues": {":s": {"S": session_id}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": store.config.max_messages + 2,
        }
        page = client.query(**kwargs)
        count = page["Count"]
        while "LastEvaluatedKey" in page and count < kwargs["Limit"]:  # 1 MB pages
            page = client.query(**kwargs, ExclusiveStartKey=page["LastEvaluatedKey"])
            count += page["Count"]
        return (time.perf_counter() - t0) * 1000

    def run_concurrent(self, parallel: int, rounds: int) -> Result:
        """``parallel`` turns on one session at once, all read from the same tail: conflicts + retries."""
        result = Result(f"{parallel} concurrent turns, one session")
        for _ in range(rounds):
            store, _ = self.fresh_store()
            session_id = store.new_session(PRINCIPAL.owner_id)
            self._concurrent_round(store, session_id, parallel, result)
            stored = store.load(session_id, PRINCIPAL, trim=False)
            assert len(stored) == 2 * parallel, f"lost messages: {len(stored)} of {2 * parallel}"
        return result

    @staticmethod
    def _concurrent_round(store: HistoryStore, session_id: str, parallel: int, result: Result) -> None:
        barrier = threading.Barrier(parallel)
        lock = threading.Lock()
        local = threading.local()

        def count(event_name: str, **_: object) -> None:
            counts = getattr(local, "counts", None)
            if counts is not None:
                counts.update([event_name.rsplit(".", 1)[-1]])

        store.botocore_client.meta.events.register("before-send.dynamodb", count)

        def one(i: int) -> None:
            local.counts = Counter()
            barrier.wait()
            t0 = time.perf_counter()
            turn: SessionTurn = store.load_for_turn(session_id, PRINCIPAL)
            t1 = time.perf_counter()
            store.append(turn, text_turn(i), "bench-model")
            t2 = time.perf_counter()
            with lock:
                result.load_ms.append((t1 - t0) * 1000)
                result.append_ms.append((t2 - t1) * 1000)
                result.turn_ms.append((t2 - t0) * 1000)
                result.requests.append(local.counts)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(parallel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        store.botocore_client.meta.events.unregister("before-send.dynamodb", count)


def scenarios() -> list[Scenario]:
    def history(n: int) -> Callable[[], list[dict]]:
        return lambda: [m for i in range(n // 2) for m in text_turn(i)]

    return [
        Scenario("new session, first turn", lambda: [], lambda: text_turn(0), new_session=True),
        Scenario("10 stored messages", history(10), lambda: text_turn(99)),
        Scenario("100 stored messages", history(100), lambda: text_turn(99)),
        Scenario("400 stored messages (100 sent)", history(400), lambda: text_turn(99)),
        Scenario(
            "10 stored incl. a 1 MB image", lambda: [image_message(1_000_000), *history(9)()], lambda: text_turn(99)
        ),
        Scenario("turn carrying a 1 MB image", history(10), lambda: [image_message(1_000_000), text_turn(1)[1]]),
    ]


def print_table(rows: list[dict]) -> None:
    headers = [
        "scenario",
        "turns",
        "load p50 ms",
        "(emulator query)",
        "append p50 ms",
        "turn p50 ms",
        "turn p95 ms",
        "requests/turn",
    ]
    lines = [
        [
            r["scenario"],
            str(r["turns"]),
            f"{r['load_p50']:.1f}",
            f"{r['raw_query_p50']:.1f}" if r["raw_query_p50"] else "-",
            f"{r['append_p50']:.1f}",
            f"{r['turn_p50']:.1f}",
            f"{r['turn_p95']:.1f}",
            ", ".join(f"{op} {n:g}" for op, n in r["requests_per_turn"].items()),
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20, help="measured turns per scenario")
    parser.add_argument("--parallel", type=int, default=8, help="concurrent turns in the contention scenario")
    parser.add_argument("--endpoint", help="a running DynamoDB-compatible endpoint (default: start moto)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    emulator = None if args.endpoint else start_dynamodb_emulator()
    endpoint = args.endpoint or emulator.url  # type: ignore[union-attr]
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    try:
        bench = Bench(endpoint)
        rows = []
        for scenario in scenarios():
            started = time.perf_counter()
            rows.append(bench.run(scenario, args.turns).row())
            print(f"  {scenario.name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        rows.append(bench.run_concurrent(args.parallel, max(1, args.turns // 4)).row())
    finally:
        if emulator is not None:
            emulator.stop()
    print(f"chat history turn = load_for_turn + append, against {endpoint}\n")
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
