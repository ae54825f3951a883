"""The chat history store: sessions of OpenAI-format messages in DynamoDB (data model: ``models.py``).

Synchronous on purpose (routes call it through ``anyio.to_thread``). A turn costs two requests:

    turn = store.load_for_turn(session_id, principal)   # 1 Query: header + newest messages
    ... model call with turn.messages + the new messages ...
    store.append(turn, new_messages + [reply], model)   # 1 TransactWriteItems

``append`` writes each item with ``attribute_not_exists(seq)``; when a concurrent turn took those seqs
the transaction is cancelled as a whole, the tail is re-read and the turn is written after it, so a
turn stays contiguous and nothing is overwritten. The same transaction refreshes the header's TTL:
an active session does not expire, while each message keeps its own TTL (the oldest age out first).

Reads are bounded: a turn replays at most ``HISTORY_MAX_MESSAGES`` messages and
``HISTORY_MAX_REPLAY_BYTES`` bytes of them; ``read_page`` serves a session oldest first in pages of
at most ``limit`` messages and ``HISTORY_PAGE_MAX_BYTES`` bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from gateway.errors import ErrorKind, GatewayError, validation
from gateway.history.config import TRANSACTION_MAX_BYTES, TRANSACTION_MAX_ITEMS, HistoryConfig
from gateway.history.models import (
    HEADER_SEQ,
    HEADER_UPDATE_SIZE,
    INSTRUCTION_ROLES,
    CorruptHistory,
    EncodedMessage,
    HistoryItem,
    bind_model,
    decode_items,
    encode_message,
    epoch_datetime,
    is_message_start,
    json_size,
    leading_instruction_items,
    message_item_size,
)
from gateway.log import logger

if TYPE_CHECKING:
    from gateway.identity.principal import Principal

_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_STORE_ERRORS = (PynamoDBException, BotoCoreError, ClientError)
_REACHABLE_FOR = 15.0  # seconds a successful reachability probe is trusted
_RETRYABLE_REASONS = {"ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"}
_TOOL_ROLES = frozenset({"tool", "function"})
_CURSOR_CREATED_AT = re.compile(r"[0-9]{1,20}")  # epoch ms, ASCII digits only (int() takes more)
_PAGE_TOKEN = re.compile(r"seq:([1-9][0-9]{0,17})")
MAX_TOKEN_CHARS = 256
SESSION_MOVED_ON = "another turn was stored in this session first"


@dataclass(frozen=True)
class HistoryPage:
    """One page of a session, oldest message first; ``next_token`` is None on the last page."""

    messages: list[dict]
    next_token: str | None


@dataclass(frozen=True)
class SessionTurn:
    """A session as read at the start of a turn: what to send the model, and where to append.

    ``last_seq`` is the highest message seq stored when the turn began; ``append`` writes after it
    (and moves on by itself if a concurrent turn got there first).
    """

    session_id: str
    owner_id: str
    messages: list[dict]
    last_seq: int
    new: bool = False  # not stored yet: the first append writes the header in the same transaction


@dataclass(frozen=True)
class ExtraItem:
    """An item written in a turn's transaction besides its messages (a record kept below seq 1)."""

    seq: int
    role: str
    chunk: str
    part: int | None = None
    parts: int | None = None


#: (the seq each of the turn's messages starts at, the turn's last seq) → the extra items to write
ExtraItems = Callable[[list[int], int], Sequence[ExtraItem]]


@dataclass
class _Window:
    header: HistoryItem
    items: list[HistoryItem]  # message items, ascending
    last_seq: int
    complete: bool  # items start at the session's first message
    aged_out: bool  # older messages expired (TTL)


