"""Bedrock ``guardrailConfig`` -> LiteLLM guardrails, and a guardrail's block -> Bedrock's answer.

Pure: no I/O (the list of LiteLLM's guardrails comes from ``guardrail_catalog.py``).

- Resolution of ``guardrailIdentifier`` (+ ``guardrailVersion``), first match wins: (1) the gateway
  setting ``GUARDRAIL_MAP`` (``"<id>:<version>"`` before ``"<id>"``; an ARN is also tried by its id);
  (2) a LiteLLM guardrail whose ``guardrail_name`` is the identifier (LiteLLM guardrails have no
  versions: the version is not checked); (3) LiteLLM guardrails of type ``bedrock`` configured with
  that ``guardrailIdentifier`` and ``guardrailVersion``. LiteLLM cannot apply a Bedrock guardrail it
  is not configured with (its Bedrock hook takes the id from its config only), so anything else is a
  ValidationException, as is a guardrail whose mode cannot block (``logging_only``, MCP modes).
- The request names the resolved guardrails (``"guardrails": [...]``); LiteLLM answers a block with
  HTTP 400 whose ``error.provider_specific_fields.guardrail_name`` names the guardrail. That becomes
  Bedrock's answer: HTTP 200, ``stopReason: guardrail_intervened``, the guardrail's message as the
  content (a Bedrock guardrail's own blocked message when LiteLLM relays it) and, with ``trace``,
  ``trace.guardrail`` built from what LiteLLM reports (matched word, pattern, Bedrock assessments).
- Never unguarded: an answer LiteLLM returns without naming every requested guardrail in
  ``x-litellm-applied-guardrails`` is withheld (InternalServerException).
- Passthrough guardrails (Bedrock's ``disable_exception_on_block``) make LiteLLM answer a block as a
  reply with ``finish_reason: content_filter`` and no applied-guardrails header: also an intervention.
- Streams: LiteLLM aborts a stream whose answer a ``post_call`` guardrail blocks (the connection just
  ends) and streams a passthrough block like any answer, so with such guardrails the answer is
  fetched whole, checked, and then sent as stream events (Bedrock's ``streamProcessingMode: sync``,
  for the whole answer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.converse.extras import NO_EXTRAS, ResponseExtras
from gateway.errors import ErrorKind, GatewayError, validation

APPLIED_HEADER = "x-litellm-applied-guardrails"
INPUT_MODES = frozenset({"pre_call", "during_call"})
OUTPUT_MODES = frozenset({"post_call"})
_BLOCK_STATUSES = (400, 403, 422)  # what LiteLLM's guardrails raise for a deliberate block
_TRACE_VALUES = ("enabled", "disabled", "enabled_full")
_STREAM_MODES = ("sync", "async")
_ARN_ID = re.compile(r"arn:aws[a-z-]*:bedrock:[^:]*:\d*:guardrail/([a-z0-9]+)")
_NO_USAGE = {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}
# Bedrock assessment policies LiteLLM's Bedrock hook relays, with the lists each one requires
_POLICY_LISTS = {
    "topicPolicy": ("topics",),
    "contentPolicy": ("filters",),
    "wordPolicy": ("customWords", "managedWordLists"),
    "sensitiveInformationPolicy": ("piiEntities", "regexes"),
    "contextualGroundingPolicy": ("filters",),
}

Event = tuple[str, dict]


@dataclass(frozen=True)
class GuardrailRequest:
    """A validated ``guardrailConfig``."""

    identifier: str
    version: str | None
    trace: bool


@dataclass(frozen=True)
class LiteLLMGuardrail:
    """One entry of LiteLLM's guardrail list, reduced to what resolution needs."""

    name: str
    modes: frozenset[str]
    bedrock_id: str | None = None
    bedrock_version: str | None = None
    passthrough: bool = False  # answers a block as a normal reply (Bedrock's disable_exception_on_block)


@dataclass(frozen=True)
class Intervention:
    guardrail: str
    message: str
    on_output: bool  # the answer was blocked (post_call), not the prompt
    assessment: dict


