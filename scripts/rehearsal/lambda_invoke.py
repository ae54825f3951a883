"""Invoke a Lambda Python handler as the managed runtime does, one process per execution environment.

Run with the function's environment (``_HANDLER``, ``LAMBDA_TASK_ROOT``...). Reads a JSON list of events
on stdin and writes one JSON result per event: ``{"result": ...}`` or ``{"errorType", "errorMessage"}``
as Lambda reports a raised exception. Each invocation gets the function's ``Timeout`` (argv[1],
seconds), after which it is stopped as Lambda stops it ("Task timed out"); argv[2] is the folder that
plays ``/opt/python`` (the layers' Python code).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import uuid


class _Timeout(BaseException):
    pass


class _Context:
    def __init__(self, timeout: float) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{os.environ.get('AWS_REGION')}:123456789012:function:x"
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = "rehearsal"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _alarm(*_: object) -> None:
    raise _Timeout


def main() -> int:
    timeout = float(sys.argv[1])
    sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], sys.argv[2]]  # /var/task, then the layers' /opt/python
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)  # the init phase
    signal.signal(signal.SIGALRM, _alarm)
    results = []
    for event in json.load(sys.stdin):
        started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            outcome = {"result": handler(event, _Context(timeout))}
        except _Timeout:
            outcome = {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {timeout:.2f} seconds"}
        except Exception as exc:
            outcome = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        outcome["seconds"] = round(time.monotonic() - started, 3)
        results.append(outcome)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
