"""Which stored messages go back to the model: the newest, from a clean boundary."""

from __future__ import annotations

from gateway.history import trim_history


def m(role: str, tag: str = "") -> dict:
    return {"role": role, "content": tag or role}


SYSTEM = m("system", "rules")
CALL = {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function"}]}


def test_short_history_is_returned_whole() -> None:
    history = [SYSTEM, m("user"), m("assistant")]
    assert trim_history(history, 100) == history


def test_history_starting_with_an_assistant_greeting_is_kept_when_nothing_is_cut() -> None:
    history = [m("assistant", "hello!"), m("user"), m("assistant")]
    assert trim_history(history, 3) == history


def test_keeps_the_newest_and_starts_at_a_user_message() -> None:
    history = [m("user", "u1"), m("assistant", "a1"), m("user", "u2"), m("assistant", "a2"), m("user", "u3")]

    assert trim_history(history, 4) == history[2:]  # newest 4 would start at a1
    assert trim_history(history, 3) == history[2:]
    assert trim_history(history, 1) == history[4:]


def test_never_starts_with_an_orphaned_tool_result() -> None:
    history = [m("user", "u1"), CALL, m("tool", "r1"), m("tool", "r2"), m("assistant", "a1"), m("user", "u2")]

    kept = trim_history(history, 4)

    assert kept == [m("user", "u2")]


def test_a_long_tool_loop_without_user_message_skips_only_the_orphaned_results() -> None:
    history = [m("user"), CALL, m("tool"), CALL, m("tool"), CALL, m("tool")]

    assert trim_history(history, 4) == [CALL, m("tool"), CALL, m("tool")]
    assert trim_history(history, 1) == []


def test_leading_instructions_are_pinned_and_count_towards_the_cap() -> None:
    history = [SYSTEM, m("developer"), *[m("user", f"u{i}") for i in range(10)]]

    kept = trim_history(history, 5)

    assert kept == [SYSTEM, m("developer"), m("user", "u7"), m("user", "u8"), m("user", "u9")]


def test_after_ttl_aged_out_the_oldest_the_rest_starts_clean() -> None:
    history = [m("tool"), m("assistant"), m("user", "u2"), m("assistant", "a2")]

    assert trim_history(history, 100, complete=False) == history[2:]


def big(role: str, tag: str, size: int) -> dict:
    return {"role": role, "content": tag + "x" * size}


def test_the_replayed_window_is_capped_by_bytes_from_a_clean_boundary() -> None:
    history = [big("user", "u1", 400), big("assistant", "a1", 400), big("user", "u2", 400), big("assistant", "a2", 10)]

    assert trim_history(history, 100, max_bytes=10_000) == history
    assert trim_history(history, 100, max_bytes=1_000) == history[2:]  # a1 would fit, but starts mid-exchange
    assert trim_history(history, 100, max_bytes=100) == history[3:]  # as by count: no user message left
    assert trim_history(history, 100, max_bytes=10) == []


def test_instructions_count_towards_the_byte_cap_and_go_when_they_alone_exceed_it() -> None:
    system = big("system", "rules", 300)
    history = [system, big("user", "u1", 300), big("assistant", "a1", 300), m("user", "u2")]

    assert trim_history(history, 100, max_bytes=800) == [system, m("user", "u2")]
    assert trim_history(history, 100, max_bytes=200) == [m("user", "u2")]
