"""A local stand-in for the bedrock-agent ``GetPrompt`` API on 127.0.0.1 (tests, samples, ``make local``).

moto has no Prompt management, so this answers ``GET /prompts/{promptIdentifier}/?promptVersion=N``
as the real service does per botocore's model (rest-json; errors carry ``x-amzn-errortype`` so boto3
raises ``ResourceNotFoundException`` / ``AccessDeniedException`` / ...). Point boto3 at it with the
standard ``AWS_ENDPOINT_URL_BEDROCK_AGENT=<url>``. Requests must be SigV4-signed (any credentials);
the signing region is recorded, so a test can check which region a client used.

In-process::

    with FakeBedrockAgent() as agent:
        pid = agent.put_prompt(text_variant("Tell me about {{topic}}"))
        version = agent.create_version(pid)            # "1": a snapshot of the draft
        agent.arn(pid), agent.arn(pid, version)        # draft ARN, version ARN
        agent.get_prompt_calls(pid, version)           # GetPrompt calls seen for that version

As a process (``python -m tests.support.fake_bedrock_agent PORT``, prints ``READY <url>``), the same
operations over HTTP, JSON in and out:

    POST /_fake/prompts                      {"variant": {...}, "id"?: "...", "name"?: "..."} -> {"id", "arn"}
    POST /_fake/prompts/{id}/versions        -> {"version", "arn"}
    POST /_fake/prompts/{id}/failure         {"code": "AccessDeniedException", "status": 403}; {} clears
    GET  /_fake/calls                        -> {"ID": n, "ID:1": n}  (draft calls under the bare id)
    POST /_fake/reset
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.loopback_server import LoopbackServer

_VERSION = re.compile(r"DRAFT|[0-9]{0,4}[1-9][0-9]{0,4}")
_ARN_ID = re.compile(r"arn:aws[a-z-]*:bedrock:[a-z0-9-]+:[0-9]{12}:prompt/([0-9a-zA-Z]{10})(?::([0-9]{1,5}))?")
_PLACEHOLDER = re.compile(r"\{\{([0-9A-Za-z_-]+)\}\}")
_SCOPE = re.compile(r"Credential=[^/]+/[0-9]{8}/([^/]+)/([^/]+)/aws4_request")
_ALNUM = string.ascii_uppercase + string.digits


# ---------------------------------------------------------------- variant builders (Bedrock shapes)


def _input_variables(texts: list[str], names: list[str] | None) -> list[dict]:
    found = names if names is not None else sorted({n for t in texts for n in _PLACEHOLDER.findall(t)})
    return [{"name": n} for n in found]


def _common(model_id: str | None, inference: dict | None, additional_fields: dict | None, name: str) -> dict:
    variant: dict[str, Any] = {"name": name}
    if model_id is not None:
        variant["modelId"] = model_id
    if inference is not None:
        variant["inferenceConfiguration"] = {"text": inference}
    if additional_fields is not None:
        variant["additionalModelRequestFields"] = additional_fields
    return variant


def text_variant(
    text: str,
    *,
    model_id: str | None = "fake",
    inference: dict | None = None,
    input_variables: list[str] | None = None,
    cache_point: bool = False,
    additional_fields: dict | None = None,
    name: str = "default",
) -> dict:
    """A TEXT variant; ``inputVariables`` default to the ``{{placeholders}}`` found (as the console does)."""
    config: dict[str, Any] = {"text": text, "inputVariables": _input_variables([text], input_variables)}
    if cache_point:
        config["cachePoint"] = {"type": "default"}
    return {
        **_common(model_id, inference, additional_fields, name),
        "templateType": "TEXT",
        "templateConfiguration": {"text": config},
    }


def chat_variant(
    messages: list[tuple[str, str] | dict],
    *,
    system: str | list[dict] | None = None,
    tools: list[dict] | None = None,
    tool_choice: dict | None = None,
    model_id: str | None = "fake",
    inference: dict | None = None,
    input_variables: list[str] | None = None,
    additional_fields: dict | None = None,
    name: str = "default",
) -> dict:
    """A CHAT variant. ``messages``: ``(role, text)`` pairs or Converse message dicts; ``tools``: toolSpecs."""
    msgs = [{"role": m[0], "content": [{"text": m[1]}]} if isinstance(m, tuple) else m for m in messages]
    sys_blocks = [{"text": system}] if isinstance(system, str) else system
    texts = [b["text"] for m in msgs for b in m["content"] if "text" in b]
    texts += [b["text"] for b in sys_blocks or [] if "text" in b]
    config: dict[str, Any] = {"messages": msgs, "inputVariables": _input_variables(texts, input_variables)}
    if sys_blocks:
        config["system"] = sys_blocks
    if tools:
        config["toolConfiguration"] = {"tools": [{"toolSpec": t} for t in tools]}
        if tool_choice is not None:
            config["toolConfiguration"]["toolChoice"] = tool_choice
    return {
        **_common(model_id, inference, additional_fields, name),
        "templateType": "CHAT",
        "templateConfiguration": {"chat": config},
    }


# ---------------------------------------------------------------- the service


class _Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeBedrockAgent:
    """Prompts (a draft plus numbered versions each), GetPrompt call counts, and injectable failures."""

    def __init__(self, region: str = "us-east-1", account: str = "123456789012") -> None:
        self.region = region
        self.account = account
        self._lock = threading.Lock()
        self._prompts: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, tuple[int, str]] = {}
        self._calls: Counter[tuple[str, str | None]] = Counter()
        self.requests: list[dict[str, Any]] = []  # {"prompt_id", "version", "region", "service"} per GetPrompt
        self._http = LoopbackServer("fake-bedrock-agent")

    # ---- registration ----------------------------------------------------------------------

    def arn(self, prompt_id: str, version: str | None = None, region: str | None = None) -> str:
        base = f"arn:aws:bedrock:{region or self.region}:{self.account}:prompt/{prompt_id}"
        return f"{base}:{version}" if version else base

    def put_prompt(self, variant: dict, *, prompt_id: str | None = None, name: str | None = None) -> str:
        """Create a prompt, or replace the draft of an existing one; returns its 10-character id."""
        prompt_id = prompt_id or "".join(secrets.choice(_ALNUM) for _ in range(10))
        if not re.fullmatch(r"[0-9a-zA-Z]{10}", prompt_id):
            raise ValueError("a prompt id is 10 letters or digits")
        with self._lock:
            prompt = self._prompts.setdefault(
                prompt_id, {"name": name or f"prompt_{prompt_id}", "created": _now(), "versions": {}}
            )
            prompt["draft"] = copy.deepcopy(variant)
            prompt["updated"] = _now()
        return prompt_id

    def create_version(self, prompt_id: str) -> str:
        """Snapshot the draft as the next version ("1", "2", ...)."""
        with self._lock:
            prompt = self._prompts[prompt_id]
            version = str(len(prompt["versions"]) + 1)
            prompt["versions"][version] = {"variant": copy.deepcopy(prompt["draft"]), "created": _now()}
        return version

    def fail(self, prompt_id: str, code: str = "AccessDeniedException", status: int = 403) -> None:
        """Answer every GetPrompt for this id with an error until ``clear_failure``."""
        with self._lock:
            self._failures[prompt_id] = (status, code)

    def clear_failure(self, prompt_id: str) -> None:
        with self._lock:
            self._failures.pop(prompt_id, None)

    def get_prompt_calls(self, prompt_id: str, version: str | None = None) -> int:
        """GetPrompt calls seen for one prompt version (``None``: the draft), failed ones included."""
        with self._lock:
            return self._calls[(prompt_id, version)]

    def calls(self) -> dict[str, int]:
        with self._lock:
            return {f"{pid}:{v}" if v else pid: n for (pid, v), n in self._calls.items()}

    def reset(self) -> None:
        with self._lock:
            self._prompts.clear()
            self._failures.clear()
            self._calls.clear()
            self.requests.clear()

    # ---- the API ---------------------------------------------------------------------------

    def get_prompt(self, identifier: str, version: str | None, included: str | None, headers: Any) -> dict:
        scope = _SCOPE.search(headers.get("Authorization") or "")
        if not scope:
            raise _Error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        if m := _ARN_ID.fullmatch(identifier):
            identifier, version = m[1], version or m[2]
        if not re.fullmatch(r"[0-9a-zA-Z]{10}", identifier):
            raise _Error(400, "ValidationException", f"Invalid promptIdentifier: {identifier}")
        if version is not None and not _VERSION.fullmatch(version):
            raise _Error(400, "ValidationException", f"Invalid promptVersion: {version}")
        version = None if version == "DRAFT" else version
        with self._lock:
            self._calls[(identifier, version)] += 1
            self.requests.append({"prompt_id": identifier, "version": version, "region": scope[1], "service": scope[2]})
            if identifier in self._failures:
                status, code = self._failures[identifier]
                raise _Error(status, code, f"{code} for prompt {identifier}")
            prompt = self._prompts.get(identifier)
            if prompt is None:
                raise _Error(404, "ResourceNotFoundException", f"Prompt {identifier} not found")
            if version is None:
                variant, created = prompt["draft"], prompt["created"]
            elif version in prompt["versions"]:
                variant, created = prompt["versions"][version]["variant"], prompt["versions"][version]["created"]
            else:
                raise _Error(404, "ResourceNotFoundException", f"Version {version} of prompt {identifier} not found")
            body: dict[str, Any] = {
                "name": prompt["name"],
                "id": identifier,
                "arn": self.arn(identifier, version, scope[1]),
                "version": version or "DRAFT",
                "defaultVariant": variant.get("name"),
                "createdAt": created,
                "updatedAt": prompt["updated"] if version is None else created,
            }
            if included != "METADATA_ONLY":
                body["variants"] = [copy.deepcopy(variant)]
            return body

    # ---- server lifecycle ------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeBedrockAgent:
        self._http.start(_handler(self), port)
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> FakeBedrockAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.port}"


def _handler(agent: FakeBedrockAgent) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def _send(self, status: int, body: dict | None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-amzn-requestid", secrets.token_hex(16))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, error: _Error) -> None:
            self._send(error.status, {"message": error.message}, {"x-amzn-errortype": error.code})

        def _json(self) -> dict:
            length = int(self.headers.get("content-length") or 0)
            return json.loads(self.rfile.read(length) or b"{}") if length else {}

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            parts = [unquote(p) for p in url.path.strip("/").split("/")]
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/_fake/calls":
                return self._send(200, agent.calls())
            if len(parts) != 2 or parts[0] != "prompts":
                return self._error(_Error(404, "UnknownOperationException", f"no route for GET {url.path}"))
            try:
                body = agent.get_prompt(parts[1], query.get("promptVersion"), query.get("includedData"), self.headers)
            except _Error as e:
                return self._error(e)
            self._send(200, body)

        def do_POST(self) -> None:
            parts = urlsplit(self.path).path.strip("/").split("/")
            try:
                data = self._json()
                if parts == ["_fake", "reset"]:
                    agent.reset()
                    return self._send(200, {})
                if parts == ["_fake", "prompts"]:
                    pid = agent.put_prompt(data["variant"], prompt_id=data.get("id"), name=data.get("name"))
                    return self._send(200, {"id": pid, "arn": agent.arn(pid)})
                if len(parts) == 4 and parts[:2] == ["_fake", "prompts"] and parts[3] == "versions":
                    version = agent.create_version(parts[2])
                    return self._send(200, {"version": version, "arn": agent.arn(parts[2], version)})
                if len(parts) == 4 and parts[:2] == ["_fake", "prompts"] and parts[3] == "failure":
                    if data.get("code"):
                        agent.fail(parts[2], data["code"], int(data.get("status", 400)))
                    else:
                        agent.clear_failure(parts[2])
                    return self._send(200, {})
            except (KeyError, ValueError, TypeError) as e:
                return self._send(400, {"message": f"bad admin request: {e}"})
            self._send(404, {"message": f"no route for POST {self.path}"})

    return Handler


def main(argv: list[str]) -> None:
    agent = FakeBedrockAgent().start(int(argv[1]) if len(argv) > 1 else 0)
    print(f"READY {agent.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        agent.stop()


if __name__ == "__main__":
    main(sys.argv)
