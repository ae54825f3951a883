"""Row 7 of `make bench`: the Responses API, a chained turn against a stateless one.

Both rows send the same input to the same model (``fake-bridged``: LiteLLM's Responses bridge in
front of the fake upstream) through the same middleware. The stateless turn (``store: false``)
touches no store; the chained turn (``previous_response_id``) reads the response's record and its
session (two strongly consistent reads), sends the chain, and appends the turn with its record (one
transaction). Each chained request continues a different prepared response, once, so every one is
the newest of its session (the common case, no branch copy).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

MODEL = "fake-bridged"
PATH = "/v1/responses"
INPUT = "benchmark me please"
WARMUP = 20  # bench.load.run_load's default warm-up requests per row


def stateless_body(_: int) -> bytes:
    return json.dumps({"model": MODEL, "input": INPUT, "store": False}).encode()


class Chains:
    """Prepared responses; each body continues the next one (warm-up requests included)."""

    def __init__(self, url: str, key: str, count: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        body = {"model": MODEL, "input": "start a chain"}
        with httpx.Client(timeout=30) as client:
            self._ids: Iterator[str] = iter(
                [client.post(f"{url}{PATH}", headers=headers, json=body).json()["id"] for _ in range(count)]
            )

    def body(self, _: int) -> bytes:
        return json.dumps({"model": MODEL, "input": INPUT, "previous_response_id": next(self._ids)}).encode()