class GuardrailIntervened(GatewayError):
    """A block LiteLLM answered as a normal reply (a guardrail in passthrough mode)."""

    def __init__(self, intervention: Intervention) -> None:
        super().__init__(ErrorKind.VALIDATION, intervention.message)
        self.intervention = intervention


# ---------------------------------------------------------------- parsing


def parse_guardrail_config(value: Any, *, stream: bool) -> GuardrailRequest | None:
    """``guardrailConfig`` (``GuardrailConfiguration``, or ``GuardrailStreamConfiguration`` on a stream)."""
    if value is None:
        return None
    path = "guardrailConfig"
    if not isinstance(value, dict):
        raise validation(f"{path} must be an object")
    allowed = ("guardrailIdentifier", "guardrailVersion", "trace", *(("streamProcessingMode",) if stream else ()))
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise validation(f"{path} has unknown field(s): {', '.join(unknown)}")
    identifier = value.get("guardrailIdentifier")
    if not isinstance(identifier, str) or not identifier.strip():
        raise validation(f"{path}.guardrailIdentifier must be a non-empty string")
    version = value.get("guardrailVersion")
    if version is not None and (not isinstance(version, str) or not version.strip()):
        raise validation(f"{path}.guardrailVersion must be a non-empty string")
    trace = "disabled" if value.get("trace") is None else value["trace"]
    if trace not in _TRACE_VALUES:
        raise validation(f"{path}.trace must be one of {', '.join(_TRACE_VALUES)}")
    mode = value.get("streamProcessingMode")
    if mode is not None and mode not in _STREAM_MODES:
        raise validation(f"{path}.streamProcessingMode must be one of {', '.join(_STREAM_MODES)}")
    return GuardrailRequest(identifier.strip(), version.strip() if version else None, trace != "disabled")


_HEADER_TRACE = {"ENABLED": "enabled", "DISABLED": "disabled", "ENABLED_FULL": "enabled_full"}


def guardrail_request_from_headers(headers: Mapping[str, str]) -> GuardrailRequest | None:
    """InvokeModel's ``X-Amzn-Bedrock-GuardrailIdentifier`` / ``-GuardrailVersion`` / ``-Trace``
    (``headers`` case-insensitive, e.g. Starlette's) as the same request ``guardrailConfig`` makes."""
    identifier = headers.get("x-amzn-bedrock-guardrailidentifier")
    version = headers.get("x-amzn-bedrock-guardrailversion")
    trace = headers.get("x-amzn-bedrock-trace")
    if trace is not None and trace not in _HEADER_TRACE:
        raise validation(f"X-Amzn-Bedrock-Trace must be one of {', '.join(_HEADER_TRACE)}")
    if identifier is None:
        if version is not None:
            raise validation("X-Amzn-Bedrock-GuardrailVersion needs X-Amzn-Bedrock-GuardrailIdentifier")
        return None
    config = {"guardrailIdentifier": identifier, "trace": _HEADER_TRACE[trace or "DISABLED"]}
    if version is not None:
        config["guardrailVersion"] = version
    return parse_guardrail_config(config, stream=False)


def parse_guardrail_map(raw: str) -> dict[str, tuple[str, ...]]:
    """``GUARDRAIL_MAP``: a JSON object ``{"<id>[:<version>]": "<LiteLLM name>" | ["<name>", ...]}``."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValueError("must be a JSON object") from None
    if not isinstance(data, dict):
        raise ValueError("must be a JSON object")
    out: dict[str, tuple[str, ...]] = {}
    for key, names in data.items():
        if not key.strip():
            raise ValueError("has an empty guardrail identifier")
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise ValueError(f"[{key!r}] must be a LiteLLM guardrail name or a non-empty list of them")
        out[key.strip()] = tuple(n.strip() for n in names)
    return out


def _modes(mode: Any) -> frozenset[str]:
    """LiteLLM's ``mode``: a name, a list, or ``{"tags": {...}, "default": ...}`` (every mode it can run)."""
    if isinstance(mode, str):
        return frozenset({mode})
    if isinstance(mode, list):
        return frozenset(m for m in mode if isinstance(m, str))
    if isinstance(mode, dict):
        tags = mode.get("tags")
        values = [*(tags.values() if isinstance(tags, dict) else ()), mode.get("default")]
        return frozenset().union(*(_modes(v) for v in values))
    return frozenset()


