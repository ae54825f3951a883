"""`make local`: run the whole local gateway in the foreground until Ctrl-C / SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import time

from devstack.prisma import DatabaseModeUnavailable
from devstack.processes import StartupError
from devstack.stack import LocalStack, StackOptions


def main() -> int:
    started = time.monotonic()
    options = StackOptions.from_env(os.environ)
    stack = LocalStack(options)
    stopping = False

    def interrupt_startup(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # start() cleans up what it already started

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, interrupt_startup)
    signal.signal(signal.SIGINT, interrupt_startup)
    print("starting the local gateway (PostgreSQL, DynamoDB emulator, LiteLLM, middleware) …", flush=True)
    try:
        stack.start()
        model = stack.model_names[0]
        answer = stack.smoke_chat(model)
    except DatabaseModeUnavailable as exc:
        print(f"local gateway not started: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    except (StartupError, RuntimeError, OSError) as exc:
        print(f"local gateway failed to start: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    except KeyboardInterrupt:
        print("interrupted during start-up; stopped everything.", file=sys.stderr)
        stack.stop()
        return 130
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    elapsed = time.monotonic() - started
    key = options.master_key
    print(
        f"""
  GenAI Gateway (local) is up in {elapsed:.1f} s
  gateway URL : {stack.gateway_url}        (OpenAI: /v1/chat/completions)
  LiteLLM URL : {stack.litellm_url}
  master key  : {key}
  {stack.database_note}
  DynamoDB    : {stack.dynamodb_url}
  models      : {", ".join(stack.model_names)}
  logs        : {stack.log_dir}

  try it:
    curl {stack.gateway_url}/v1/chat/completions \\
      -H "Authorization: Bearer {key}" -H "Content-Type: application/json" \\
      -d '{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello!"}}]}}'

READY: a master-key chat completion through the gateway works ({model} said: {answer[:60]!r}). Ctrl-C stops everything.
""",
        flush=True,
    )
    while not stopping:
        failed = stack.failed_child()
        if failed is not None:
            print(
                f"{failed.name} stopped unexpectedly; see {failed.log_path}\n{failed.log_tail()}",
                file=sys.stderr,
            )
            stack.stop()
            return 1
        time.sleep(0.5)
    print("stopping …", flush=True)
    stack.stop()
    print("stopped: nothing left listening.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
