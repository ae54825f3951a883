"""Stored responses: a record per response inside its chat-history session (DynamoDB).

A response's input and output are stored as the session's chat messages (``items.py``), appended
like any turn. Its record — owner, the response object as returned, and the seqs of its input and
last message — is written in the same transaction at ``seq = -token`` (``ids.py``; split across
``-token, -token + 1, …`` when larger than one item), so a response exists exactly when its
messages do. Messages are read at seqs >= 1 only, so records never show up as messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from gateway.errors import ErrorKind, GatewayError
from gateway.history.models import (
    CorruptHistory,
    StoredMessage,
    canonical_json,
    decode_items,
    epoch_datetime,
    split_utf8,
)
from gateway.history.store import _STORE_ERRORS, ExtraItem, HistoryStore
from gateway.log import logger
from gateway.responses.ids import parse_response_id

if TYPE_CHECKING:
    from gateway.identity.principal import Principal

RECORD_ROLE = "response"
MAX_RECORD_PARTS = 64


@dataclass(frozen=True)
class ResponseRecord:
    response_id: str
    session_id: str
    seq: int  # of the record's first item
    parts: int
    owner_id: str
    response: dict
    input_seqs: tuple[int, int]  # first and last seq of the response's input messages (last < first: none)
    last_seq: int  # the response's last message: the end of its chain


def not_found(what: str = "response") -> GatewayError:
    return GatewayError(ErrorKind.NOT_FOUND, f"{what} not found", param=f"{what}_id" if what == "response" else None)


def record_items(
    record_seq: int, owner_id: str, response: dict, first_seq: int, input_count: int, last_seq: int, budget: int
) -> list[ExtraItem]:
    """The record's items (its JSON split into ``budget``-byte chunks)."""
    text = canonical_json(
        {"owner": owner_id, "response": response, "input": [first_seq, first_seq + input_count - 1], "last": last_seq}
    )
    chunks = split_utf8(text, budget)
    if len(chunks) > MAX_RECORD_PARTS:
        raise GatewayError(ErrorKind.VALIDATION, "this response is too large to store; send store: false")
    split = len(chunks) > 1
    return [
        ExtraItem(record_seq + i, RECORD_ROLE, chunk, i if split else None, len(chunks) if split else None)
        for i, chunk in enumerate(chunks)
    ]


class ResponseStore:
    """Reads and deletes response records; they are written by ``HistoryStore.append`` (``extra``)."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history

    @property
    def record_budget(self) -> int:
        return self.history.config.item_budget_bytes

    def read(self, response_id: object, principal: Principal) -> ResponseRecord:
        """The record; ``NOT_FOUND`` alike for a malformed, missing, expired or someone else's id."""
        parsed = parse_response_id(response_id)
        if parsed is None:
            raise not_found()
        session_id, seq = parsed
        model = self.history.item_model
        now = epoch_datetime(self.history.now())
        try:
            items = list(
                model.query(session_id, model.seq.between(seq, seq + MAX_RECORD_PARTS - 1), consistent_read=True)
            )
        except _STORE_ERRORS as exc:
            raise self.history.store_error("read_response", exc) from exc
        if not items or items[0].seq != seq or items[0].role != RECORD_ROLE or items[0].expires_at <= now:
            raise not_found()
        parts = int(items[0].parts or 1)
        try:
            (stored,) = decode_items(items[:parts])
        except (CorruptHistory, ValueError) as exc:
            logger.error("response record is corrupt", extra={"session_id": session_id, "detail": str(exc)})
            raise GatewayError(ErrorKind.INTERNAL, "the stored response could not be read") from exc
        data = stored.message
        owner = data.get("owner")
        if not principal.is_admin and owner != principal.owner_id:
            raise not_found()
        first, last_input = data["input"]
        return ResponseRecord(
            str(response_id), session_id, seq, parts, owner, data["response"], (first, last_input), data["last"]
        )

    def delete(self, record: ResponseRecord) -> None:
        """Delete the record (its messages stay in the session: they belong to the conversation)."""
        model = self.history.item_model
        connection = model._get_connection().connection
        try:
            with TransactWrite(connection=connection) as tx:
                for seq in range(record.seq, record.seq + record.parts):
                    tx.delete(model(record.session_id, seq), condition=model.seq.exists())
        except TransactWriteError as exc:
            if getattr(exc, "cause_response_code", None) == "TransactionCanceledException":
                raise not_found() from None  # deleted meanwhile
            raise self.history.store_error("delete_response", exc) from exc
        except _STORE_ERRORS as exc:
            raise self.history.store_error("delete_response", exc) from exc

    def messages(self, session_id: str, first_seq: int, last_seq: int) -> list[StoredMessage]:
        """The session's messages stored at ``first_seq..last_seq`` (aged-out ones left out)."""
        if last_seq < first_seq:
            return []
        model = self.history.item_model
        now = epoch_datetime(self.history.now())
        try:
            items = list(model.query(session_id, model.seq.between(first_seq, last_seq), consistent_read=True))
        except _STORE_ERRORS as exc:
            raise self.history.store_error("read_response", exc) from exc
        items = [i for i in items if i.expires_at > now]
        while items and items[0].parts and items[0].parts > 1 and items[0].part != 0:
            items.pop(0)  # the rest of a message whose first part aged out
        try:
            return decode_items(items)
        except CorruptHistory as exc:
            logger.error("chat history is corrupt", extra={"session_id": session_id, "detail": str(exc)})
            raise GatewayError(ErrorKind.INTERNAL, "chat history could not be read") from exc
