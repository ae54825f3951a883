"""Bedrock control-plane discovery as the gateway serves it: inference profiles and foundation models.

What a caller sees is what their key may use: the LiteLLM model names LiteLLM lists for the key
(``GET /v1/models``), and the Bedrock ids that resolve to one of them through the alias map
(:mod:`gateway.bedrock_ids`). Clients built for Bedrock look for Bedrock ids — Claude Code lists
``SYSTEM_DEFINED`` inference profiles and looks for Anthropic ones such as
``us.anthropic.claude-sonnet-4-5-20250929-v1:0`` — so the listing holds:

- ``SYSTEM_DEFINED`` profiles: every Claude model Bedrock offers (:data:`CLAUDE_MODELS`) under each
  of the ``us.``/``eu.``/``apac.``/``global.`` prefixes, the profile ids written as exact keys of
  ``BEDROCK_MODEL_ALIASES``, and LiteLLM model names that are themselves profile ids — each only
  when it resolves to a model the key may use;
- ``APPLICATION`` profiles: the key's other LiteLLM model names (the platform's own models), whose
  ARN (``…:application-inference-profile/<name>``) also resolves to the name.

Foundation models likewise: the Claude models and plain Bedrock model ids of the alias map that
resolve to an allowed model, then the allowed LiteLLM names. Pure functions; the routes do the I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from gateway.bedrock_ids import (
    HasAliases,
    arn_resource_id,
    is_bedrock_model_id,
    is_profile_id,
    resolve_model_id,
    strip_geo_prefix,
)
from gateway.errors import validation

#: Claude models on Bedrock (foundation model id, name), newest first: the ids Claude Code and the
#: Anthropic SDKs use, listed when the alias map sends them to a model the caller may use.
CLAUDE_MODELS: tuple[tuple[str, str], ...] = (
    ("anthropic.claude-opus-4-6-v1", "Claude Opus 4.6"),
    ("anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6"),
    ("anthropic.claude-opus-4-5-20251101-v1:0", "Claude Opus 4.5"),
    ("anthropic.claude-haiku-4-5-20251001-v1:0", "Claude Haiku 4.5"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5"),
    ("anthropic.claude-opus-4-1-20250805-v1:0", "Claude Opus 4.1"),
    ("anthropic.claude-opus-4-20250514-v1:0", "Claude Opus 4"),
    ("anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4"),
    ("anthropic.claude-3-7-sonnet-20250219-v1:0", "Claude 3.7 Sonnet"),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku"),
)
#: Prefixes listed for each Claude model (any prefix resolves; these are the ones clients pick from).
LISTED_GEOS: tuple[tuple[str, str], ...] = (("us", "US"), ("eu", "EU"), ("apac", "APAC"), ("global", "Global"))
PROFILE_TYPES = ("SYSTEM_DEFINED", "APPLICATION")
MODALITIES = ("TEXT", "IMAGE", "EMBEDDING")
INFERENCE_TYPES = ("ON_DEMAND", "PROVISIONED")
CUSTOMIZATIONS = ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION")
#: Bedrock's bounds for ``maxResults``; without it one page holds everything (at most this many).
MAX_RESULTS = 1000
#: The account in the ARNs the gateway makes up (the gateway is not an AWS account's Bedrock).
ARN_ACCOUNT = "000000000000"
GATEWAY_PROVIDER = "GenAI Gateway"

_NAMES = {model_id: name for model_id, name in CLAUDE_MODELS}
_TOKEN_PREFIX = "gw1:"


@dataclass(frozen=True)
class Catalog:
    """What one caller may see: the LiteLLM names their key may use, the alias map, the region for ARNs."""

    allowed: frozenset[str]
    settings: HasAliases
    region: str

    def target(self, model_id: str) -> str | None:
        """The LiteLLM model ``model_id`` reaches, when the caller may use it."""
        target = resolve_model_id(model_id, self.settings)
        return target if target in self.allowed else None

    # -- inference profiles ------------------------------------------------------------------------

    def profiles(self, profile_type: str | None = None) -> list[dict]:
        """Every profile the caller may use (of ``profile_type``), system-defined first, each sorted by id."""
        system = [self._system_profile(pid) for pid in sorted(self._profile_ids()) if self.target(pid)]
        application = [self._application_profile(name) for name in sorted(self._application_names())]
        return [p for p in (*system, *application) if profile_type in (None, p["type"])]

    def profile(self, identifier: str) -> dict | None:
        """One profile by id or ARN, when the caller may use it (any resolving profile id, listed or not)."""
        pid = arn_resource_id(identifier)
        if is_profile_id(pid) and self.target(pid):
            return self._system_profile(pid)
        if pid in self._application_names():
            return self._application_profile(pid)
        return None

    def _profile_ids(self) -> set[str]:
        ids = {f"{geo}.{model_id}" for model_id, _ in CLAUDE_MODELS for geo, _ in LISTED_GEOS}
        ids |= {key for key, _ in self.settings.bedrock_model_aliases.exact if is_profile_id(key)}
        ids |= {name for name in self.allowed if is_profile_id(name)}
        return ids

    def _application_names(self) -> set[str]:
        return {name for name in self.allowed if not is_profile_id(name) and self.target(name)}

    def _system_profile(self, profile_id: str) -> dict:
        geo, _, model_id = profile_id.partition(".")
        label = dict(LISTED_GEOS).get(geo, geo.upper())
        name = _NAMES.get(model_id)
        return self._profile(
            profile_id,
            name=f"{label} Anthropic {name}" if name else f"{label} {model_id}",
            arn=f"arn:aws:bedrock:{self.region}:{ARN_ACCOUNT}:inference-profile/{profile_id}",
            models=[strip_geo_prefix(profile_id).removesuffix("[1m]")],
            profile_type="SYSTEM_DEFINED",
        )

    def _application_profile(self, name: str) -> dict:
        return self._profile(
            name,
            name=name,
            arn=f"arn:aws:bedrock:{self.region}:{ARN_ACCOUNT}:application-inference-profile/{name}",
            models=[name],
            profile_type="APPLICATION",
        )

    def _profile(self, profile_id: str, *, name: str, arn: str, models: list[str], profile_type: str) -> dict:
        return {
            "inferenceProfileName": name,
            "description": f"Served by the GenAI Gateway with the LiteLLM model '{self.target(profile_id)}'",
            "inferenceProfileArn": arn,
            "models": [{"modelArn": self._model_arn(m)} for m in models],
            "inferenceProfileId": profile_id,
            "status": "ACTIVE",
            "type": profile_type,
        }

    # -- foundation models -------------------------------------------------------------------------

    def foundation_models(self) -> list[dict]:
        """Claude models and Bedrock ids of the alias map the caller may use, then their LiteLLM names."""
        bedrock = {model_id for model_id, _ in CLAUDE_MODELS}
        bedrock |= {
            key
            for key, _ in self.settings.bedrock_model_aliases.exact
            if is_bedrock_model_id(key) and not is_profile_id(key) and key == arn_resource_id(key)
        }
        listed = sorted(m for m in bedrock if self.target(m))
        listed += sorted(name for name in self._application_names() if name not in listed)
        return [self._foundation_model(m) for m in listed]

    def foundation_model(self, identifier: str) -> dict | None:
        model_id = arn_resource_id(identifier)
        if is_profile_id(model_id) or not self.target(model_id):
            return None
        return self._foundation_model(model_id)

    def _foundation_model(self, model_id: str) -> dict:
        claude = model_id in _NAMES
        return {
            "modelArn": self._model_arn(model_id),
            "modelId": model_id,
            "modelName": _NAMES.get(model_id, model_id),
            "providerName": "Anthropic" if claude else GATEWAY_PROVIDER,
            "inputModalities": ["TEXT", "IMAGE"] if claude else ["TEXT"],
            "outputModalities": ["TEXT"],
            "responseStreamingSupported": True,
            "customizationsSupported": [],
            "inferenceTypesSupported": ["ON_DEMAND"],
            "modelLifecycle": {"status": "ACTIVE"},
        }

    def _model_arn(self, model_id: str) -> str:
        return f"arn:aws:bedrock:{self.region}::foundation-model/{model_id}"


def filter_foundation_models(
    models: Iterable[dict],
    *,
    provider: str | None = None,
    output_modality: str | None = None,
    inference_type: str | None = None,
    customization: str | None = None,
) -> list[dict]:
    """``ListFoundationModels``' filters (``byProvider``, ``byOutputModality``, …); bad values are a 400."""
    _one_of("byOutputModality", output_modality, MODALITIES)
    _one_of("byInferenceType", inference_type, INFERENCE_TYPES)
    _one_of("byCustomizationType", customization, CUSTOMIZATIONS)
    return [
        m
        for m in models
        if (provider is None or m["providerName"].lower() == provider.lower())
        and (output_modality is None or output_modality in m["outputModalities"])
        and (inference_type is None or inference_type in m["inferenceTypesSupported"])
        and (customization is None or customization in m["customizationsSupported"])
    ]


