"""History items: splitting a message across items and joining it back loses nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.history import HistoryConfig
from gateway.history.models import HistoryItem, decode_items, encode_message, split_utf8
from tests.unit.properties.settings import PROPERTIES

UTF8 = st.text(st.characters(codec="utf-8"), max_size=3000)  # every Unicode scalar value
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=3000)  # lone surrogates too
SMALL_ITEMS = HistoryConfig(item_budget_bytes=1024)  # the smallest budget allowed: many parts per message


@PROPERTIES
@given(text=UTF8, budget=st.integers(min_value=4, max_value=5000))
def test_split_utf8_rejoins_exactly_within_the_budget(text: str, budget: int) -> None:
    chunks = split_utf8(text, budget)

    assert "".join(chunks) == text
    assert all(0 < len(c.encode("utf-8")) <= budget for c in chunks) or text == ""


def _items(session: str, first_seq: int, chunks: list[str]) -> list[HistoryItem]:
    """The items ``HistoryStore._write_turn`` writes for one message."""
    split = len(chunks) > 1
    return [
        HistoryItem(
            session,
            first_seq + i,
            role="user",
            message=chunk,
            created_at=0,
            expires_at=None,
            part=i if split else None,
            parts=len(chunks) if split else None,
        )
        for i, chunk in enumerate(chunks)
    ]


@PROPERTIES
@given(contents=st.lists(ANY_TEXT, min_size=1, max_size=3), name=st.none() | ANY_TEXT)
def test_messages_split_into_items_decode_to_the_same_messages(contents: list[str], name: str | None) -> None:
    messages = [{"role": "user", "content": c} | ({"name": name} if name is not None else {}) for c in contents]
    items: list[HistoryItem] = []
    for index, message in enumerate(messages):
        encoded = encode_message(message, index, SMALL_ITEMS, "some-model")
        assert all(len(chunk.encode("utf-8")) <= SMALL_ITEMS.item_budget_bytes for chunk in encoded.chunks)
        items += _items("s" * 32, len(items) + 1, encoded.chunks)

    assert [stored.message for stored in decode_items(items)] == messages
