"""Converse fields around the answer: service tier, performance config, stop sequences, response field paths.

- ``serviceTier`` goes to LiteLLM as ``service_tier``; the response names the tier the upstream
  reports when it is one of Bedrock's, else the one asked for (Anthropic reports its own names).
- ``performanceConfig`` has no LiteLLM counterpart: it is checked and echoed, as Bedrock does.
- ``stopReason: "stop_sequence"`` only when the upstream itself names the stop sequence that ended
  the answer *and* it is one the request asked for: vLLM's choice-level ``stop_reason`` (LiteLLM
  relays it in the choice's ``provider_specific_fields``, non-streamed only) or a ``stop_sequence``
  field (Anthropic's name) among the provider-specific fields. LiteLLM 1.108.7 drops Anthropic's
  ``stop_sequence`` and every streamed one, so those answers stay ``end_turn``: never guessed.
- ``additionalModelResponseFieldPaths`` are JSON Pointers (RFC 6901) into the upstream answer as
  LiteLLM returns it, with the provider-specific fields of the first choice (and of its message)
  and ``stop_sequence`` lifted to the top; fields that are absent are left out, as on Bedrock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.errors import validation

SERVICE_TIERS = ("priority", "default", "flex", "reserved")
_LATENCIES = ("standard", "optimized")
_MAX_PATHS = 10
_MAX_PATH_LENGTH = 256


@dataclass(frozen=True)
class ResponseExtras:
    """What the request asked for that shapes the response rather than the model call."""

    field_paths: tuple[tuple[str, ...], ...] = ()  # parsed JSON Pointers
    service_tier: str | None = None
    performance_config: dict | None = None
    stop_sequences: tuple[str, ...] = ()

    def stop_sequence(self, reported: Any) -> str | None:
        """``reported`` if it is one of the request's stop sequences (what the upstream said stopped it)."""
        return reported if isinstance(reported, str) and reported in self.stop_sequences else None

    def echo(self, upstream_tier: Any = None) -> dict:
        """``serviceTier`` / ``performanceConfig`` for the response and the stream's metadata event."""
        out: dict[str, Any] = {}
        if self.performance_config is not None:
            out["performanceConfig"] = dict(self.performance_config)
        if self.service_tier is not None:
            tier = upstream_tier if upstream_tier in SERVICE_TIERS else self.service_tier
            out["serviceTier"] = {"type": tier}
        return out

    def response_fields(self, document: dict) -> dict | None:
        """``additionalModelResponseFields``: the requested paths found in ``document`` (None if none)."""
        found: dict = {}
        for tokens in self.field_paths:
            present, value = _resolve(document, tokens)
            if present:
                _place(found, tokens, value)
        return found or None


NO_EXTRAS = ResponseExtras()


def parse_response_extras(body: dict, openai_body: dict) -> ResponseExtras:
    """Check the fields and return them; ``service_tier`` is added to ``openai_body`` (the LiteLLM request)."""
    tier = None
    if body.get("serviceTier") is not None:
        value = body["serviceTier"]
        if not isinstance(value, dict) or set(value) - {"type"} or value.get("type") not in SERVICE_TIERS:
            raise validation(f"serviceTier.type must be one of {', '.join(SERVICE_TIERS)}")
        tier = value["type"]
        openai_body["service_tier"] = tier
    performance = None
    if body.get("performanceConfig") is not None:
        value = body["performanceConfig"]
        if not isinstance(value, dict) or set(value) - {"latency"}:
            raise validation("performanceConfig must be an object with only latency")
        if value.get("latency") is not None and value["latency"] not in _LATENCIES:
            raise validation(f"performanceConfig.latency must be one of {', '.join(_LATENCIES)}")
        performance = {k: v for k, v in value.items() if v is not None}
    paths: list[tuple[str, ...]] = []
    if body.get("additionalModelResponseFieldPaths") is not None:
        value = body["additionalModelResponseFieldPaths"]
        if not isinstance(value, list) or len(value) > _MAX_PATHS:
            raise validation(f"additionalModelResponseFieldPaths must be a list of at most {_MAX_PATHS} JSON Pointers")
        paths = [_pointer(p, f"additionalModelResponseFieldPaths[{k}]") for k, p in enumerate(value)]
    stops = openai_body.get("stop")
    stops = [stops] if isinstance(stops, str) else stops if isinstance(stops, list) else []
    return ResponseExtras(
        field_paths=tuple(paths),
        service_tier=tier,
        performance_config=performance,
        stop_sequences=tuple(s for s in stops if isinstance(s, str)),
    )


def _pointer(value: Any, path: str) -> tuple[str, ...]:
    """An RFC 6901 pointer -> its reference tokens; the empty pointer (the whole document) is refused."""
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_PATH_LENGTH or not value.startswith("/"):
        raise validation(f"{path} must be a JSON Pointer such as /stop_sequence (1 to {_MAX_PATH_LENGTH} characters)")
    tokens = value[1:].split("/")
    for token in tokens:
        if "~" in token.replace("~0", "").replace("~1", ""):
            raise validation(f"{path} is not a valid JSON Pointer: '~' must be followed by 0 or 1")
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in tokens)


def _resolve(document: Any, tokens: Iterable[str]) -> tuple[bool, Any]:
    node = document
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node) and str(int(token)) == token:
            node = node[int(token)]
        else:
            return False, None
    return node is not None, node


def _place(target: dict, tokens: tuple[str, ...], value: Any) -> None:
    for token in tokens[:-1]:
        nxt = target.get(token)
        target = target.setdefault(token, {}) if not isinstance(nxt, dict) else nxt
    target[tokens[-1]] = value


def provider_fields(*holders: Any) -> dict:
    """The non-null ``provider_specific_fields`` of the given objects, later ones winning."""
    out: dict = {}
    for holder in holders:
        fields = holder.get("provider_specific_fields") if isinstance(holder, dict) else None
        if isinstance(fields, dict):
            out.update((k, v) for k, v in fields.items() if v is not None)
    return out


def reported_stop(choice: dict, fields: dict) -> Any:
    """What the upstream named as the stop that ended the answer: vLLM's or Anthropic's field."""
    for value in (fields.get("stop_sequence"), choice.get("stop_reason"), fields.get("stop_reason")):
        if isinstance(value, str):
            return value
    return None


def native_document(response: dict, fields: dict, stop_sequence: str | None) -> dict:
    """The document ``additionalModelResponseFieldPaths`` resolve against (see the module doc)."""
    document = {**response, **fields}
    if stop_sequence is not None:
        document["stop_sequence"] = stop_sequence
    return document


def cache_details(usage: dict) -> list[dict] | None:
    """Bedrock ``cacheDetails`` from LiteLLM's cache writes by TTL (1h before 5m, as Bedrock sorts them)."""
    details = usage.get("prompt_tokens_details")
    by_ttl = details.get("cache_creation_token_details") if isinstance(details, dict) else None
    if not isinstance(by_ttl, dict):
        return None
    out = []
    for ttl in ("1h", "5m"):
        tokens = by_ttl.get(f"ephemeral_{ttl}_input_tokens")
        if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0:
            out.append({"ttl": ttl, "inputTokens": tokens})
    return out or None
