"""What the Responses API adds to the history store: items below seq 1 written with a turn (records),
never read as messages, and turns that must follow a given message (``at_tail``)."""

from __future__ import annotations

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.history import HistoryStore
from gateway.history.store import SESSION_MOVED_ON, ExtraItem
from gateway.responses.ids import mint_response_id
from gateway.responses.state import ResponseStore, record_items

TURN = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


def test_a_record_is_written_with_its_turn_and_never_read_as_a_message(store: HistoryStore, alice, bob) -> None:
    turn = store.open_session(alice.owner_id)
    response_id, seq = mint_response_id(turn.session_id)
    response = {"id": response_id, "object": "response", "output": []}
    seen = []

    def extra(starts: list[int], last: int) -> list[ExtraItem]:
        seen.append((starts, last))
        return record_items(seq, alice.owner_id, response, starts[0], 1, last, store.config.item_budget_bytes)

    store.append(turn, TURN, "m", extra=extra)
    assert seen[-1] == ([1, 2], 2)
    assert store.load(turn.session_id, alice, trim=False) == TURN
    assert store.load_for_turn(turn.session_id, alice).messages == TURN
    assert store.read_page(turn.session_id, alice).messages == TURN
    later = store.load_for_turn(turn.session_id, alice)
    store.append(later, [{"role": "user", "content": "more"}], "m")
    assert [m["content"] for m in store.load(turn.session_id, alice)] == ["hi", "hello", "more"]

    records = ResponseStore(store)
    record = records.read(response_id, alice)
    assert (record.session_id, record.input_seqs, record.last_seq, record.response) == (
        turn.session_id, (1, 1), 2, response
    )  # fmt: skip
    with pytest.raises(GatewayError) as caught:
        records.read(response_id, bob)
    assert caught.value.kind is ErrorKind.NOT_FOUND


def test_a_large_record_spans_several_items_and_reads_back_whole(store: HistoryStore, alice) -> None:
    turn = store.open_session(alice.owner_id)
    response_id, seq = mint_response_id(turn.session_id)
    response = {"id": response_id, "output": [{"type": "message", "text": "é" * 3000}]}
    store.append(
        turn, TURN, "m", extra=lambda s, last: record_items(seq, alice.owner_id, response, s[0], 1, last, 1024)
    )
    record = ResponseStore(store).read(response_id, alice)
    assert record.parts > 1 and record.response == response
    ResponseStore(store).delete(record)
    with pytest.raises(GatewayError):
        ResponseStore(store).read(response_id, alice)
    assert store.load(turn.session_id, alice) == TURN  # the conversation keeps its messages


def test_a_turn_at_the_tail_is_refused_once_another_turn_got_there_first(store: HistoryStore, alice) -> None:
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, TURN, "m")
    first = store.load_for_turn(session_id, alice)
    second = store.load_for_turn(session_id, alice)
    store.append(first, [{"role": "user", "content": "branch one"}], "m", at_tail=True)
    with pytest.raises(GatewayError) as caught:
        store.append(second, [{"role": "user", "content": "branch two"}], "m", at_tail=True)
    assert (caught.value.kind, caught.value.message) == (ErrorKind.UNAVAILABLE, SESSION_MOVED_ON)
    assert [m["content"] for m in store.load(session_id, alice)] == ["hi", "hello", "branch one"]
    store.append(second, [{"role": "user", "content": "moved on"}], "m")  # without at_tail: after the other
    assert [m["content"] for m in store.load(session_id, alice)][-1] == "moved on"