class HistoryStore:
    def __init__(self, config: HistoryConfig | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config or HistoryConfig.from_env()
        self._model = bind_model(self.config)
        self._clock = clock
        self._reachable_at = float("-inf")

    # -- sessions ------------------------------------------------------------------------------------
    def new_session(self, owner_id: str) -> str:
        return self.start_session(owner_id).session_id

    def open_session(self, owner_id: str) -> SessionTurn:
        """A new session's empty turn handle, written by its first ``append`` (header and messages in
        one transaction): nothing is written before the model call, so the first byte never waits."""
        if not owner_id:
            raise ValueError("owner_id is required")
        return SessionTurn(uuid.uuid4().hex, owner_id, [], 0, new=True)

    def check_reachable(self) -> None:
        """``UNAVAILABLE`` unless the table answered within the last ``_REACHABLE_FOR`` seconds."""
        now = time.monotonic()
        if now - self._reachable_at < _REACHABLE_FOR:
            return
        self.ping()
        self._reachable_at = now

    def start_session(self, owner_id: str) -> SessionTurn:
        """Create a session (its header item) and return its empty turn handle — no read needed."""
        if not owner_id:
            raise ValueError("owner_id is required")
        now = self._clock()
        for _ in range(3):  # a uuid4 collision is astronomically unlikely; never overwrite one
            session_id = uuid.uuid4().hex
            header = self._model(
                session_id,
                HEADER_SEQ,
                owner_id=owner_id,
                created_at=int(now * 1000),
                expires_at=epoch_datetime(now + self.config.ttl_days * 86400),
            )
            try:
                header.save(condition=self._model.seq.does_not_exist())
                return SessionTurn(session_id, owner_id, [], 0)
            except PutError as exc:
                if _response_code(exc) != "ConditionalCheckFailedException":
                    raise self._unavailable("new_session", exc) from exc
            except _STORE_ERRORS as exc:
                raise self._unavailable("new_session", exc) from exc
        raise GatewayError(ErrorKind.INTERNAL, "could not allocate a session id")

    def load_for_turn(self, session_id: str, principal: Principal) -> SessionTurn:
        """The newest ``max_messages`` messages (from a clean boundary) and the last seq.

        ``NOT_FOUND`` alike for a missing, expired or someone else's session (admins read any).
        """
        return self._load(session_id, principal, trim=True)

    def load_until(self, session_id: str, principal: Principal, until_seq: int) -> SessionTurn:
        """Like ``load_for_turn``, but the session as it was when its message ``until_seq`` was the
        newest (a conversation branching from an earlier turn): one GetItem and one Query."""
        return self._load(session_id, principal, trim=True, until_seq=until_seq)

    def load(self, session_id: str, principal: Principal, *, trim: bool = True) -> list[dict]:
        """The session's messages; ``trim=False`` returns all of them (e.g. for ``/chat-history``)."""
        return self._load(session_id, principal, trim=trim).messages

    def read_page(
        self, session_id: str, principal: Principal, *, limit: int = 100, next_token: str | None = None
    ) -> HistoryPage:
        """Up to ``limit`` messages (and ``HISTORY_PAGE_MAX_BYTES`` bytes, but at least one message)
        from the start of the session, or from where ``next_token`` (of the previous page) points.

        Two requests: the header (owner check) and a Query that stops once the page is full.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise validation("limit must be a positive whole number", param="limit")
        first_seq = decode_page_token(next_token) if next_token else 1
        if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
            raise _not_found()
        now = epoch_datetime(self._clock())
        try:
            header = self._model.get(session_id, HEADER_SEQ, consistent_read=True)
        except self._model.DoesNotExist:
            raise _not_found() from None
        except _STORE_ERRORS as exc:
            raise self._unavailable("load", exc) from exc
        if header.expires_at <= now or (not principal.is_admin and header.owner_id != principal.owner_id):
            raise _not_found()
        page: list[HistoryItem] = []
        group: list[HistoryItem] = []
        count = size = 0
        next_seq: int | None = None
        try:
            for item in self._model.query(
                session_id, self._model.seq.between(first_seq, HEADER_SEQ - 1), consistent_read=True
            ):
                if not group:
                    if item.expires_at <= now:  # aged out (TTL deletes lazily); the oldest go first
                        continue
                    if not is_message_start(item) and not page and next_token:
                        raise _invalid_token()  # points into the middle of a split message
                    if count >= limit:
                        next_seq = int(item.seq)
                        break
                group.append(item)
                if item.parts is None or item.parts <= 1 or len(group) >= item.parts:
                    group_size = sum(len((i.message or "").encode("utf-8")) for i in group)
                    if count and size + group_size > self.config.page_max_bytes:
                        next_seq, group = int(group[0].seq), []  # the next page starts with it
                        break
                    page.extend(group)
                    group = []
                    count += 1
                    size += group_size
        except _STORE_ERRORS as exc:
            raise self._unavailable("load", exc) from exc
        messages = self._decode(session_id, page + group)  # a group left open is a broken message
        return HistoryPage(messages, encode_page_token(next_seq) if next_seq else None)

    def list_sessions(self, owner_id: str, limit: int = 50, cursor: str | None = None) -> tuple[list[str], str | None]:
        """The owner's session ids, newest first, and an opaque cursor for the next page (or None)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise validation("limit must be an integer between 1 and 1000", param="limit")
        start_key = decode_cursor(cursor, owner_id) if cursor else None
        try:
            results = self._model.owner_index.query(
                owner_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
            )
            headers = list(results)
            last_key = results.last_evaluated_key
        except _STORE_ERRORS as exc:
            if start_key is not None and _is_validation_error(exc):  # DynamoDB refused the cursor's key
                raise _invalid_token() from None
            raise self._unavailable("list_sessions", exc) from exc
        now = epoch_datetime(self._clock())
        ids = [h.session_id for h in headers if h.expires_at > now]
        return ids, encode_cursor(last_key) if last_key else None

    # -- turns ---------------------------------------------------------------------------------------
    def check_size(self, messages: Sequence[Any], model: str | None = None) -> None:
        """Reject, before the model call, messages the store could not keep once the reply is added."""
        self._encode_turn(messages, model, reserve=True)

    def append(
        self,
        turn: SessionTurn | str,
        messages: Sequence[Any],
        model: str | None,
        *,
        extra: ExtraItems | None = None,
        at_tail: bool = False,
    ) -> None:
        """Store a turn's messages contiguously after the session's last message, in one transaction.

        Given a ``SessionTurn`` this is a single request; given a bare session id the tail is read
        first. The caller must already have checked ownership (``load_for_turn`` does). Raises
        ``VALIDATION`` (nothing written) for messages that cannot be stored, ``NOT_FOUND`` when the
        session is gone, ``UNAVAILABLE`` when the store is down. ``extra`` items (below seq 1) are
        written in the same transaction, given the seqs the messages got. ``at_tail``: the turn
        must directly follow ``turn.last_seq``; if another turn was stored there first, raise
        ``UNAVAILABLE`` (``SESSION_MOVED_ON``) instead of writing after it.
        """
        if not messages:
            return
        encoded = self._encode_turn(messages, model, reserve=False, extra=extra)
        new_owner = None
        if isinstance(turn, SessionTurn):
            session_id, last_seq = turn.session_id, turn.last_seq
            new_owner = turn.owner_id if turn.new else None
        else:
            session_id = turn
            last_seq = self._tail_seq(session_id)
        for attempt in range(self.config.append_attempts):
            try:
                extras = extra(*_message_seqs(encoded, last_seq + 1)) if extra else ()
                self._write_turn(session_id, last_seq + 1, encoded, model, new_owner=new_owner, extras=extras)
                return
            except TransactWriteError as exc:
                if new_owner:
                    raise self._unavailable("append", exc) from exc
                outcome = _cancellation_outcome(exc)
                if outcome == "missing":
                    raise _not_found() from None
                if outcome is None:
                    raise self._unavailable("append", exc) from exc
            except _STORE_ERRORS as exc:
                raise self._unavailable("append", exc) from exc
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
            tail = self._tail_seq(session_id)
            if at_tail and tail != last_seq:
                raise GatewayError(ErrorKind.UNAVAILABLE, SESSION_MOVED_ON)
            last_seq = tail
        logger.warning("history append gave up after conflicts", extra={"session_id": session_id})
        raise GatewayError(ErrorKind.UNAVAILABLE, "chat history is busy with concurrent turns on this session; retry")

    # -- operations ----------------------------------------------------------------------------------
    def ping(self) -> None:
        """Raise ``UNAVAILABLE`` unless the table is reachable."""
        try:
            self._model.describe_table()
        except _STORE_ERRORS as exc:
            raise self._unavailable("ping", exc) from exc

    def ensure_table(self) -> None:
        """Create the table (on-demand, owner GSI, TTL) if missing — for local stacks; AWS uses CDK."""
        try:
            if not self._model.exists():
                self._model.create_table(wait=True)
        except _STORE_ERRORS as exc:
            raise self._unavailable("ensure_table", exc) from exc

    @property
    def item_model(self) -> type[HistoryItem]:
        """The table's bound model, for modules keeping their own items in a session (``responses/``)."""
        return self._model

    def now(self) -> float:
        return self._clock()

    def store_error(self, operation: str, exc: BaseException) -> GatewayError:
        """``UNAVAILABLE`` for a failed DynamoDB request (logged without its data)."""
        return self._unavailable(operation, exc)

    @property
    def botocore_client(self) -> Any:
        """The underlying botocore client, for instrumentation (request counting in tests/benchmarks)."""
        return self._model._get_connection().connection.client

    # -- reading -------------------------------------------------------------------------------------
    def _load(self, session_id: str, principal: Principal, *, trim: bool, until_seq: int | None = None) -> SessionTurn:
        if not isinstance(session_id, str):
            raise validation("session_id must be a string", param="session_id")
        if not _SESSION_ID.match(session_id):
            raise _not_found()
        window = (
            self._read_window(session_id, self.config.max_messages, self.config.max_replay_bytes, until_seq)
            if trim
            else self._read_window(session_id, None, None)
        )
        header = window.header
        if not principal.is_admin and header.owner_id != principal.owner_id:
            raise _not_found()
        messages = self._decode(session_id, window.items)
        if trim:
            instructions: list[dict] = []
            if not window.complete and not window.aged_out and header.lead_items:
                first_seq = int(window.items[0].seq) if window.items else window.last_seq + 1
                instructions = self._read_instructions(session_id, int(header.lead_items), first_seq)
            messages = trim_history(
                messages,
                self.config.max_messages,
                max_bytes=self.config.max_replay_bytes,
                complete=window.complete and not window.aged_out,
                instructions=instructions,
            )
        return SessionTurn(session_id, header.owner_id or "", messages, window.last_seq)

    def _read_window(
        self, session_id: str, max_messages: int | None, max_bytes: int | None, until_seq: int | None = None
    ) -> _Window:
        """Header + the newest messages (all when the limits are None) in one descending Query.

        Reads one message past ``max_messages`` or ``max_bytes`` when there are more, so the caller
        knows something was cut; pages further only for split messages or when a page hits
        DynamoDB's 1 MB.
        """
        now = epoch_datetime(self._clock())
        header: HistoryItem | None = None
        newest_first: list[HistoryItem] = []
        last_seq = 0
        count = size = 0
        complete, aged_out = True, False
        try:
            if until_seq is not None:  # the header is not in the Query's range: read it first
                header = self._model.get(session_id, HEADER_SEQ, consistent_read=True)
                if header.expires_at <= now:
                    raise _not_found()
            results = self._model.query(
                session_id,
                # items below 1 are not messages (responses/ keeps its records there)
                self._model.seq > 0 if until_seq is None else self._model.seq.between(1, until_seq),
                scan_index_forward=False,
                consistent_read=True,
                page_size=max_messages + 2 if max_messages else None,
            )
            for item in results:
                if header is None:
                    if item.seq != HEADER_SEQ or item.expires_at <= now:
                        raise _not_found()
                    header = item
                    continue
                last_seq = last_seq or int(item.seq)
                if item.expires_at <= now:  # this and everything older aged out (TTL deletes lazily)
                    aged_out = True
                    break
                newest_first.append(item)
                size += len((item.message or "").encode("utf-8"))
                if is_message_start(item):
                    count += 1
                    if (max_messages is not None and count > max_messages) or (
                        max_bytes is not None and size > max_bytes
                    ):
                        complete = False
                        break
        except self._model.DoesNotExist:
            raise _not_found() from None
        except _STORE_ERRORS as exc:
            raise self._unavailable("load", exc) from exc
        if header is None:
            raise _not_found()
        return _Window(header, newest_first[::-1], last_seq, complete, aged_out)

    def _read_instructions(self, session_id: str, lead_items: int, before_seq: int) -> list[dict]:
        """The session's leading system/developer messages, when the window no longer holds them."""
        last = min(lead_items, before_seq - 1)
        if last < 1:
            return []
        now = epoch_datetime(self._clock())
        try:
            items = list(self._model.query(session_id, self._model.seq.between(1, last), consistent_read=True))
        except _STORE_ERRORS as exc:
            raise self._unavailable("load", exc) from exc
        if len(items) != last or any(item.expires_at <= now for item in items):
            return []  # aged out
        return [m for m in self._decode(session_id, items) if m.get("role") in INSTRUCTION_ROLES]

    def _decode(self, session_id: str, items: list[HistoryItem]) -> list[dict]:
        try:
            return [s.message for s in decode_items(items)]
        except CorruptHistory as exc:
            logger.error("chat history is corrupt", extra={"session_id": session_id, "detail": str(exc)})
            raise GatewayError(ErrorKind.INTERNAL, "chat history could not be read") from exc

    def _tail_seq(self, session_id: str) -> int:
        """The newest message seq (0 when none); existence is checked by the append transaction."""
        try:
            tail = list(
                self._model.query(
                    session_id,
                    self._model.seq.between(1, HEADER_SEQ - 1),
                    scan_index_forward=False,
                    limit=1,
                    consistent_read=True,
                    attributes_to_get=["seq"],
                )
            )
        except _STORE_ERRORS as exc:
            raise self._unavailable("append", exc) from exc
        return int(tail[0].seq) if tail else 0

    # -- writing -------------------------------------------------------------------------------------
    def _encode_turn(
        self, messages: Sequence[Any], model: str | None, *, reserve: bool, extra: ExtraItems | None = None
    ) -> list[EncodedMessage]:
        if not isinstance(messages, list | tuple):
            raise validation("messages must be a list", param="messages")
        encoded = [encode_message(m, i, self.config, model) for i, m in enumerate(messages)]
        items = 1 + sum(len(e.chunks) for e in encoded)  # + the header's TTL refresh
        size = HEADER_UPDATE_SIZE + sum(
            message_item_size(chunk, e.role, model, split=len(e.chunks) > 1) for e in encoded for chunk in e.chunks
        )
        if extra is not None:  # seqs only change a few digits of the extra items
            extras = extra(*_message_seqs(encoded, HEADER_SEQ - 1 - _item_count(encoded)))
            items += len(extras)
            size += sum(message_item_size(x.chunk, x.role, model, split=True) for x in extras)
        if reserve:
            items += self.config.reply_reserve_items
            size += self.config.reply_reserve_bytes
        if items > TRANSACTION_MAX_ITEMS or size > TRANSACTION_MAX_BYTES:
            raise validation(
                f"this turn is too large for chat history: {len(messages)} messages in {items} items of "
                f"{size:,} bytes{' (including room for the reply)' if reserve else ''}; one turn is "
                f"stored in one DynamoDB transaction of at most {TRANSACTION_MAX_ITEMS} items and "
                f"{TRANSACTION_MAX_BYTES:,} bytes",
                param="messages",
            )
        return encoded

    def _write_turn(
        self,
        session_id: str,
        first_seq: int,
        encoded: list[EncodedMessage],
        model: str | None,
        *,
        new_owner: str | None = None,
        extras: Sequence[ExtraItem] = (),
    ) -> None:
        m = self._model
        now = self._clock()
        created_at = int(now * 1000)
        expires_at = epoch_datetime(now + self.config.ttl_days * 86400)
        header_actions = [m.expires_at.set(expires_at)]
        if first_seq == 1 and (lead := leading_instruction_items(encoded)):
            header_actions.append(m.lead_items.set(lead))
        connection = m._get_connection().connection
        # A fresh token per attempt: botocore's own retries of this request stay idempotent.
        with TransactWrite(connection=connection, client_request_token=uuid.uuid4().hex) as tx:
            seq = first_seq
            for e in encoded:
                split = len(e.chunks) > 1
                for index, chunk in enumerate(e.chunks):
                    item = m(
                        session_id,
                        seq,
                        role=e.role,
                        message=chunk,
                        created_at=created_at,
                        expires_at=expires_at,
                        model_id=model,
                        part=index if split else None,
                        parts=len(e.chunks) if split else None,
                    )
                    tx.save(item, condition=m.seq.does_not_exist())
                    seq += 1
            for x in extras:
                extra_item = m(session_id, x.seq, role=x.role, message=x.chunk, created_at=created_at,
                               expires_at=expires_at, model_id=model, part=x.part, parts=x.parts)  # fmt: skip
                tx.save(extra_item, condition=m.seq.does_not_exist())
            if new_owner:
                header = m(session_id, HEADER_SEQ, owner_id=new_owner, created_at=created_at, expires_at=expires_at)
                if first_seq == 1 and (lead := leading_instruction_items(encoded)):
                    header.lead_items = lead
                tx.save(header, condition=m.seq.does_not_exist())
                return
            # Last in the request (PynamoDB puts updates after puts): it is cancellation_reasons[-1].
            tx.update(m(session_id, HEADER_SEQ), actions=header_actions, condition=m.owner_id.exists())

    def _unavailable(self, operation: str, exc: BaseException) -> GatewayError:
        logger.warning(
            "chat history store error",
            extra={"operation": operation, "table": self.config.table_name, "error": _describe(exc)},
        )
        return GatewayError(ErrorKind.UNAVAILABLE, "chat history store unavailable")


# -- pure helpers ------------------------------------------------------------------------------------


def trim_history(
    messages: list[dict],
    max_messages: int,
    *,
    max_bytes: int | None = None,
    complete: bool = True,
    instructions: list[dict] | None = None,
) -> list[dict]:
    """The newest ``max_messages`` messages (of at most ``max_bytes`` bytes), from a clean boundary.

    ``complete``: ``messages`` start at the session's first message; then its leading
    system/developer messages (the instructions) are kept in front, counting towards both caps.
    Otherwise the caller passes them as ``instructions`` (empty when they aged out). Instructions
    that alone exceed a cap are left out. Whenever older messages are left out, the rest starts at
    a user message: never with an orphaned tool result, nor with an assistant reply whose question
    or tool results are gone.
    """
    pinned = list(instructions or [])
    rest = messages
    if complete:
        n = 0
        while n < len(messages) and messages[n].get("role") in INSTRUCTION_ROLES:
            n += 1
        pinned, rest = messages[:n], messages[n:]
        if len(messages) <= max_messages and (max_bytes is None or sum(map(json_size, messages)) <= max_bytes):
            return list(messages)
    if len(pinned) >= max_messages:
        pinned = []
    start = max(0, len(rest) - (max_messages - len(pinned)))
    if max_bytes is not None:
        budget = max_bytes - sum(map(json_size, pinned))
        if budget < 0:
            pinned, budget = [], max_bytes
        end = len(rest)
        while end > start and (size := json_size(rest[end - 1])) <= budget:
            budget -= size
            end -= 1
        start = end
    return pinned + rest[_clean_start(rest, start) :]


def _item_count(encoded: Sequence[EncodedMessage]) -> int:
    return sum(len(e.chunks) for e in encoded)


def _message_seqs(encoded: Sequence[EncodedMessage], first_seq: int) -> tuple[list[int], int]:
    """The seq each message starts at, and the last seq, when the turn is written from ``first_seq``."""
    starts, seq = [], first_seq
    for e in encoded:
        starts.append(seq)
        seq += len(e.chunks)
    return starts, seq - 1


def _clean_start(messages: list[dict], start: int) -> int:
    for i in range(start, len(messages)):
        if messages[i].get("role") == "user":
            return i
    for i in range(start, len(messages)):  # no user message left: at least skip orphaned tool results
        if messages[i].get("role") not in _TOOL_ROLES:
            return i
    return len(messages)


def encode_cursor(last_key: dict[str, dict[str, Any]]) -> str:
    """Opaque page cursor: only (created_at, session_id); the owner always comes from the caller."""
    raw = json.dumps([last_key["created_at"]["N"], last_key["session_id"]["S"]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, owner_id: str) -> dict[str, dict[str, str]]:
    """The DynamoDB start key of a ``/session-ids`` cursor; 400 for anything ``encode_cursor`` did not
    make (checked strictly, so DynamoDB never sees a key it would refuse)."""
    try:
        raw = _b64decode(cursor)
        created_at, session_id = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        raise _invalid_token() from None
    if not (
        isinstance(created_at, str)
        and isinstance(session_id, str)
        and _CURSOR_CREATED_AT.fullmatch(created_at)
        and _SESSION_ID.fullmatch(session_id)
    ):
        raise _invalid_token()
    return {
        "owner_id": {"S": owner_id},
        "created_at": {"N": created_at},
        "session_id": {"S": session_id},
        "seq": {"N": str(HEADER_SEQ)},
    }


def encode_page_token(seq: int) -> str:
    """Opaque ``/chat-history`` page token: the seq the next page starts at."""
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    try:
        match = _PAGE_TOKEN.fullmatch(_b64decode(token).decode("ascii"))
    except (ValueError, TypeError):
        raise _invalid_token() from None
    if not match:
        raise _invalid_token()
    return int(match.group(1))


def _b64decode(token: str) -> bytes:
    """Strict base64url (ValueError for anything else, wrong type or length included)."""
    if not isinstance(token, str) or not token.isascii() or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise ValueError("not a token")
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def _invalid_token() -> GatewayError:
    return validation("next_token is not a token returned by the previous page", param="next_token")


def _is_validation_error(exc: BaseException) -> bool:
    """DynamoDB's ``ValidationException`` (a request it refuses, e.g. a malformed start key)."""
    code = _response_code(exc)
    if code is None and isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code")
    return code == "ValidationException"


def _not_found() -> GatewayError:
    return GatewayError(ErrorKind.NOT_FOUND, "session not found", param="session_id")


def _response_code(exc: BaseException) -> str | None:
    """DynamoDB's error code, or None when no DynamoDB answer came back (a timeout, a reset connection).

    pynamodb's ``cause_response_code`` raises AttributeError when its cause carries ``response = None``.
    """
    return getattr(exc, "cause_response_code", None)  # getattr's default also covers that AttributeError


def _cancellation_outcome(exc: TransactWriteError) -> Literal["missing", "retry"] | None:
    """``missing``: the header is gone; ``retry``: seqs taken / concurrent transaction; None: other."""
    if _response_code(exc) != "TransactionCanceledException":
        return None
    codes = [reason.code if reason else None for reason in exc.cancellation_reasons]
    if codes and codes[-1] == "ConditionalCheckFailed":
        return "missing"
    if any(code in _RETRYABLE_REASONS for code in codes):
        return "retry"
    return None


def _describe(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc.__cause__ or exc
    code = _response_code(exc)
    return f"{type(cause).__name__}: {code or cause}"[:300]
