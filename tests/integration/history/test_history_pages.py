"""Bounded reads: history pages (count and bytes), the byte-capped replay window, strict tokens."""

from __future__ import annotations

import json

import pytest
from botocore.awsrequest import AWSResponse

from gateway.errors import ErrorKind, GatewayError
from gateway.history import HistoryConfig, HistoryStore
from gateway.history.store import encode_cursor, encode_page_token


def exchange(i: int, size: int = 10) -> list[dict]:
    return [{"role": "user", "content": f"u{i} " + "x" * size}, {"role": "assistant", "content": f"a{i}"}]


def all_pages(store: HistoryStore, session_id: str, principal, limit: int) -> list[list[dict]]:
    pages, token = [], None
    while True:
        page = store.read_page(session_id, principal, limit=limit, next_token=token)
        pages.append(page.messages)
        token = page.next_token
        if token is None:
            return pages


def test_pages_by_count_join_to_the_whole_session(store: HistoryStore, alice) -> None:
    session_id = store.new_session(alice.owner_id)
    for i in range(4):
        store.append(session_id, exchange(i), "m")
    whole = store.load(session_id, alice, trim=False)

    pages = all_pages(store, session_id, alice, limit=3)

    assert [len(p) for p in pages] == [3, 3, 2]
    assert [m for p in pages for m in p] == whole
    first = store.read_page(session_id, alice)  # no token, default limit: the whole session, as before
    assert (first.messages, first.next_token) == (whole, None)


def test_pages_are_capped_by_bytes_and_never_cut_a_split_message(config: HistoryConfig, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name=config.table_name, item_budget_bytes=1024, page_max_bytes=5_000))
    session_id = store.new_session(alice.owner_id)
    for i in range(6):
        store.append(session_id, exchange(i, size=2_000), "m")  # each user message spans 2+ items

    pages = all_pages(store, session_id, alice, limit=100)

    assert [m for p in pages for m in p] == store.load(session_id, alice, trim=False)
    assert len(pages) == 3  # two exchanges of ~2 KB a page
    assert all(sum(len(json.dumps(m)) for m in p) <= 5_000 for p in pages)


def test_a_message_bigger_than_a_page_still_comes_whole(config: HistoryConfig, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name=config.table_name, item_budget_bytes=1024, page_max_bytes=1_000))
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, exchange(0, size=3_000), "m")

    pages = all_pages(store, session_id, alice, limit=100)

    assert pages == [exchange(0, size=3_000)[:1], exchange(0)[1:]]


def test_a_token_pointing_into_a_split_message_is_refused(config: HistoryConfig, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name=config.table_name, item_budget_bytes=1024))
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, exchange(0, size=3_000), "m")  # seqs 1..3 hold the user message

    with pytest.raises(GatewayError) as err:
        store.read_page(session_id, alice, next_token=encode_page_token(2))

    assert err.value.kind is ErrorKind.VALIDATION and err.value.param == "next_token"


def test_pages_are_owned_like_sessions(store: HistoryStore, alice, bob) -> None:
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, exchange(0), "m")
    with pytest.raises(GatewayError) as err:
        store.read_page(session_id, bob)
    assert err.value.kind is ErrorKind.NOT_FOUND


def test_the_replayed_window_is_capped_by_bytes(config: HistoryConfig, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name=config.table_name, max_replay_bytes=5_000))
    session_id = store.new_session(alice.owner_id)
    for i in range(10):
        store.append(session_id, exchange(i, size=1_000), "m")

    replayed = store.load_for_turn(session_id, alice).messages

    assert sum(len(json.dumps(m, separators=(",", ":"))) for m in replayed) <= 5_000
    assert replayed[0]["role"] == "user" and replayed[-1] == exchange(9)[1]
    assert len(replayed) == 8  # four whole exchanges of ~1 KB, not the 20 messages HISTORY_MAX_MESSAGES allows


def test_a_cursor_dynamodb_refuses_is_a_validation_error_not_unavailable(store: HistoryStore, alice) -> None:
    """Real DynamoDB refuses some start keys with ValidationException (the emulator is lenient), so
    that one answer is stubbed at the HTTP layer: a mock of AWS itself."""

    def refuse(request, **_):
        body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad key"}'
        return AWSResponse(request.url, 400, {"x-amzn-requestid": "test"}, _Raw(body))

    cursor = encode_cursor({"created_at": {"N": "1800000000000"}, "session_id": {"S": "ab" * 16}})
    store.botocore_client.meta.events.register_first("before-send.dynamodb.Query", refuse)

    with pytest.raises(GatewayError) as err:
        store.list_sessions(alice.owner_id, cursor=cursor)

    assert err.value.kind is ErrorKind.VALIDATION and err.value.param == "next_token"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_):
        body, self._body = self._body, b""
        return body
