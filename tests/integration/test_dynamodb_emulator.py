"""The local DynamoDB emulator (moto's server in a child) stays small over many transactions and
keeps DynamoDB's all-or-nothing TransactWriteItems. Real boto3 client, real emulator process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.dynamodb import Emulator, create_history_table, start_dynamodb_emulator

TABLE = "emulator-check"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_dynamodb_emulator() as running:
        create_history_table(running.url, TABLE)
        yield running


@pytest.fixture
def client(emulator: Emulator):
    return boto3.client(
        "dynamodb", region_name="us-east-1", endpoint_url=emulator.url,
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def key(session: str, seq: int) -> dict:
    return {"session_id": {"S": session}, "seq": {"N": str(seq)}}


def turn(client, session: str, seq: int) -> None:
    """What a chat turn writes: two messages and the header's expiry, in one transaction."""
    message = {"S": "lorem ipsum dolor sit amet " * 20}
    client.transact_write_items(
        TransactItems=[
            *(
                {"Put": {"TableName": TABLE, "Item": {**key(session, n), "message": message},
                         "ConditionExpression": "attribute_not_exists(seq)"}}
                for n in (seq, seq + 1)
            ),
            {"Update": {"TableName": TABLE, "Key": key(session, 0), "UpdateExpression": "SET expires_at = :e",
                        "ConditionExpression": "attribute_exists(owner_id)",
                        "ExpressionAttributeValues": {":e": {"N": str(seq)}}}},
        ]
    )  # fmt: skip


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the emulator's RSS from /proc")
def test_memory_does_not_grow_with_the_number_of_transactions(emulator, client):
    client.put_item(TableName=TABLE, Item={**key("s", 0), "owner_id": {"S": "o"}})
    for i in range(100):
        turn(client, "s", 1 + 2 * i)
    settled = rss_mb(emulator.process.pid)
    for i in range(100, 400):
        turn(client, "s", 1 + 2 * i)
    grown = rss_mb(emulator.process.pid) - settled
    # 600 more items of ~0.6 KB are well under 5 MB; moto unpatched kept a copy of the table per
    # transaction (hundreds of MB here).
    assert grown < 40, f"the emulator grew {grown:.0f} MB over 300 transactions"
    assert client.query(TableName=TABLE, KeyConditionExpression="session_id = :s",
                        ExpressionAttributeValues={":s": {"S": "s"}}, Select="COUNT")["Count"] == 801  # fmt: skip


def test_a_cancelled_transaction_changes_nothing(client):
    client.put_item(TableName=TABLE, Item={**key("s", 0), "owner_id": {"S": "o"}, "expires_at": {"N": "1"}})
    client.put_item(TableName=TABLE, Item={**key("s", 2), "message": {"S": "kept"}})
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {**key("s", 1), "message": {"S": "new"}},
                         "ConditionExpression": "attribute_not_exists(seq)"}},
                {"Put": {"TableName": TABLE, "Item": {**key("s", 2), "message": {"S": "overwritten"}},
                         "ConditionExpression": "attribute_not_exists(seq)"}},
                {"Update": {"TableName": TABLE, "Key": key("s", 0), "UpdateExpression": "SET expires_at = :e",
                            "ConditionExpression": "attribute_exists(owner_id)",
                            "ExpressionAttributeValues": {":e": {"N": "2"}}}},
            ]
        )  # fmt: skip
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "Item" not in client.get_item(TableName=TABLE, Key=key("s", 1))
    assert client.get_item(TableName=TABLE, Key=key("s", 2))["Item"]["message"] == {"S": "kept"}
    assert client.get_item(TableName=TABLE, Key=key("s", 0))["Item"]["expires_at"] == {"N": "1"}
    turn(client, "s", 3)  # and the next transaction applies whole
    assert client.get_item(TableName=TABLE, Key=key("s", 0))["Item"]["expires_at"] == {"N": "3"}
    assert client.get_item(TableName=TABLE, Key=key("s", 4))["Item"]["message"]["S"].startswith("lorem")