def guardrails_from_list(payload: Any) -> dict[str, LiteLLMGuardrail]:
    """LiteLLM's ``GET /v2/guardrails/list`` answer -> guardrails by name."""
    items = payload.get("guardrails") if isinstance(payload, dict) else None
    out: dict[str, LiteLLMGuardrail] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("guardrail_name"), str):
            continue
        params = item.get("litellm_params") if isinstance(item.get("litellm_params"), dict) else {}
        bedrock = params.get("guardrail") == "bedrock"
        gid, gversion = params.get("guardrailIdentifier"), params.get("guardrailVersion")
        out[item["guardrail_name"]] = LiteLLMGuardrail(
            name=item["guardrail_name"],
            modes=_modes(params.get("mode")),
            bedrock_id=str(gid) if bedrock and gid is not None else None,
            bedrock_version=str(gversion) if bedrock and gversion is not None else None,
            passthrough=params.get("disable_exception_on_block") is True,
        )
    return out


# ---------------------------------------------------------------- resolution


def _identifiers(identifier: str) -> tuple[str, ...]:
    found = _ARN_ID.fullmatch(identifier)
    return (identifier, found.group(1)) if found else (identifier,)


def _describe(request: GuardrailRequest) -> str:
    return f"guardrail '{request.identifier}'" + (f" version '{request.version}'" if request.version else "")


def _lookup(
    request: GuardrailRequest, mapping: Mapping[str, tuple[str, ...]], available: Mapping[str, LiteLLMGuardrail]
) -> tuple[str, ...]:
    identifiers = _identifiers(request.identifier)
    for ident in identifiers:
        for key in (f"{ident}:{request.version}", ident) if request.version else (ident,):
            if key in mapping:
                return mapping[key]
    for ident in identifiers:
        if ident in available:
            return (ident,)
    return tuple(
        g.name
        for g in available.values()
        if g.bedrock_id in identifiers and (request.version is None or g.bedrock_version == request.version)
    )


