"""OpenAPI paths of Bedrock discovery and CountTokens (``bedrock_control_routes``), from botocore's models."""

from __future__ import annotations

from typing import Any

from gateway.web.openapi_bedrock import ShapeSchemas, path_parameter

_REF = "#/components/schemas/"


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _operation(
    control: ShapeSchemas,
    operation: str,
    summary: str,
    parameters: list[dict[str, Any]],
    errors: dict[str, Any],
    *,
    shapes: ShapeSchemas | None = None,
) -> dict[str, Any]:
    """``operation`` of the ``bedrock`` service (or of ``shapes``' service), its JSON output as the 200 body."""
    schemas = shapes or control
    name = f"{operation}Response"
    schemas.components[name] = schemas.body(operation, "output")
    out: dict[str, Any] = {
        "operationId": operation[0].lower() + operation[1:],
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": {"description": summary, "content": {"application/json": {"schema": {"$ref": _REF + name}}}},
            **errors,
        },
    }
    if shapes is not None:
        request = f"{operation}Request"
        schemas.components[request] = schemas.body(operation, "input")
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF + request}}},
        }
    return out


def discovery_paths(runtime: ShapeSchemas, control: ShapeSchemas, errors: dict[str, Any]) -> dict[str, Any]:
    profile_type = {"type": "string", "enum": ["SYSTEM_DEFINED", "APPLICATION"]}
    pages = [
        _query("type", profile_type, "only profiles of this type"),
        _query("maxResults", {"type": "integer", "minimum": 1, "maximum": 1000}, "profiles per page"),
        _query("nextToken", {"type": "string"}, "the previous page's nextToken"),
    ]
    filters = [
        _query(name, {"type": "string"}, description)
        for name, description in (
            ("byProvider", "provider name, case-insensitive"),
            ("byOutputModality", "TEXT, IMAGE or EMBEDDING"),
            ("byInferenceType", "ON_DEMAND or PROVISIONED"),
            ("byCustomizationType", "FINE_TUNING, CONTINUED_PRE_TRAINING or DISTILLATION"),
        )
    ]
    profile_id = path_parameter("inferenceProfileIdentifier", "an inference profile id or ARN, URL-encoded")
    model_id = path_parameter("modelIdentifier", "a foundation model id or ARN, URL-encoded")
    count_id = path_parameter("modelId", "a Bedrock model id (through the alias map) or a LiteLLM model name")
    return {
        "/bedrock/inference-profiles": {
            "get": _operation(control, "ListInferenceProfiles", "the inference profiles the key may use", pages, errors)
        },
        "/bedrock/inference-profiles/{inferenceProfileIdentifier}": {
            "get": _operation(control, "GetInferenceProfile", "one inference profile", [profile_id], errors)
        },
        "/bedrock/foundation-models": {
            "get": _operation(control, "ListFoundationModels", "the models the key may use", filters, errors)
        },
        "/bedrock/foundation-models/{modelIdentifier}": {
            "get": _operation(control, "GetFoundationModel", "one foundation model", [model_id], errors)
        },
        "/bedrock/model/{modelId}/count-tokens": {
            "post": _operation(
                control,
                "CountTokens",
                "input tokens of an InvokeModel or Converse request",
                [count_id],
                errors,
                shapes=runtime,
            )
        },
    }
