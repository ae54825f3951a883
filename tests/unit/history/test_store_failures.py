"""A store failure with no DynamoDB answer behind it (a timeout, a reset) is 'unavailable', never a crash."""

from __future__ import annotations

from pynamodb.exceptions import PutError, TransactWriteError

from gateway.history.store import _cancellation_outcome, _describe, _response_code


class _NoAnswer(Exception):
    """Like urllib3/botocore errors that carry ``response = None`` when no HTTP answer arrived."""

    response = None


def test_a_transaction_without_an_answer_is_not_a_cancellation():
    error = TransactWriteError("Failed to write transaction items", cause=_NoAnswer("read timed out"))
    assert _response_code(error) is None
    assert _cancellation_outcome(error) is None  # → 503 unavailable; it raised AttributeError (→ 500)
    assert "read timed out" in _describe(error)


def test_a_put_without_an_answer_has_no_code():
    assert _response_code(PutError("Failed to put item", cause=_NoAnswer("connection reset"))) is None
