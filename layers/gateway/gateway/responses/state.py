"""Stored responses: a record per response inside its chat-history session (DynamoDB).

A response's input and output are stored as the session's chat messages (``items.py``), appended
like any turn. Its record — owner, the response object as returned, and the seqs of its input and
last message — is written in the same transaction at ``seq = -token`` (``ids.py``; split across
``-token, -token + 1, …`` when larger than one item), so a response exists exactly when its
messages do. Messages are read at seqs >= 1 only, so records never show up as messages.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from gateway.errors import ErrorKind, GatewayError, validation
from gateway.history.models import (
    HEADER_SEQ,
    CorruptHistory,
    HistoryItem,
    StoredMessage,
    canonical_json,
    decode_items,
    epoch_datetime,
    split_utf8,
)
from gateway.history.store import _STORE_ERRORS, ExtraItem, HistoryStore
from gateway.log import logger
from gateway.responses.ids import parse_response_id
from gateway.responses.items import message_to_items

if TYPE_CHECKING:
    from gateway.identity.principal import Principal

RECORD_ROLE = "response"
CONVERSATION_ROLE = "conversation"
CONVERSATION_SEQ = -1  # a conversation's metadata (response records sit far below, see ids.py)
MAX_RECORD_PARTS = 64
SPLIT_PARTS_MAX = 16  # a stored message (3 MB at most) spans fewer items than this


@dataclass(frozen=True)
class Conversation:
    session_id: str
    created_at: int  # epoch seconds
    metadata: dict


@dataclass(frozen=True)
class ItemPage:
    items: list[dict]
    has_more: bool


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


# -- conversations (chat-history sessions) ---------------------------------------------------------


def item_id(prefix: str, session_id: str, seq: int, index: int) -> str:
    """A stored item's id: stable across reads; the message's seq and the item's place in it."""
    return f"{prefix}_{session_id}_{seq}_{index}"


def parse_item_id(value: str, session_id: str) -> tuple[int, int] | None:
    """(seq, index) of an ``item_id`` of ``session_id``, else None."""
    match = re.fullmatch(r"[a-z]{2,3}_([0-9a-f]{32})_([1-9][0-9]{0,17})_([0-9]{1,3})", value)
    if not match or match.group(1) != session_id:
        return None
    return int(match.group(2)), int(match.group(3))


def stored_items(session_id: str, stored: list[StoredMessage]) -> list[dict]:
    """The items of stored messages, oldest first, with their ids."""
    items: list[dict] = []
    for message in stored:
        ids = functools.partial(_item_id_of, session_id, message.seq)
        items.extend(message_to_items(message.message, ids))
    return items


def _item_id_of(session_id: str, seq: int, prefix: str, index: int) -> str:
    return item_id(prefix, session_id, seq, index)


