"""`make bench`: gateway overhead against its baselines, all in one run, loopback only.

Rows (each at concurrency 1 and 16, sync and, where it applies, streaming):
1 direct to the fake upstream · 2 LiteLLM → fake (one worker process; 2w: a second LiteLLM on the
same database with two workers, the stack's default on a 2-vCPU task, ``NUM_WORKERS``) · 3 gateway
OpenAI → LiteLLM → fake · 4 gateway Converse → LiteLLM → fake · 5 rows 3/4 continuing a stored
session (history load + append) · 6 the middleware alone → fake (LiteLLM bypassed: our own cost) ·
7 the Responses API, a chained turn (``previous_response_id``) against a stateless one
(``store: false``), see ``bench.responses`` · 8 gateway InvokeModel (Anthropic Messages bodies, as
Claude Code and ``AnthropicBedrock`` send them) → LiteLLM's ``/v1/messages`` → fake, against row 4, with
LiteLLM's ``/v1/messages`` called directly as its baseline, and the middleware alone on the invoke
routes (its ``/v1/messages`` call answered by the fake's Anthropic-format stand-in) against that
stand-in called directly: the invoke routes' own cost, as row 6 is the chat route's.
Then the Lambda entry modules' import time (cold-start cost) and package size against their budgets,
on a Lambda-like virtualenv (``bench.footprint``).
Ratios compare rows measured in this same run. Results: a table on stdout and JSON in
``bench-results.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench import footprint, responses
from bench.load import run_load
from devstack.processes import Child, free_port, http_ok, wait_until
from devstack.stack import REPO_ROOT, LocalStack, StackOptions

CONFIG = Path(__file__).with_name("litellm-bench-config.yaml")


def openai_body(stream: bool, session: str | None = None) -> bytes:
    body: dict = {"model": "fake", "messages": [{"role": "user", "content": "benchmark me please"}], "stream": stream}
    if session:
        body["session_id"] = session
    return json.dumps(body).encode()


def converse_body(session: str | None = None) -> bytes:
    body: dict = {"messages": [{"role": "user", "content": [{"text": "benchmark me please"}]}]}
    if session:
        body["additionalModelRequestFields"] = {"session_id": session}
    return json.dumps(body).encode()


#: The invoke rows' model: LiteLLM's ``/v1/messages`` reaches it over chat completions (``hosted_vllm/``);
#: it sends ``openai/*`` models to the Responses API, which the fake upstream does not serve.
INVOKE_MODEL = "fake-chat"


def invoke_body() -> bytes:
    """An Anthropic Messages body as ``AnthropicBedrock`` and Claude Code send it to InvokeModel."""
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "benchmark me please"}],
    }
    return json.dumps(body).encode()


def messages_body(stream: bool) -> bytes:
    """The same request as LiteLLM's own ``/v1/messages`` takes it (row 8's baseline, LiteLLM alone)."""
    body = {
        "model": INVOKE_MODEL,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "benchmark me please"}],
        "stream": stream,
    }
    return json.dumps(body).encode()


def start(args) -> tuple[LocalStack, Child, dict[str, str]]:
    work = REPO_ROOT / ".local" / "bench"
    fake_port = free_port()
    fake = Child("fake-upstream", [sys.executable, "-m", "tests.support.fake_openai", str(fake_port)],
                 {**__import__("os").environ, "PYTHONPATH": str(REPO_ROOT)}, work / "logs", REPO_ROOT)  # fmt: skip
    fake_url = f"http://127.0.0.1:{fake_port}"
    wait_until(http_ok(f"{fake_url}/v1/models"), child=fake, timeout=30, what="fake upstream")
    options = StackOptions(
        gateway_port=free_port(), litellm_port=free_port(), litellm_config=CONFIG, work_dir=work,
        master_key="sk-bench-" + secrets.token_hex(8), durable_postgres=False,
        extra_env={"FAKE_UPSTREAM_URL": f"{fake_url}/v1", "LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    stack = LocalStack(options, log=lambda *_: None)
    try:
        stack.start()
        urls = {
            "fake": fake_url,
            "litellm": stack.litellm_url,
            "litellm_2_workers": stack.start_litellm("litellm-2-workers", free_port(), num_workers=2),
            "gateway_history": stack.gateway_url,
            "gateway": stack.start_middleware("mw-no-history", free_port(), env_overrides={"HISTORY_ENABLED": "false"}),
            "middleware_only": stack.start_middleware(
                "mw-direct", free_port(), env_overrides={"HISTORY_ENABLED": "false", "LITELLM_BASE_URL": fake_url}
            ),
            # the invoke route's own cost: its /v1/messages call goes to the fake's Anthropic-format stand-in
            "middleware_only_anthropic": stack.start_middleware(
                "mw-direct-anthropic",
                free_port(),
                env_overrides={"HISTORY_ENABLED": "false", "LITELLM_BASE_URL": f"{fake_url}/anthropic"},
            ),
        }
    except BaseException:  # nothing may outlive a failed or interrupted start
        stack.stop()
        fake.stop()
        raise
    return stack, fake, urls


def new_sessions(url: str, key: str, count: int) -> list[str]:
    headers = {"Authorization": f"Bearer {key}"}
    return [
        httpx.post(f"{url}/v1/chat/completions", headers=headers, content=openai_body(False), timeout=30).json()[
            "session_id"
        ]
        for _ in range(count)
    ]


async def measure(urls: dict[str, str], key: str, requests: dict[int, int], repeats: int) -> list[dict]:
    auth = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    chat = "/v1/chat/completions"
    converse = "/bedrock/model/fake/converse"
    invoke = f"/bedrock/model/{INVOKE_MODEL}/invoke"
    invoke_stream = invoke + "-with-response-stream"
    sessions = new_sessions(urls["gateway_history"], key, 200)
    chains = responses.Chains(urls["gateway_history"], key, (requests[1] + responses.WARMUP) * repeats)
    responses_url = urls["gateway_history"] + responses.PATH
    rows = [
        ("1 direct → fake", urls["fake"] + chat, lambda i: openai_body(False), False),
        ("1 direct → fake (stream)", urls["fake"] + chat, lambda i: openai_body(True), True),
        ("2 LiteLLM → fake", urls["litellm"] + chat, lambda i: openai_body(False), False),
        ("2 LiteLLM → fake (stream)", urls["litellm"] + chat, lambda i: openai_body(True), True),
        ("2w LiteLLM, 2 workers → fake", urls["litellm_2_workers"] + chat, lambda i: openai_body(False), False),
        ("2w LiteLLM, 2 workers → fake (stream)", urls["litellm_2_workers"] + chat, lambda i: openai_body(True), True),
        ("3 gateway OpenAI", urls["gateway"] + chat, lambda i: openai_body(False), False),
        ("3 gateway OpenAI (stream)", urls["gateway"] + chat, lambda i: openai_body(True), True),
        ("4 gateway Converse", urls["gateway"] + converse, lambda i: converse_body(), False),
        ("4 gateway Converse (stream)", urls["gateway"] + converse + "-stream", lambda i: converse_body(), True),
        ("5 gateway OpenAI + session", urls["gateway_history"] + chat,
         lambda i: openai_body(False, sessions[i % len(sessions)]), False),
        ("5 gateway Converse + session", urls["gateway_history"] + converse,
         lambda i: converse_body(sessions[i % len(sessions)]), False),
        ("6 middleware only → fake", urls["middleware_only"] + chat, lambda i: openai_body(False), False),
        ("6 middleware only → fake (stream)", urls["middleware_only"] + chat, lambda i: openai_body(True), True),
        ("7 gateway Responses, stateless", responses_url, responses.stateless_body, False),
        ("7 gateway Responses, chained", responses_url, chains.body, False),
        ("8 direct → fake /v1/messages", urls["fake"] + "/anthropic/v1/messages",
         lambda i: messages_body(False), False),
        ("8 direct → fake /v1/messages (stream)", urls["fake"] + "/anthropic/v1/messages",
         lambda i: messages_body(True), True),
        ("8 middleware → fake, invoke", urls["middleware_only_anthropic"] + invoke,
         lambda i: invoke_body(), False),
        ("8 middleware → fake, invoke (stream)", urls["middleware_only_anthropic"] + invoke_stream,
         lambda i: invoke_body(), True),
        ("8 LiteLLM /v1/messages → fake", urls["litellm"] + "/v1/messages", lambda i: messages_body(False), False),
        ("8 LiteLLM /v1/messages → fake (stream)", urls["litellm"] + "/v1/messages",
         lambda i: messages_body(True), True),
        ("8 gateway InvokeModel", urls["gateway"] + invoke, lambda i: invoke_body(), False),
        ("8 gateway InvokeModel (stream)", urls["gateway"] + invoke_stream,
         lambda i: invoke_body(), True),
    ]  # fmt: skip
    results = []
    for repeat in range(repeats):
        for concurrency, count in requests.items():
            for name, url, body, stream in rows:
                if name.startswith(("5 ", "7 ")) and concurrency > 1:
                    continue  # the local DynamoDB emulator serialises requests: at c>1 it measures moto, not us
                outcome = await run_load(
                    url, body, headers=auth, requests=count, concurrency=concurrency, stream=stream
                )
                results.append({"row": name, "concurrency": concurrency, "repeat": repeat, **outcome.summary()})
                print(f"  {name:<40} c={concurrency:<3} r={repeat}  {results[-1]}", flush=True)
    return results


def best(results: list[dict], row: str, concurrency: int, metric: str) -> float | None:
    """Median over repeats of a metric (robust to one noisy repeat); None where it was not measured."""
    values = sorted(
        r[metric] for r in results if r["row"] == row and r["concurrency"] == concurrency and r[metric] is not None
    )
    return values[len(values) // 2] if values else None


def report(results: list[dict]) -> dict:
    def diff(a: str, b: str, c: int, metric: str) -> float:
        return round(best(results, a, c, metric) - best(results, b, c, metric), 3)

    def ratio(a: str, b: str, c: int, metric: str) -> float:
        return round(best(results, a, c, metric) / best(results, b, c, metric), 2)

    return {
        "middleware_added_p50_ms_c1": diff("6 middleware only → fake", "1 direct → fake", 1, "p50_ms"),
        "middleware_added_p99_ms_c1": diff("6 middleware only → fake", "1 direct → fake", 1, "p99_ms"),
        "middleware_added_ttfb_p50_ms_c1": diff(
            "6 middleware only → fake (stream)", "1 direct → fake (stream)", 1, "ttfb_p50_ms"
        ),
        "middleware_rps_vs_litellm_rps_c16": ratio("6 middleware only → fake", "2 LiteLLM → fake", 16, "rps"),
        "gateway_openai_vs_litellm_p50_c1": ratio("3 gateway OpenAI", "2 LiteLLM → fake", 1, "p50_ms"),
        "converse_vs_openai_p50_c1": ratio("4 gateway Converse", "3 gateway OpenAI", 1, "p50_ms"),
        "converse_vs_openai_p99_c1": ratio("4 gateway Converse", "3 gateway OpenAI", 1, "p99_ms"),
        "converse_vs_openai_p50_c16": ratio("4 gateway Converse", "3 gateway OpenAI", 16, "p50_ms"),
        "converse_vs_openai_p99_c16": ratio("4 gateway Converse", "3 gateway OpenAI", 16, "p99_ms"),
        "litellm_2_workers_vs_1_rps_c16": ratio("2w LiteLLM, 2 workers → fake", "2 LiteLLM → fake", 16, "rps"),
        "litellm_2_workers_vs_1_stream_rps_c16": ratio(
            "2w LiteLLM, 2 workers → fake (stream)", "2 LiteLLM → fake (stream)", 16, "rps"
        ),
        "history_turn_added_p50_ms_c1": diff("5 gateway OpenAI + session", "3 gateway OpenAI", 1, "p50_ms"),
        "responses_chained_vs_stateless_p50_c1": ratio(
            "7 gateway Responses, chained", "7 gateway Responses, stateless", 1, "p50_ms"
        ),
        "responses_chain_added_p50_ms_c1": diff(
            "7 gateway Responses, chained", "7 gateway Responses, stateless", 1, "p50_ms"
        ),
        **invoke_vs_converse(ratio, diff),
    }


def invoke_vs_converse(
    ratio: Callable[[str, str, int, str], float], diff: Callable[[str, str, int, str], float]
) -> dict[str, float]:
    """Row 8 against row 4: the invoke routes' cost next to Converse's, sync and stream, c1 and c16; and what
    each adds to LiteLLM alone (invoke: over LiteLLM's ``/v1/messages``; Converse: over chat completions)."""
    sync, stream = (
        ("8 gateway InvokeModel", "4 gateway Converse"),
        ("8 gateway InvokeModel (stream)", "4 gateway Converse (stream)"),
    )
    pairs = [
        ("invoke_vs_converse", sync, "p50"), ("invoke_vs_converse", sync, "p99"),
        ("invoke_stream_vs_converse_stream", stream, "p50"), ("invoke_stream_vs_converse_stream", stream, "p99"),
        ("invoke_stream_vs_converse_stream", stream, "ttfb_p50"),
    ]  # fmt: skip
    ratios = {f"{name}_{metric}_c{c}": ratio(*rows, c, f"{metric}_ms") for name, rows, metric in pairs for c in (1, 16)}
    added = [
        ("invoke_added_p50_ms_c1", "8 gateway InvokeModel", "8 LiteLLM /v1/messages → fake", "p50_ms"),
        ("converse_added_p50_ms_c1", "4 gateway Converse", "2 LiteLLM → fake", "p50_ms"),
        ("invoke_stream_added_ttfb_p50_ms_c1", "8 gateway InvokeModel (stream)",
         "8 LiteLLM /v1/messages → fake (stream)", "ttfb_p50_ms"),
        ("converse_stream_added_ttfb_p50_ms_c1", "4 gateway Converse (stream)",
         "2 LiteLLM → fake (stream)", "ttfb_p50_ms"),
        ("middleware_added_invoke_p50_ms_c1", "8 middleware → fake, invoke", "8 direct → fake /v1/messages",
         "p50_ms"),
        ("middleware_added_invoke_p99_ms_c1", "8 middleware → fake, invoke", "8 direct → fake /v1/messages",
         "p99_ms"),
        ("middleware_added_invoke_ttfb_p50_ms_c1", "8 middleware → fake, invoke (stream)",
         "8 direct → fake /v1/messages (stream)", "ttfb_p50_ms"),
    ]  # fmt: skip
    return {**ratios, **{name: diff(a, b, 1, metric) for name, a, b, metric in added}}


def print_table(results: list[dict]) -> None:
    def cell(row: str, c: int, metric: str) -> str:
        value = best(results, row, c, metric)
        return "       -" if value is None else f"{value:8.2f}"

    print(f"\n{'row':<40} {'c':>3} {'p50':>8} {'p95':>8} {'p99':>8} {'ttfb50':>8} {'rps':>8} {'err':>4}")
    for row in dict.fromkeys(r["row"] for r in results):
        for c in sorted({r["concurrency"] for r in results}):
            cells = " ".join(cell(row, c, m) for m in ("p50_ms", "p95_ms", "p99_ms", "ttfb_p50_ms", "rps"))
            errors = sum(r["errors"] for r in results if r["row"] == row and r["concurrency"] == c)
            print(f"{row:<40} {c:>3} {cells} {errors:>4}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests-c1", type=int, default=200)
    parser.add_argument("--requests-c16", type=int, default=800)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-results.json")
    args = parser.parse_args()
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on `kill`/timeout too
    print("starting fake upstream, PostgreSQL, DynamoDB emulator, two LiteLLM proxies and four middleware instances …")
    stack, fake, urls = start(args)
    try:
        results = asyncio.run(
            measure(urls, stack.options.master_key, {1: args.requests_c1, 16: args.requests_c16}, args.repeats)
        )
    finally:
        stack.stop()
        fake.stop()
    print_table(results)
    summary = report(results)
    print("\nratios and differences (same run; medians over repeats):")
    for name, value in summary.items():
        print(f"  {name:<40} {value}")
    lambda_footprint = footprint.report()
    print("\nLambda footprint (Lambda-like virtualenv; import time: best of 3, `python -X importtime`):")
    for function, row in lambda_footprint.items():
        verdict = "within" if row["import_within_budget"] else "OVER"
        print(f"  {function:<11} import {row['import_ms']:7.1f} ms ({verdict} the {row['import_budget_ms']} ms budget)"
              f"   package {row['package_mb']:5.1f} MB (budget {row['package_budget_mb']} MB)")  # fmt: skip
    args.out.write_text(
        json.dumps({"summary": summary, "lambda_footprint": lambda_footprint, "results": results}, indent=2)
    )
    print(f"\nwritten {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
