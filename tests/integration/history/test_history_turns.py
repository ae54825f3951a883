"""A turn's cost (requests) and concurrent turns on one session."""

from __future__ import annotations

import threading

from gateway.history import HistoryConfig, HistoryStore


def test_one_turn_is_one_query_and_one_transaction(store: HistoryStore, alice, request_counter) -> None:
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "m")
    request_counter.reset()

    turn = store.load_for_turn(session_id, alice)
    store.append(turn, [{"role": "user", "content": "again"}, {"role": "assistant", "content": "sure"}], "m")

    assert dict(request_counter.counts) == {"Query": 1, "TransactWriteItems": 1}


def test_first_turn_of_a_new_session_is_one_put_and_one_transaction(
    store: HistoryStore, alice, request_counter
) -> None:
    turn = store.start_session(alice.owner_id)
    store.append(turn, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "m")

    assert dict(request_counter.counts) == {"PutItem": 1, "TransactWriteItems": 1}


def test_an_opened_session_is_written_only_by_its_first_append_in_one_transaction(
    store: HistoryStore, alice, request_counter
) -> None:
    turn = store.open_session(alice.owner_id)
    assert dict(request_counter.counts) == {}  # nothing written before the model call
    store.append(turn, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "m")

    assert dict(request_counter.counts) == {"TransactWriteItems": 1}
    assert store.load(turn.session_id, alice) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]
    assert turn.session_id in store.list_sessions(alice.owner_id)[0]


def test_parallel_turns_on_one_session_lose_nothing(store: HistoryStore, alice) -> None:
    session_id = store.new_session(alice.owner_id)
    turns = [store.load_for_turn(session_id, alice) for _ in range(8)]  # all read the same tail
    barrier = threading.Barrier(len(turns))
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            store.append(
                turns[i],
                [
                    {"role": "user", "content": f"question {i}"},
                    {"role": "assistant", "content": f"answer {i}"},
                ],
                "m",
            )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(turns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    messages = store.load(session_id, alice, trim=False)
    assert len(messages) == 16
    pairs = [(messages[k]["content"], messages[k + 1]["content"]) for k in range(0, 16, 2)]
    assert sorted(pairs) == sorted((f"question {i}", f"answer {i}") for i in range(8))  # contiguous turns


def test_a_conflict_costs_one_tail_read_and_one_more_transaction(store: HistoryStore, alice, request_counter) -> None:
    session_id = store.new_session(alice.owner_id)
    mine = store.load_for_turn(session_id, alice)
    store.append(store.load_for_turn(session_id, alice), [{"role": "user", "content": "theirs"}], None)
    request_counter.reset()

    store.append(mine, [{"role": "user", "content": "mine"}], None)

    assert dict(request_counter.counts) == {"TransactWriteItems": 2, "Query": 1}
    assert [m["content"] for m in store.load(session_id, alice)] == ["theirs", "mine"]


def _fill(store: HistoryStore, session_id: str, n: int, first: list[dict] | None = None) -> list[dict]:
    messages = list(first or [])
    messages += [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(n)]
    for start in range(0, len(messages), 50):
        store.append(session_id, messages[start : start + 50], None)
    return messages


def test_a_long_session_costs_one_bounded_query(config: HistoryConfig, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name=config.table_name, max_messages=20))
    session_id = store.new_session(alice.owner_id)
    stored = _fill(store, session_id, 300)
    items_read: list[int] = []
    store.botocore_client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: items_read.append(parsed["Count"])
    )

    turn = store.load_for_turn(session_id, alice)

    assert turn.messages == stored[-20:] and turn.last_seq == 300
    assert items_read == [22]  # header + 20 messages + 1 to know that older ones exist


def test_a_long_session_keeps_its_system_prompt_for_one_more_small_query(config: HistoryConfig, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name=config.table_name, max_messages=20))
    session_id = store.new_session(alice.owner_id)
    system = [{"role": "system", "content": "be brief"}, {"role": "developer", "content": "no emoji"}]
    stored = _fill(store, session_id, 300, first=system)
    items_read: list[int] = []
    store.botocore_client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: items_read.append(parsed["Count"])
    )

    messages = store.load(session_id, alice)

    assert messages == system + stored[-18:]
    assert items_read == [22, 2]
    assert store.load(session_id, alice, trim=False) == stored