class Conversations:
    """Conversations are chat-history sessions: ``conv_<session id>``; metadata in an item at seq -1."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history

    def create(self, owner_id: str, messages: list[dict], metadata: dict) -> Conversation:
        """A new session holding ``messages``, header and metadata written in one transaction."""
        turn = self.history.open_session(owner_id)
        meta = canonical_json(metadata)

        def extra(_starts: list[int], _last: int) -> list[ExtraItem]:
            return [ExtraItem(CONVERSATION_SEQ, CONVERSATION_ROLE, meta)] if metadata else []

        if messages:
            self.history.append(turn, messages, None, extra=extra)
        else:
            self._create_empty(turn.session_id, owner_id, meta if metadata else None)
        return Conversation(turn.session_id, int(self.history.now()), metadata)

    def _create_empty(self, session_id: str, owner_id: str, meta: str | None) -> None:
        model = self.history.item_model
        now = self.history.now()
        expires_at = epoch_datetime(now + self.history.config.ttl_days * 86400)
        created_at = int(now * 1000)
        connection = model._get_connection().connection
        try:
            with TransactWrite(connection=connection) as tx:
                header = model(session_id, HEADER_SEQ, owner_id=owner_id, created_at=created_at, expires_at=expires_at)
                tx.save(header, condition=model.seq.does_not_exist())
                if meta is not None:
                    item = model(session_id, CONVERSATION_SEQ, role=CONVERSATION_ROLE, message=meta,
                                 created_at=created_at, expires_at=expires_at)  # fmt: skip
                    tx.save(item, condition=model.seq.does_not_exist())
        except _STORE_ERRORS as exc:
            raise self.history.store_error("create_conversation", exc) from exc

    def add_items(self, session_id: str | None, principal: Principal, messages: list[dict]) -> list[dict]:
        """Append ``messages`` to the conversation; their items, with ids."""
        if session_id is None:
            raise not_found("conversation")
        try:
            turn = self.history.load_for_turn(session_id, principal)
        except GatewayError as exc:
            raise not_found("conversation") if exc.kind is ErrorKind.NOT_FOUND else exc from None
        written: list[int] = []

        def note_seqs(starts: list[int], _last: int) -> list[ExtraItem]:
            written[:] = starts
            return []

        self.history.append(turn, messages, None, extra=note_seqs)
        return stored_items(session_id, [StoredMessage(seq, m) for seq, m in zip(written, messages, strict=True)])

    def read(self, session_id: str | None, principal: Principal) -> Conversation:
        """``NOT_FOUND`` alike for a missing, expired or someone else's conversation (admins read any)."""
        header = self._header(session_id, principal)
        model = self.history.item_model
        try:
            meta = model.get(header.session_id, CONVERSATION_SEQ, consistent_read=True)
            metadata = json.loads(meta.message or "{}")
        except model.DoesNotExist:
            metadata = {}
        except _STORE_ERRORS as exc:
            raise self.history.store_error("read_conversation", exc) from exc
        return Conversation(header.session_id, int(header.created_at) // 1000, metadata)

    def _header(self, session_id: str | None, principal: Principal):
        if session_id is None:
            raise not_found("conversation")
        model = self.history.item_model
        try:
            header = model.get(session_id, HEADER_SEQ, consistent_read=True)
        except model.DoesNotExist:
            raise not_found("conversation") from None
        except _STORE_ERRORS as exc:
            raise self.history.store_error("read_conversation", exc) from exc
        if header.expires_at <= epoch_datetime(self.history.now()) or (
            not principal.is_admin and header.owner_id != principal.owner_id
        ):
            raise not_found("conversation")
        return header

    def items(
        self, session_id: str | None, principal: Principal, *, limit: int, order: str, after: str | None
    ) -> ItemPage:
        """A page of the conversation's items, read from where ``after`` points (bounded reads)."""
        header = self._header(session_id, principal)
        session_id = header.session_id
        position = None
        if after is not None:
            position = parse_item_id(after, session_id)
            if position is None:
                raise validation("after is not an item id of this conversation", param="after")
        ascending = order == "asc"
        model = self.history.item_model
        if ascending:
            condition = model.seq.between(position[0] if position else 1, HEADER_SEQ - 1)
        else:  # the parts of a split message follow its first seq
            condition = model.seq.between(1, position[0] + SPLIT_PARTS_MAX if position else HEADER_SEQ - 1)
        now = epoch_datetime(self.history.now())
        page: list[dict] = []
        try:
            query = model.query(session_id, condition, scan_index_forward=ascending, consistent_read=True)
            for parts in _messages(query, ascending, now):
                seq = int(parts[0].seq)
                if position is not None and (seq < position[0] if ascending else seq > position[0]):
                    continue
                items = stored_items(session_id, decode_items(parts))
                if not ascending:
                    items.reverse()
                if position is not None and seq == position[0]:
                    items = [i for i in items if _after(i["id"], position, ascending)]
                page.extend(items)
                if len(page) > limit:
                    break
        except CorruptHistory as exc:
            logger.error("chat history is corrupt", extra={"session_id": session_id, "detail": str(exc)})
            raise GatewayError(ErrorKind.INTERNAL, "chat history could not be read") from exc
        except _STORE_ERRORS as exc:
            raise self.history.store_error("read_conversation", exc) from exc
        return ItemPage(page[:limit], len(page) > limit)


def _messages(items, ascending: bool, now) -> Iterator[list[HistoryItem]]:
    """Whole messages (their items in seq order) from a Query in either direction; a message whose
    parts are not all in the range or alive (TTL) is left out."""
    group: list[HistoryItem] = []
    for item in items:
        if item.expires_at <= now:
            group = []
            continue
        split = bool(item.parts and item.parts > 1)
        if not split:
            group = []
            yield [item]
            continue
        group.append(item)
        if item.part == (item.parts - 1 if ascending else 0):
            parts = group if ascending else group[::-1]
            group = []
            if [p.part for p in parts] == list(range(int(item.parts))):
                yield parts


def _after(item_id_value: str, position: tuple[int, int], ascending: bool) -> bool:
    index = int(item_id_value.rsplit("_", 1)[1])
    return index > position[1] if ascending else index < position[1]
