"""An unreachable store fails fast with UNAVAILABLE (503), for every operation."""

from __future__ import annotations

import socket

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.history import HistoryConfig, HistoryStore, SessionTurn


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens once the socket is closed


def test_unreachable_store_is_unavailable(monkeypatch: pytest.MonkeyPatch, alice) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    store = HistoryStore(HistoryConfig(table_name="history-down"))
    session_id = "0" * 32
    calls = [
        lambda: store.new_session(alice.owner_id),
        lambda: store.load_for_turn(session_id, alice),
        lambda: store.append(SessionTurn(session_id, alice.owner_id, [], 0), [{"role": "user", "content": "x"}], None),
        lambda: store.append(session_id, [{"role": "user", "content": "x"}], None),
        lambda: store.list_sessions(alice.owner_id),
        store.ping,
    ]

    for call in calls:
        with pytest.raises(GatewayError) as err:
            call()
        assert err.value.kind is ErrorKind.UNAVAILABLE
        assert err.value.message == "chat history store unavailable"


def test_missing_table_is_unavailable(aws_env: str, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name="no-such-table"))

    with pytest.raises(GatewayError) as err:
        store.new_session(alice.owner_id)

    assert err.value.kind is ErrorKind.UNAVAILABLE
