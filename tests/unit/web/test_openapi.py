"""The OpenAPI document: valid OpenAPI 3, and exactly the routes the application serves itself."""

from __future__ import annotations

import re

import botocore.session
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.errors import ErrorKind
from gateway.settings import Settings
from gateway.web.app import create_app
from gateway.web.key_routes import KEY_WRITE_PATHS, rule_for
from gateway.web.openapi import OPENAPI_PATH, openapi_document

CATCH_ALL = "/{path:path}"  # LiteLLM's own API, relayed unchanged: documented by LiteLLM
KEY_RELAY = "/key/{rest:path}"  # every /key path: the key-writing ones are documented, the rest relayed


@pytest.fixture(scope="module")
def app():
    settings = Settings.from_env({"LITELLM_MASTER_KEY": "sk-unit-master", "HISTORY_ENABLED": "false"})
    return create_app(settings)


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_document_is_valid_openapi():
    validate(openapi_document())


def test_document_lists_exactly_the_routes_the_app_mounts(app):
    mounted = {
        (_template(route.path), method.lower())
        for route in app.routes
        if isinstance(route, Route) and route.path not in (CATCH_ALL, KEY_RELAY)
        for method in route.methods or ()
        if method != "HEAD"  # Starlette adds HEAD to every GET route
    }
    mounted |= {(_template(path), "post") for path in KEY_WRITE_PATHS}  # served by the /key relay route
    documented = {(_template(path), method) for path, item in openapi_document()["paths"].items() for method in item}
    assert documented == mounted


def test_every_guarded_key_write_is_documented():
    """A key-writing route the gateway checks is in the document (a new rule without a description fails)."""
    documented = openapi_document()["paths"]
    for path in ("/key/generate", "/key/update", "/key/regenerate", "/key/bulk_update", "/team/key/bulk_update"):
        assert rule_for(path) is not None
        assert "post" in documented[path]


def test_served_document_is_the_same_and_needs_a_credential(app):
    client = TestClient(app)
    assert client.get(OPENAPI_PATH).status_code == 401
    answer = client.get(OPENAPI_PATH, headers={"Authorization": "Bearer sk-unit-master"})
    assert answer.status_code == 200
    assert answer.json() == openapi_document()


def test_converse_schemas_follow_botocore_service_model():
    """Every Converse body member Bedrock defines (except the URI's modelId) is documented."""
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    schemas = openapi_document()["components"]["schemas"]
    request = set(model.operation_model("Converse").input_shape.members) - {"modelId"}
    assert set(schemas["ConverseRequest"]["properties"]) == request
    assert set(schemas["ContentBlock"]["properties"]) == set(model.shape_for("ContentBlock").members)
    assert schemas["ContentBlock"]["maxProperties"] == 1  # a union
    stop_reasons = schemas["ConverseResponse"]["properties"]["stopReason"]
    assert stop_reasons["enum"] == list(model.shape_for("StopReason").enum)


def test_error_responses_per_route_family():
    paths = openapi_document()["paths"]
    bedrock = paths["/bedrock/model/{modelId}/converse"]["post"]["responses"]
    openai = paths["/v1/chat/completions"]["post"]["responses"]
    for kind in ErrorKind:
        b = bedrock[str(kind.shape.bedrock_status)]
        assert kind.shape.bedrock_name in b["headers"]["x-amzn-errortype"]["schema"]["enum"]
        assert b["headers"]["x-amzn-errortype"]["required"] is True
        assert b["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/BedrockError"}
        o = openai[str(kind.shape.openai_status)]
        assert o["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert "headers" not in o
