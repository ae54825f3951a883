"""boto3 ``bedrock-runtime`` clients pointed at the gateway, as application code would build them."""

from __future__ import annotations

import boto3
from botocore import UNSIGNED
from botocore.config import Config


def bearer_client(gateway_url: str, key: str, region: str = "us-east-1"):
    """Unsigned requests with ``Authorization: Bearer`` added by a ``request-created`` hook."""
    client = boto3.client(
        "bedrock-runtime",
        region_name=region,
        endpoint_url=f"{gateway_url}/bedrock",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )

    def add_bearer(request, **_):
        request.headers["Authorization"] = f"Bearer {key}"

    client.meta.events.register("request-created.bedrock-runtime.*", add_bearer)
    return client


def control_client(gateway_url: str, key: str, region: str = "us-east-1"):
    """boto3's ``bedrock`` control-plane client at the same base (``<gateway>/bedrock``), Bearer-authenticated."""
    client = boto3.client(
        "bedrock",
        region_name=region,
        endpoint_url=f"{gateway_url}/bedrock",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )

    def add_bearer(request, **_):
        request.headers["Authorization"] = f"Bearer {key}"

    client.meta.events.register("request-created.bedrock.*", add_bearer)
    return client
