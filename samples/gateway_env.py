"""What the samples share: the gateway's address and API key, one-line failures, a boto3 client for the gateway.

Standard library only at import time: boto3 and openai are imported by the helpers that use them, so a
sample needs only the SDKs it calls (the LangChain and Strands samples run in ``.venv-clients``, which
has no openai). The samples find this module because Python puts a script's folder on ``sys.path``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    import anthropic
    import openai
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

LOCAL_MASTER_KEY = Path(__file__).resolve().parent.parent / ".local" / "master_key"


def fail(message: str, *, newline: bool = False) -> NoReturn:
    """Print ``error: <message>`` to stderr and exit 1; ``newline`` first ends a line a stream left open."""
    prefix = "\n" if newline else ""
    print(f"{prefix}error: {message}", file=sys.stderr)
    sys.exit(1)


def _endpoint() -> str:
    return os.environ.get("API_ENDPOINT", "http://127.0.0.1:8080").rstrip("/")


def gateway_url() -> str:
    """The gateway's base URL: ``API_ENDPOINT`` without a trailing ``/bedrock`` or ``/v1``."""
    return _endpoint().removesuffix("/bedrock").removesuffix("/v1")


def bedrock_endpoint() -> str:
    """The Converse interface's URL: ``API_ENDPOINT`` with ``/bedrock`` added unless already there."""
    endpoint = _endpoint()
    return endpoint if endpoint.endswith("/bedrock") else endpoint + "/bedrock"


def api_key(*, newline: bool = False) -> str:
    """``API_KEY``, else the local stack's master key (``.local/master_key``); fails when there is neither."""
    key = os.environ.get("API_KEY") or (LOCAL_MASTER_KEY.read_text().strip() if LOCAL_MASTER_KEY.exists() else "")
    if not key:
        hint = "set API_KEY to your gateway API key (or run `make local`, which writes .local/master_key)"
        fail(hint, newline=newline)
    return key


def bedrock_client(endpoint: str, key: str, *, max_attempts: int = 3) -> BaseClient:
    """A boto3 ``bedrock-runtime`` client for the gateway: unsigned, sending ``Authorization: Bearer <key>``."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),  # boto3 needs one; the gateway ignores it
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": max_attempts, "mode": "standard"}),
    )

    def add_authorization_header(request, **_) -> None:
        request.headers["Authorization"] = f"Bearer {key}"

    client.meta.events.register("request-created.bedrock-runtime.*", add_authorization_header)
    return client


def client_error_message(exc: ClientError) -> str:
    """A botocore ``ClientError`` as ``Code (HTTP status): Message``."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return f"{error.get('Code')} (HTTP {status}): {error.get('Message')}"


def error_message(exc: openai.APIStatusError | anthropic.APIStatusError) -> str:
    """The gateway's own error message (the SDK's ``message`` repeats the whole body)."""
    body = exc.body if isinstance(exc.body, dict) else {}
    return str(body.get("message") or exc.message)
