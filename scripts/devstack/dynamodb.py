"""A DynamoDB emulator on loopback for tests, benchmarks and ``make local``: moto's server, in a child.

    with start_dynamodb_emulator() as emulator:      # or: emulator = start_...(); emulator.stop()
        create_history_table(emulator.url, "genai-gateway-history", "us-east-1")

Run directly (``python scripts/devstack/dynamodb.py -p 8000``) it serves in the foreground and prints
``READY <url>`` once listening; ``-p 0`` picks a free port.

Three deliberate differences from ``python -m moto.server``:

- A child process, not a thread: moto keeps its state in module globals, which ``mock_aws`` (used
  in-process by other tests) resets and patches.
- Requests are applied one at a time. moto runs TransactWriteItems by snapshotting a table and
  restoring the snapshot on failure, so two concurrent transactions in its threaded server can undo
  each other's writes. DynamoDB is atomic; serialising requests makes the emulator atomic too, so the
  concurrent-append tests test our code and not moto's race.
- Bounded memory and per-request cost: see ``moto_bounded`` (moto otherwise keeps a copy of the
  table per transaction, forever).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

_READY = "READY "


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_dynamodb_emulator(
    port: int = 0, host: str = "127.0.0.1", timeout: float = 30.0, log: IO[bytes] | None = None
) -> Emulator:
    """Start the emulator in a child process and wait until it listens; ``port=0`` picks a free one."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--host", host, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=log if log is not None else subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal reaches the parent, which stops us
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            process.kill()
            process.wait()
            raise RuntimeError(f"DynamoDB emulator did not start on {host}:{port} (got {line!r})")
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if ready:
            chunk = os.read(process.stdout.fileno(), 256)
            if not chunk:
                continue
            line += chunk
    text = line.decode().strip()
    if not text.startswith(_READY):
        process.kill()
        process.wait()
        raise RuntimeError(f"DynamoDB emulator printed {text!r}")
    return Emulator(url=text[len(_READY) :], process=process)


def create_history_table(endpoint_url: str, table_name: str, region: str = "us-east-1") -> None:
    """Create the chat history table exactly as the CDK stack defines it (idempotent)."""
    import boto3

    client = boto3.client(
        "dynamodb",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    try:
        client.create_table(
            TableName=table_name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "session_id", "KeyType": "HASH"},
                {"AttributeName": "seq", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "session_id", "AttributeType": "S"},
                {"AttributeName": "seq", "AttributeType": "N"},
                {"AttributeName": "owner_id", "AttributeType": "S"},
                {"AttributeName": "created_at", "AttributeType": "N"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "owner-index",
                    "KeySchema": [
                        {"AttributeName": "owner_id", "KeyType": "HASH"},
                        {"AttributeName": "created_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2})
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


# -- the child ---------------------------------------------------------------------------------------


class _OneAtATime:
    """WSGI wrapper that applies requests one at a time (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        with self.lock:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]


def serve(host: str, port: int) -> None:
    import logging

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find `devstack`
    from devstack import moto_bounded

    moto_bounded.install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    bound_host, bound_port = server.server_address[:2]
    print(f"{_READY}http://{bound_host}:{bound_port}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0)
    args = parser.parse_args(argv)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port)


if __name__ == "__main__":
    main()