@dataclass(frozen=True)
class ResolvedGuardrails:
    """The LiteLLM guardrails that enforce one request's ``guardrailConfig``."""

    request: GuardrailRequest
    names: tuple[str, ...]
    checks_output: bool  # an answer-checking (post_call) guardrail is among them
    passthrough: bool = False  # one of them answers a block as a normal reply

    @property
    def whole_answer_first(self) -> bool:
        """Streams must be checked whole before sending: LiteLLM cuts a stream off when a post_call
        guardrail blocks it, and streams a passthrough block as an ordinary answer."""
        return self.checks_output or self.passthrough

    # ------------------------------------------------------------ the upstream call

    def apply_to(self, body: dict) -> None:
        """Name the guardrails in the LiteLLM request (next to any the caller named itself)."""
        named = body.get("guardrails")
        extra = [g for g in named if g not in self.names] if isinstance(named, list) else []
        body["guardrails"] = [*self.names, *extra]

    def check_applied(self, headers: Mapping[str, str], response: dict | None = None) -> None:
        """Withhold an answer LiteLLM produced without running every requested guardrail.

        A guardrail in passthrough mode makes LiteLLM answer its block as a reply with
        ``finish_reason: content_filter`` and without the applied-guardrails header: that is a block.
        """
        applied = {g.strip() for g in (headers.get(APPLIED_HEADER) or "").split(",")}
        missing = [n for n in self.names if n not in applied]
        if missing and response is not None and self.passthrough:
            choice = response["choices"][0]
            text = choice["message"].get("content")
            if choice.get("finish_reason") == "content_filter" and isinstance(text, str) and text:
                raise GuardrailIntervened(Intervention(", ".join(missing), text, False, {}))
        if missing:
            raise GatewayError(
                ErrorKind.INTERNAL,
                f"LiteLLM did not apply guardrail(s) {', '.join(missing)} requested by guardrailConfig; "
                "the answer is withheld",
            )

    def intervention(self, error: GatewayError) -> Intervention | None:
        """The block of one of these guardrails, from LiteLLM's error answer; None for other errors."""
        if isinstance(error, GuardrailIntervened):
            return error.intervention
        if error.upstream is None or error.upstream[0] not in _BLOCK_STATUSES:
            return None
        try:
            parsed = json.loads(error.upstream[1])
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        err = parsed.get("error") if isinstance(parsed, dict) else None
        fields = err.get("provider_specific_fields") if isinstance(err, dict) else None
        if not isinstance(fields, dict) or fields.get("guardrail_name") not in self.names:
            return None
        texts = (fields.get("bedrock_guardrail_response"), fields.get("error"), err.get("message"))
        message = next((t for t in texts if isinstance(t, str) and t.strip()), "Blocked by a guardrail.")
        modes = _modes(fields.get("guardrail_mode"))
        on_output = bool(modes & OUTPUT_MODES) and not modes & INPUT_MODES
        return Intervention(fields["guardrail_name"], message, on_output, _assessment(fields))

    # ------------------------------------------------------------ Converse answers

    def _details(self) -> dict:
        ident = self.request.identifier
        details: dict[str, Any] = {"guardrailId": _identifiers(ident)[-1], "guardrailOrigin": ["REQUEST"]}
        if self.request.version:
            details["guardrailVersion"] = self.request.version
        if len(_identifiers(ident)) > 1:
            details["guardrailArn"] = ident
        return details

    def trace(self, intervention: Intervention | None = None) -> dict | None:
        """``trace`` of a Converse answer (``ConverseTrace``), when the request enabled it."""
        if not self.request.trace:
            return None
        key = self.request.identifier
        if intervention is not None:
            assessment = {**intervention.assessment, "appliedGuardrailDetails": self._details()}
            if intervention.on_output:
                guardrail = {"outputAssessments": {key: [assessment]}}
            else:
                guardrail = {"inputAssessment": {key: assessment}}
            return {"guardrail": {**guardrail, "actionReason": "Guardrail blocked."}}
        applied = {"appliedGuardrailDetails": self._details()}
        guardrail: dict[str, Any] = {"inputAssessment": {key: applied}}
        if self.checks_output:
            guardrail["outputAssessments"] = {key: [applied]}
        return {"guardrail": guardrail}

    def blocked_response(self, intervention: Intervention, latency_ms: int) -> dict:
        """The Converse body Bedrock answers when its guardrail intervenes."""
        body: dict[str, Any] = {
            "output": {"message": {"role": "assistant", "content": [{"text": intervention.message}]}},
            "stopReason": "guardrail_intervened",
            "usage": dict(_NO_USAGE),
            "metrics": {"latencyMs": latency_ms},
        }
        trace = self.trace(intervention)
        if trace:
            body["trace"] = trace
        return body

    def blocked_events(self, intervention: Intervention, latency_ms: int) -> list[Event]:
        """The same answer as ConverseStream events."""
        metadata: dict[str, Any] = {"usage": dict(_NO_USAGE), "metrics": {"latencyMs": latency_ms}}
        trace = self.trace(intervention)
        if trace:
            metadata["trace"] = trace
        return [
            ("messageStart", {"role": "assistant"}),
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": intervention.message}}),
            ("contentBlockStop", {"contentBlockIndex": 0}),
            ("messageStop", {"stopReason": "guardrail_intervened"}),
            ("metadata", metadata),
        ]


