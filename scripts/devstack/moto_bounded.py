"""Keep moto's DynamoDB server small and fast however long it runs (the emulator child only).

Measured cause of the growth (5.3 GB after 8 minutes of a benchmark, slower every block): moto
deep-copies every table a TransactWriteItems names, to restore it if the transaction is cancelled,
and every model object moto creates, copies included, is appended to a class-level
``instances_tracked`` list (for its ``/moto-api/data.json`` dashboard) that is never emptied. Each
chat turn is one transaction, so memory grew with turns times table size and each turn copied the
whole table.

Also, a Query on the table (not an index) sorted and scanned every item of the table, so each
turn's history read got slower as the table grew.

Three patches, applied in the emulator process only (never where tests use ``mock_aws``):

- model objects are not tracked (the dashboard's object list stays empty; the API is unchanged);
- a transaction's rollback snapshot copies the table's key index (dicts of references) and deep
  copies only the items the transaction names, which is all a rollback can need: the snapshot is
  still restored whole when the transaction is cancelled, exactly as moto does;
- a Query on the table's own key looks at the one partition it names (moto then filters and sorts
  those items as before). Index queries and scans are unchanged.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from typing import Any

_state = threading.local()  # the running transaction's item keys, by table name


def install() -> None:
    """Apply both patches (idempotent)."""
    import moto.dynamodb.models as ddb
    from moto.core.common_models import BaseModel

    if getattr(ddb, "_bounded", False):
        return
    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
    original = ddb.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _state.keys = _keys_by_table(transact_items)
        try:
            return original(self, transact_items)
        finally:
            _state.keys = None

    ddb.DynamoDBBackend.transact_write_items = transact_write_items
    ddb.copy = _SnapshotCopy()  # the module's `copy.deepcopy(table)` for rollback goes through here
    _partition_queries()
    ddb._bounded = True


def _partition_queries() -> None:
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)  # moto passes it 8th
        _state.partition = hash_key if index_name is None and hash_key is not None else None
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _state.partition = None

    def partition_items(self: Any) -> list[Any]:
        partition = getattr(_state, "partition", None)
        if partition is None:
            return all_items(self)
        found = self.items.get(partition)  # not self.items[...]: a defaultdict would grow
        if found is None:
            return []
        return sorted(found.values(), key=lambda item: item.range_key) if self.range_key_attr else [found]

    Table.query = partition_query
    Table.all_items = partition_items


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def _keys_by_table(transact_items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    keys: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in transact_items:
        for op_type, op in entry.items():
            if not isinstance(op, dict) or "TableName" not in op:
                continue
            key = op.get("Key") if op_type != "Put" else op.get("Item")
            if isinstance(key, dict):
                keys[op["TableName"]].append(key)
    return keys


class _SnapshotCopy:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: dict | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        keys = getattr(_state, "keys", None)
        if keys is not None and isinstance(value, Table):
            return table_snapshot(value, keys.get(value.name, []))
        return copy.deepcopy(value, memo)


def table_snapshot(table: Any, keys: list[dict[str, Any]]) -> Any:
    """A copy of ``table`` that a rollback can restore: new key dicts, the named items deep-copied."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    snapshot = copy.copy(table)
    ranged = table.range_key_attr is not None
    snapshot.items = defaultdict(dict, {h: dict(v) if ranged else v for h, v in table.items.items()})
    for key in keys:
        if table.hash_key_attr not in key or (ranged and table.range_key_attr not in key):
            continue  # moto rejects it before writing anything
        hash_value = DynamoType(key[table.hash_key_attr])
        if ranged:
            range_value = DynamoType(key[table.range_key_attr])
            item = table.items.get(hash_value, {}).get(range_value)
            if item is not None:
                snapshot.items[hash_value][range_value] = copy.deepcopy(item)
        elif hash_value in table.items:
            snapshot.items[hash_value] = copy.deepcopy(table.items[hash_value])
    return snapshot
