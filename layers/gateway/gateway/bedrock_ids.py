"""Bedrock model ids → LiteLLM model names (the ``BEDROCK_MODEL_ALIASES`` map).

Bedrock clients (Claude Code in Bedrock mode, the Anthropic SDKs' ``AnthropicBedrock``, boto3) name
models the Bedrock way: ``us.anthropic.claude-sonnet-4-5-20250929-v1:0``,
``global.anthropic.claude-opus-4-6-v1``, ``…-v1:0[1m]``, or an ARN. The gateway answers with
whatever models LiteLLM serves, so each route that takes a model id calls::

    resolve_model_id(model_id: str, settings) -> str

``settings`` is anything with a ``bedrock_model_aliases`` attribute (:class:`ModelAliases`; the
middleware's :class:`gateway.settings.Settings` has one). The answer is the LiteLLM model name to call:

1. an exact key of the alias map → its target (any id, Bedrock-shaped or not); an ARN of a
   foundation model or (application) inference profile → the rules again on its resource id;
2. an id that is not Bedrock-shaped (``mock-gpt``, ``gpt-4o``, a prompt ARN) → unchanged: plain
   LiteLLM model names pass through;
3. a Bedrock-shaped id is reduced to its *base*: without the geographic
   inference-profile prefix (``us.``, ``eu.``, ``apac.``, ``global.``, …), the version suffix
   (``-v1:0``, ``-v1``, ``-v2:0:200k``) and the ``[1m]`` context suffix — for example
   ``anthropic.claude-sonnet-4-5-20250929``. The base as an exact key → its target;
4. the patterns of the map (keys holding ``*`` or ``?``), in the order written, tried against the
   id as sent and its base → the first match's target;
5. otherwise the id unchanged (a LiteLLM model named like a Bedrock id, such as
   ``us.anthropic.claude-sonnet-4-5-20250929-v1:0``, still works; an unknown id is refused by
   LiteLLM, which routes render as Bedrock's ``ValidationException``, see :func:`invalid_model_id`).

``BEDROCK_MODEL_ALIASES`` is a JSON object of id or pattern → LiteLLM model name, e.g.
``{"*claude-sonnet-*": "gpt-4o", "*claude-haiku-*": "gpt-4o-mini", "anthropic.claude-opus-4-6": "o3"}``.
In a pattern ``*`` is any run of characters and ``?`` one character; everything else (``[``, ``.``)
is literal. Matching is case-sensitive, as Bedrock's ids are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.errors import GatewayError, validation

#: Geographic prefixes of Bedrock's system-defined (cross-region) inference profiles.
GEO_PREFIXES = ("us", "us-gov", "eu", "apac", "jp", "au", "ca", "global")

_GEO = "|".join(re.escape(p) for p in sorted(GEO_PREFIXES, key=len, reverse=True))
# provider.model: the provider is one lowercase word (anthropic, meta, amazon, ai21, …) and the model
# starts with a letter, so LiteLLM-style names with dots (gemini-2.5-flash, llama3.1-8b) are not taken.
_BEDROCK_ID = re.compile(rf"(?:(?:{_GEO})\.)?[a-z][a-z0-9]*\.[A-Za-z][A-Za-z0-9._:-]*(?:\[1m\])?")
_MODEL_ARN = re.compile(
    r"arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]{0,12}:"
    r"(?:foundation-model|inference-profile|application-inference-profile)/(?P<id>[^/\s]+)"
)
_GEO_PREFIX = re.compile(rf"^(?:{_GEO})\.")
_VERSION_SUFFIX = re.compile(r"-v\d+(?::\d+)?(?::\d+[km])?$")
_CONTEXT_SUFFIX = "[1m]"

#: What Bedrock answers for a model id it does not know (InvokeModel, Converse, CountTokens).
INVALID_MODEL_MESSAGE = "The provided model identifier is invalid."


class HasAliases(Protocol):
    bedrock_model_aliases: ModelAliases


class AliasError(ValueError):
    """``BEDROCK_MODEL_ALIASES`` is malformed; the message says how."""


@dataclass(frozen=True)
class ModelAliases:
    """The parsed alias map: exact ids, then patterns in the order written."""

    exact: tuple[tuple[str, str], ...] = ()
    patterns: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_json(cls, raw: str | None) -> ModelAliases:
        if raw is None or not raw.strip():
            return cls()
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise AliasError(f"BEDROCK_MODEL_ALIASES is not valid JSON: {exc}") from None
        return cls.from_mapping(parsed)

    @classmethod
    def from_mapping(cls, mapping: Any) -> ModelAliases:
        if not isinstance(mapping, dict):
            raise AliasError("BEDROCK_MODEL_ALIASES must be a JSON object of model id or pattern → LiteLLM model name")
        exact: list[tuple[str, str]] = []
        patterns: list[tuple[str, str]] = []
        for key, target in mapping.items():
            if not key.strip() or not isinstance(target, str) or not target.strip():
                raise AliasError(f"BEDROCK_MODEL_ALIASES: {key!r} must map to a LiteLLM model name, got {target!r}")
            (patterns if is_pattern(key) else exact).append((key, target.strip()))
        return cls(tuple(exact), tuple(patterns))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_exact", dict(self.exact))
        object.__setattr__(self, "_compiled", tuple((_compile(p), t) for p, t in self.patterns))

    def lookup(self, model_id: str) -> str | None:
        """The target of an exact key, or ``None``."""
        return self._exact.get(model_id)  # type: ignore[attr-defined]

    def match(self, *candidates: str) -> str | None:
        """The target of the first pattern matching any candidate, or ``None``."""
        for regex, target in self._compiled:  # type: ignore[attr-defined]
            if any(regex.fullmatch(c) for c in candidates):
                return target
        return None

    def targets(self) -> set[str]:
        return {t for _, t in self.exact} | {t for _, t in self.patterns}


def is_pattern(key: str) -> bool:
    return "*" in key or "?" in key


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def is_bedrock_model_id(model_id: str) -> bool:
    """A Bedrock model or inference-profile id (``[geo.]provider.model[-vN:M][1m]``) or its ARN."""
    return bool(_BEDROCK_ID.fullmatch(model_id) or _MODEL_ARN.fullmatch(model_id))


def is_profile_id(model_id: str) -> bool:
    """A system-defined inference profile id: a Bedrock model id with a geographic prefix."""
    return bool(_BEDROCK_ID.fullmatch(model_id) and _GEO_PREFIX.match(model_id))


def arn_resource_id(model_id: str) -> str:
    """The resource id of a foundation-model or inference-profile ARN; any other id unchanged."""
    arn = _MODEL_ARN.fullmatch(model_id)
    return arn.group("id") if arn else model_id


def strip_geo_prefix(model_id: str) -> str:
    return _GEO_PREFIX.sub("", model_id, count=1)


def base_model_id(model_id: str) -> str:
    """``arn:…/us.anthropic.claude-x-20250101-v1:0[1m]`` → ``anthropic.claude-x-20250101``."""
    base = strip_geo_prefix(arn_resource_id(model_id).removesuffix(_CONTEXT_SUFFIX))
    return _VERSION_SUFFIX.sub("", base)


def resolve_model_id(model_id: str, settings: HasAliases) -> str:
    """The LiteLLM model name for ``model_id`` as a Bedrock client sent it (rules: module docstring)."""
    aliases = settings.bedrock_model_aliases
    target = aliases.lookup(model_id)
    if target is not None:
        return target
    arn = _MODEL_ARN.fullmatch(model_id)
    if arn:
        return resolve_model_id(arn.group("id"), settings)
    if not _BEDROCK_ID.fullmatch(model_id):
        return model_id
    base = base_model_id(model_id)
    target = aliases.lookup(base)
    if target is None:
        target = aliases.match(model_id, base)
    return model_id if target is None else target


def invalid_model_id(model_id: str | None = None) -> GatewayError:
    """Bedrock's answer to an unknown model id: 400 ``ValidationException``, Bedrock's own message."""
    return validation(INVALID_MODEL_MESSAGE, param=None if model_id is None else "modelId")