def resolve_guardrails(
    request: GuardrailRequest, mapping: Mapping[str, tuple[str, ...]], available: Mapping[str, LiteLLMGuardrail]
) -> ResolvedGuardrails:
    """The LiteLLM guardrails for ``request``; ValidationException when none is usable."""
    names = _lookup(request, mapping, available)
    param = "guardrailConfig.guardrailIdentifier"
    if not names:
        raise validation(
            f"{_describe(request)} is not configured on this gateway: it is neither in GUARDRAIL_MAP, nor a "
            "LiteLLM guardrail name, nor a Bedrock guardrail in LiteLLM's config",
            param=param,
        )
    for name in names:
        guardrail = available.get(name)
        if guardrail is None:
            raise validation(f"{_describe(request)} maps to LiteLLM guardrail '{name}', which does not exist", param)
        if not guardrail.modes & (INPUT_MODES | OUTPUT_MODES):
            modes = ", ".join(sorted(guardrail.modes)) or "none"
            raise validation(f"LiteLLM guardrail '{name}' runs in mode {modes}, which cannot block a request", param)
    checks_output = any(available[n].modes & OUTPUT_MODES for n in names)
    passthrough = any(available[n].passthrough for n in names)
    return ResolvedGuardrails(request, tuple(dict.fromkeys(names)), checks_output, passthrough)


# ---------------------------------------------------------------- trace assessments


def _assessment(fields: Mapping[str, Any]) -> dict:
    """A Bedrock ``GuardrailAssessment`` from LiteLLM's block details (what they say, nothing invented)."""
    relayed = fields.get("assessments")
    if isinstance(relayed, list):  # LiteLLM's Bedrock hook: [{"policy", "matches": [{"category", ...}]}]
        return _bedrock_assessment(relayed)
    out: dict[str, Any] = {}
    if isinstance(fields.get("category"), str):
        topic = {"name": fields["category"], "type": "DENY", "action": "BLOCKED", "detected": True}
        out["topicPolicy"] = {"topics": [topic]}
    word = fields.get("keyword") or fields.get("matched_phrase")
    if isinstance(word, str):
        out["wordPolicy"] = {
            "customWords": [{"match": word, "action": "BLOCKED", "detected": True}],
            "managedWordLists": [],
        }
    if isinstance(fields.get("pattern"), str):
        regex = {"name": fields["pattern"], "action": "BLOCKED", "detected": True}
        out["sensitiveInformationPolicy"] = {"piiEntities": [], "regexes": [regex]}
    return out


def _bedrock_assessment(relayed: Iterable[Any]) -> dict:
    out: dict[str, dict[str, list]] = {}
    for entry in relayed:
        policy = entry.get("policy") if isinstance(entry, dict) else None
        if policy not in _POLICY_LISTS or not isinstance(entry.get("matches"), list):
            continue
        lists = out.setdefault(policy, {name: [] for name in _POLICY_LISTS[policy]})
        for match in entry["matches"]:
            if isinstance(match, dict) and match.get("category") in lists:
                item = {k: v for k, v in match.items() if k != "category" and v is not None}
                lists[match["category"]].append({"action": "BLOCKED", **item, "detected": True})  # relayed: blocked
    return out


def whole_answer_events(response: dict, latency_ms: int, extras: ResponseExtras = NO_EXTRAS) -> list[Event]:
    """A complete (already checked) chat completion as ConverseStream events, in Bedrock's order."""
    from gateway.converse.stream import ConverseStreamTranslator  # the stream module imports the translation

    choice = response["choices"][0]
    message = choice["message"]
    # everything the message and the choice carry (provider-specific fields too), as one chunk would
    delta = {k: v for k, v in message.items() if k not in ("role", "tool_calls") and v is not None}
    calls = message.get("tool_calls") if isinstance(message.get("tool_calls"), list) else []
    delta["tool_calls"] = [{**call, "index": i} for i, call in enumerate(calls) if isinstance(call, dict)]
    rest = {k: v for k, v in choice.items() if k != "message"}
    chunk = {**response, "choices": [{**rest, "index": 0, "delta": delta}]}
    translator = ConverseStreamTranslator(extras)
    return translator.feed(chunk) + translator.finish(latency_ms)
