"""A managed-prompt ARN as ``modelId`` reaches the Converse handler, whichever way API Gateway splits ``%2F``.

boto3 (the real serializer) percent-encodes the ``{modelId}`` label, ``/`` included. The resource that answers
is found in the synthesized template with AWS's documented rules for REST API resources: a static child
matches its own segment, a path variable ``{x}`` one segment, a greedy ``{proxy+}`` everything below its
parent; a static child wins over a variable one. AWS does not document whether REST APIs decode ``%2F``
before matching, so both readings are checked (see ``gateway_cdk.api``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import botocore.session
import pytest
from botocore.serialize import create_serializer

from .conftest import Synthesized

PROMPT_ARN = "arn:aws:bedrock:eu-west-1:123456789012:prompt/PROMPT12AB:3"


def _boto3_converse_path(model_id: str, operation: str) -> str:
    """The path boto3 sends with ``endpoint_url=<ServiceURL>bedrock``."""
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    request = create_serializer("rest-json").serialize_to_request(
        {"modelId": model_id, "messages": [{"role": "user", "content": [{"text": "hi"}]}]},
        model.operation_model(operation),
    )
    return "/bedrock" + request["url_path"]


def _route(synth: Synthesized, segments: list[str], verb: str) -> tuple[str, dict[str, Any]]:
    """(resource path, method) API Gateway picks for ``segments``."""
    children: dict[str, list[tuple[str, str]]] = {}
    for logical_id, resource in synth.resources("AWS::ApiGateway::Resource").items():
        parent = resource["Properties"]["ParentId"]
        children.setdefault(parent.get("Ref", "root"), []).append((logical_id, resource["Properties"]["PathPart"]))
    node, path = "root", ""
    for index, segment in enumerate(segments):
        kids = dict((part, lid) for lid, part in children.get(node, []))
        variable = next((p for p in kids if p.startswith("{") and not p.endswith("+}")), None)
        if segment in kids:
            node, path = kids[segment], f"{path}/{segment}"
        elif variable is not None:
            node, path = kids[variable], f"{path}/{variable}"
        elif "{proxy+}" in kids:
            node, path = kids["{proxy+}"], f"{path}/{{proxy+}}"
            break
        else:
            raise AssertionError(f"no resource for {'/'.join(segments[: index + 1])}")
    methods = {
        m["Properties"]["HttpMethod"]: m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["ResourceId"].get("Ref") == node
    }
    return path, methods.get(verb) or methods["ANY"]


@pytest.mark.parametrize("operation", ["Converse", "ConverseStream"])
def test_a_prompt_arn_model_id_reaches_the_middleware_in_both_readings(synth: Synthesized, operation: str) -> None:
    path = _boto3_converse_path(PROMPT_ARN, operation)
    assert "%2F" in path and path.endswith(("/converse", "/converse-stream"))
    suffix = path.rsplit("/", 1)[1]

    kept, method = _route(synth, path.strip("/").split("/"), "POST")  # %2F stays inside the segment
    assert kept == f"/bedrock/model/{{modelId}}/{suffix}"
    assert method["Integration"]["Type"] == "AWS_PROXY"

    decoded, method = _route(synth, unquote(path).strip("/").split("/"), "POST")  # %2F read as "/"
    assert decoded == "/bedrock/model/{modelId}/{proxy+}"
    integration = method["Integration"]
    assert integration["Type"] == "AWS_PROXY", "a prompt ARN would reach LiteLLM, not the Converse handler"
    assert "FunctionsApi" in json.dumps(integration["Uri"])