def check_profile_type(value: str | None) -> str | None:
    _one_of("type", value, PROFILE_TYPES)
    return value


def _one_of(name: str, value: str | None, allowed: Collection[str]) -> None:
    if value is not None and value not in allowed:
        choices = ", ".join(allowed)
        raise validation(f"Value '{value}' at '{name}' failed to satisfy constraint: must be one of {choices}")


def page(items: list[dict], max_results: str | None, next_token: str | None) -> tuple[list[dict], str | None]:
    """One page of ``items`` and the token of the next one (``None`` on the last page)."""
    size = _max_results(max_results)
    start = _offset(next_token, len(items))
    end = start + size
    token = _encode_token(end) if end < len(items) else None
    return items[start:end], token


def _max_results(raw: str | None) -> int:
    if raw is None:
        return MAX_RESULTS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_RESULTS:
        raise validation(f"Value '{raw}' at 'maxResults' failed to satisfy constraint: must be 1 to {MAX_RESULTS}")
    return value


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode()


def _offset(token: str | None, total: int) -> int:
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    digits = text.removeprefix(_TOKEN_PREFIX)
    if not text.startswith(_TOKEN_PREFIX) or not digits.isdigit() or int(digits) > total:
        raise validation("The provided nextToken is invalid: pass the nextToken of the previous page unchanged")
    return int(digits)
