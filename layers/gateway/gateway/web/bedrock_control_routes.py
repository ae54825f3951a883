"""Bedrock control-plane discovery and ``CountTokens``, for the caller's key (``gateway.discovery``).

- ``GET /bedrock/inference-profiles`` (``type``, ``maxResults``, ``nextToken``) and
  ``/bedrock/inference-profiles/{id}``: boto3 ``bedrock`` ``list_inference_profiles`` /
  ``get_inference_profile``;
- ``GET /bedrock/foundation-models`` (``byProvider``, ``byOutputModality``, …) and
  ``/bedrock/foundation-models/{id}``: ``list_foundation_models`` / ``get_foundation_model``;
- ``POST /bedrock/model/{modelId}/count-tokens``: boto3 ``bedrock-runtime`` ``count_tokens``.

A boto3 ``bedrock`` client and a ``bedrock-runtime`` client both pointed at ``<gateway>/bedrock``
land here. What the key may use is what LiteLLM lists for it (``GET /v1/models`` with the
caller's credential — for a JWT, the user's managed key).
"""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import Response

from gateway.bedrock_ids import invalid_model_id, resolve_model_id
from gateway.discovery import Catalog, check_profile_type, filter_foundation_models, page
from gateway.errors import ErrorKind, GatewayError
from gateway.jsonbytes import json_bytes
from gateway.token_count import count_tokens_call, input_tokens
from gateway.web.requests import principal_of, read_json_object, upstream_authorization
from gateway.web.responses import JSONBody

#: A provider count that fails otherwise (no counting endpoint, no provider credential for counting, an
#: outage) falls back to the local estimate, which LiteLLM answers with the caller's credential again
#: (so the caller's own refusals still come back); a rate limit is the caller's to back off from.
_NO_FALLBACK = frozenset({ErrorKind.RATE_LIMITED})


def _region() -> str:
    """The region written into ARNs: the function's own (Lambda sets ``AWS_REGION``)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


async def _caller(request: Request) -> tuple[Catalog, str]:
    """The caller's catalogue (the models LiteLLM lets their key use) and their upstream credential."""
    gw = request.app.state.gw
    authorization = await upstream_authorization(request, principal_of(request))
    listing = await gw.upstream.json_call("GET", "/v1/models", authorization=authorization)
    rows = listing.get("data")
    if not isinstance(rows, list):
        raise GatewayError(ErrorKind.MODEL_ERROR, "the model gateway returned an unexpected model list")
    allowed = frozenset(row["id"] for row in rows if isinstance(row, dict) and isinstance(row.get("id"), str))
    return Catalog(allowed=allowed, settings=gw.settings, region=_region()), authorization


async def list_inference_profiles(request: Request) -> Response:
    params = request.query_params
    profile_type = check_profile_type(params.get("type"))
    catalog, _ = await _caller(request)
    items, token = page(catalog.profiles(profile_type), params.get("maxResults"), params.get("nextToken"))
    body: dict = {"inferenceProfileSummaries": items}
    if token is not None:
        body["nextToken"] = token
    return JSONBody(body)


async def get_inference_profile(request: Request) -> Response:
    identifier = request.path_params["identifier"]
    catalog, _ = await _caller(request)
    profile = catalog.profile(identifier)
    if profile is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"The inference profile '{identifier}' was not found for this key.")
    return JSONBody(profile)


async def list_foundation_models(request: Request) -> Response:
    params = request.query_params
    filters = {
        "provider": params.get("byProvider"),
        "output_modality": params.get("byOutputModality"),
        "inference_type": params.get("byInferenceType"),
        "customization": params.get("byCustomizationType"),
    }
    filter_foundation_models([], **filters)  # a bad filter value is a 400 before any upstream call
    catalog, _ = await _caller(request)
    return JSONBody({"modelSummaries": filter_foundation_models(catalog.foundation_models(), **filters)})


async def get_foundation_model(request: Request) -> Response:
    identifier = request.path_params["identifier"]
    catalog, _ = await _caller(request)
    model = catalog.foundation_model(identifier)
    if model is None:
        raise invalid_model_id(identifier)
    return JSONBody({"modelDetails": model})


async def count_tokens(request: Request) -> Response:
    gw = request.app.state.gw
    model_id = request.path_params["model_id"]
    model = resolve_model_id(model_id, gw.settings)
    call = count_tokens_call(model, await read_json_object(request))
    catalog, authorization = await _caller(request)
    if model not in catalog.allowed:
        raise invalid_model_id(model_id)
    try:
        answer = await gw.upstream.json_call("POST", call.path, authorization=authorization, body=json_bytes(call.body))
    except GatewayError as exc:
        if call.fallback is None or exc.kind in _NO_FALLBACK:
            raise
        call = call.fallback  # the provider has no working counting endpoint: LiteLLM's local estimate
        answer = await gw.upstream.json_call("POST", call.path, authorization=authorization, body=json_bytes(call.body))
    return JSONBody({"inputTokens": input_tokens(call, answer)})
