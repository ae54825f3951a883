"""Privacy requests on chat history: ``export_history`` and ``purge_history``, for one user or one session.

A user's sessions are found through the table's owner index (the owner of a user's sessions is
``user:<user_id>``, see ``Principal.owner_id``). A purge deletes every item of a session, messages
first and the header last: if it stops half-way the header is still there, so running the event
again finds the session and finishes the job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anyio
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from gateway.errors import ErrorKind, GatewayError
from gateway.history.models import HEADER_SEQ, HistoryItem, bind_model
from gateway.identity.principal import Principal
from gateway.ops.context import OpsContext, OpsError
from gateway.ops.fields import exactly_one, only

_ADMIN = Principal(type="admin", user_id=None, key_hash=None)
_STORE_ERRORS = (PynamoDBException, BotoCoreError, ClientError)
#: Lambda answers at most 6 MB; leave room for the envelope.
EXPORT_MAX_BYTES = 5_000_000


def _owner(user_id: str) -> str:
    return f"user:{user_id}"


def _model(ctx: OpsContext) -> type[HistoryItem]:
    return bind_model(ctx.history_config)


def _session_ids(model: type[HistoryItem], owner_id: str) -> list[str]:
    try:
        return [h.session_id for h in model.owner_index.query(owner_id, scan_index_forward=False)]
    except _STORE_ERRORS as exc:
        raise OpsError(f"chat history store unavailable ({type(exc).__name__})") from None


def _targets(ctx: OpsContext, event: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    params = only(event, ("user_id", "session_id"))
    name, value = exactly_one(params, "user_id", "session_id")
    if name == "session_id":
        return {"session_id": value}, [value]
    return {"user_id": value}, _session_ids(_model(ctx), _owner(value))


def _export(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    target, ids = _targets(ctx, event)
    sessions = []
    for session_id in ids:
        try:
            messages = ctx.history.load(session_id, _ADMIN, trim=False)
        except GatewayError as exc:
            if exc.kind is ErrorKind.NOT_FOUND:
                continue  # expired (TTL) or purged meanwhile
            raise OpsError(exc.message) from None
        sessions.append({"session_id": session_id, "messages": messages})
    result = {**target, "sessions": sessions, "messages": sum(len(s["messages"]) for s in sessions)}
    if len(json.dumps(result)) > EXPORT_MAX_BYTES:
        raise OpsError(
            f"the export is larger than a Lambda answer ({EXPORT_MAX_BYTES:,} bytes): export the sessions one "
            f"at a time: {', '.join(s['session_id'] for s in sessions)}"
        )
    return result


def _purge(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    target, ids = _targets(ctx, event)
    model = _model(ctx)
    items = 0
    purged = []
    try:
        for session_id in ids:
            keys = [(i.session_id, i.seq) for i in model.query(session_id, attributes_to_get=["session_id", "seq"])]
            if not keys:
                continue
            messages = [k for k in keys if k[1] != HEADER_SEQ]
            with model.batch_write() as batch:
                for hash_key, seq in messages:
                    batch.delete(model(hash_key, seq))
            model(session_id, HEADER_SEQ).delete()
            items += len(keys)
            purged.append(session_id)
    except _STORE_ERRORS as exc:
        raise OpsError(
            f"chat history store unavailable ({type(exc).__name__}) after purging {len(purged)} session(s); "
            "run the event again to finish"
        ) from None
    return {**target, "sessions_purged": purged, "items_deleted": items}


async def export_history(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(_export, ctx, event)


async def purge_history(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(_purge, ctx, event)
