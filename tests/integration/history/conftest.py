"""Fixtures: one DynamoDB emulator (moto server, child process) per run, one fresh table per test."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from devstack.dynamodb import Emulator, create_history_table, start_dynamodb_emulator
from gateway.history import HistoryConfig, HistoryStore
from gateway.identity.principal import Principal

REGION = "us-east-1"


@pytest.fixture(scope="session")
def dynamodb_emulator() -> Iterator[Emulator]:
    with start_dynamodb_emulator() as emulator:
        yield emulator


@pytest.fixture
def aws_env(dynamodb_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point botocore at the emulator the standard way (``AWS_ENDPOINT_URL_DYNAMODB``)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_emulator.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return dynamodb_emulator.url


@pytest.fixture
def table_name(aws_env: str) -> str:
    name = f"history-{uuid.uuid4().hex[:12]}"
    create_history_table(aws_env, name, REGION)
    return name


@pytest.fixture
def config(table_name: str) -> HistoryConfig:
    return HistoryConfig(table_name=table_name, region=REGION)


@pytest.fixture
def store(config: HistoryConfig) -> HistoryStore:
    return HistoryStore(config)


@pytest.fixture
def raw(aws_env: str, table_name: str):
    """A plain boto3 view of the table, to check what is really stored."""
    import boto3

    class Raw:
        client = boto3.client("dynamodb", region_name=REGION)

        def items(self, session_id: str) -> list[dict]:
            pages = self.client.get_paginator("query").paginate(
                TableName=table_name,
                KeyConditionExpression="session_id = :s",
                ExpressionAttributeValues={":s": {"S": session_id}},
                ConsistentRead=True,
            )
            return [item for page in pages for item in page["Items"]]

    return Raw()


@pytest.fixture
def alice() -> Principal:
    return Principal(type="key", user_id="alice", key_hash="a" * 64)


@pytest.fixture
def bob() -> Principal:
    return Principal(type="jwt", user_id="bob", key_hash=None)


@pytest.fixture
def admin() -> Principal:
    return Principal(type="admin", user_id=None, key_hash=None)


class RequestCounter:
    """Counts DynamoDB HTTP requests (each retry included) by operation, via botocore's before-send."""

    def __init__(self, store: HistoryStore) -> None:
        self.counts: Counter[str] = Counter()
        store.botocore_client.meta.events.register("before-send.dynamodb", self._count)

    def _count(self, event_name: str, **_: object) -> None:
        self.counts[event_name.rsplit(".", 1)[-1]] += 1

    def reset(self) -> None:
        self.counts.clear()


@pytest.fixture
def request_counter(store: HistoryStore) -> RequestCounter:
    return RequestCounter(store)
