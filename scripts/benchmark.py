#!/usr/bin/env python3
"""Compare models through the gateway: the same questions to every model, answers side by side.

For every model and question: the answer, the response time, the tokens and the cost. The cost is
the one LiteLLM computed from its cost map (or the prices set in the gateway's config) and sent in
the ``x-litellm-response-cost`` header, which the gateway passes through; LiteLLM leaves the header
out for a model it has no price for, and the cost is then reported as unknown. A progress bar while
it runs, then a summary per model (mean/p50/p95 time, total tokens, total cost) and the failures per
model. A failed call is recorded and reported, never the end of the run.

Set-up (see scripts/.env.template)::

    cd scripts && python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt
    cp .env.template .env   # gateway URL, API key, models to compare
    python3 benchmark.py --out results.json --out results.csv --plot results.png

Edit ``QUESTIONS`` below to try your own. Against ``make local`` it works with no settings at all
(the local mock model, the master key in .local/master_key). Exit status: 0 when at least one call
succeeded, 1 when every call failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# --- edit me ------------------------------------------------------------------------------------
QUESTIONS: list[str] = [
    "What is the capital of Australia? Answer in one word.",
    "Explain the difference between a process and a thread in two sentences.",
    "A train covers 120 km in 1.5 hours. What is its average speed in km/h? Show the calculation.",
    "Write a haiku about the ocean.",
    "Give three practical tips for writing readable Python code.",
]
# ------------------------------------------------------------------------------------------------

HERE = Path(__file__).resolve().parent
LOCAL_MASTER_KEY = HERE.parent / ".local" / "master_key"
DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
DEFAULT_MODELS = "mock-gpt"
COST_HEADER = "x-litellm-response-cost"
OUTPUT_FORMATS = (".json", ".csv")


class UsageError(Exception):
    """Bad settings or arguments: reported without a traceback, exit status 2."""


@dataclass
class CallResult:
    model: str
    question_index: int
    question: str
    ok: bool
    seconds: float
    answer: str | None = None
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None  # None: LiteLLM has no price for the model (no cost header)


@dataclass
class ModelSummary:
    model: str
    calls: int
    succeeded: int
    failed: int
    mean_seconds: float | None
    p50_seconds: float | None
    p95_seconds: float | None
    total_tokens: int
    total_cost_usd: float | None  # None: no successful call had a price
    priced_calls: int  # successful calls whose cost LiteLLM reported
    errors: list[str] = field(default_factory=list)


# --- settings -----------------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``export``, quotes and ``#`` comments allowed); missing file -> {}."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name.strip()] = value
    return values


def setting(name: str, env_file: Mapping[str, str], default: str = "") -> str:
    """The environment wins over ``.env``, which wins over the default."""
    return os.environ.get(name) or env_file.get(name) or default


def split_models(raw: str) -> list[str]:
    models = [m.strip() for m in raw.replace("\n", ",").split(",") if m.strip()]
    return list(dict.fromkeys(models))  # keep order, drop duplicates


def base_url(endpoint: str) -> str:
    """The OpenAI base URL of the gateway (``…/v1``), whichever form API_ENDPOINT was given in."""
    endpoint = endpoint.rstrip("/").removesuffix("/bedrock").removesuffix("/v1")
    return f"{endpoint}/v1"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ask every model the same questions through the gateway; compare answers, time, tokens, cost.",
    )
    parser.add_argument("--env-file", type=Path, default=HERE / ".env", help="settings file (default: scripts/.env)")
    parser.add_argument("--models", help="comma-separated model names (default: BENCHMARK_MODELS)")
    parser.add_argument(
        "--question", action="append", dest="questions", help="a question to ask (repeatable; replaces QUESTIONS)"
    )
    parser.add_argument("--concurrency", type=int, help="calls in flight at once (default: BENCHMARK_CONCURRENCY or 4)")
    parser.add_argument("--max-tokens", type=int, help="max_tokens per answer (default: BENCHMARK_MAX_TOKENS or 512)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a call is a failure (120)")
    parser.add_argument(
        "--out", action="append", default=[], type=Path, help="write every result to FILE.json or FILE.csv (repeatable)"
    )
    parser.add_argument("--plot", type=Path, help="draw time and cost per model to FILE.png (needs matplotlib)")
    parser.add_argument("--no-answers", action="store_true", help="do not print the answers, only the summary")
    return parser.parse_args(argv)


def positive_int(value: str | int | None, name: str) -> int:
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise UsageError(f"{name} must be at least 1, got {number}")
    return number


# --- the calls ----------------------------------------------------------------------------------


def header_cost(headers: Mapping[str, str]) -> float | None:
    raw = headers.get(COST_HEADER)
    try:
        cost = float(raw) if raw not in (None, "", "None") else None
    except ValueError:
        return None
    return cost if cost is not None and math.isfinite(cost) else None


def describe_error(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        return f"HTTP {exc.status_code}: {body.get('message') or exc.message}"
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError):
        return f"connection failed: {exc.__cause__ or exc}"
    return f"{type(exc).__name__}: {exc}"


def ask(client, model: str, index: int, question: str, max_tokens: int) -> CallResult:
    started = time.perf_counter()
    try:
        raw = client.chat.completions.with_raw_response.create(
            model=model, messages=[{"role": "user", "content": question}], max_tokens=max_tokens
        )
        completion = raw.parse()
        seconds = time.perf_counter() - started
    except Exception as exc:  # every failure is a result, never the end of the run
        return CallResult(model, index, question, ok=False, seconds=time.perf_counter() - started,
                          error=describe_error(exc))  # fmt: skip
    result = CallResult(model, index, question, ok=True, seconds=seconds)
    if completion.choices:
        result.answer = completion.choices[0].message.content or ""
    usage = completion.usage
    if usage is not None:
        result.prompt_tokens, result.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        result.total_tokens = usage.total_tokens
    result.cost_usd = header_cost(raw.headers)
    return result


class Progress:
    """tqdm when it is installed, else a one-line counter on stderr."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self._bar = None
        if importlib.util.find_spec("tqdm") is not None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="benchmark", unit="call", file=sys.stderr)
        self._tty = sys.stderr.isatty()

    def update(self, failed: bool) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
            return
        width = 30
        filled = width * self.done // self.total
        line = f"benchmark [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
        if self._tty:
            print(f"\r{line}", end="", file=sys.stderr, flush=True)
        elif failed or self.done == self.total or self.done % max(1, self.total // 10) == 0:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._tty:
            print(file=sys.stderr)


def run_benchmark(
    client, models: Sequence[str], questions: Sequence[str], *, concurrency: int, max_tokens: int
) -> list[CallResult]:
    jobs = [(model, i, q) for model in models for i, q in enumerate(questions)]
    progress = Progress(len(jobs))
    results: list[CallResult] = []
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [pool.submit(ask, client, model, i, q, max_tokens) for model, i, q in jobs]
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                progress.update(failed=not result.ok)
    finally:
        progress.close()
    order = {m: n for n, m in enumerate(models)}
    return sorted(results, key=lambda r: (order[r.model], r.question_index))


# --- the report ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(results: Iterable[CallResult], models: Sequence[str]) -> list[ModelSummary]:
    summaries = []
    for model in models:
        mine = [r for r in results if r.model == model]
        ok = [r for r in mine if r.ok]
        times = [r.seconds for r in ok]
        priced = [r.cost_usd for r in ok if r.cost_usd is not None]
        summaries.append(
            ModelSummary(
                model=model,
                calls=len(mine),
                succeeded=len(ok),
                failed=len(mine) - len(ok),
                mean_seconds=sum(times) / len(times) if times else None,
                p50_seconds=percentile(times, 0.50),
                p95_seconds=percentile(times, 0.95),
                total_tokens=sum(r.total_tokens or 0 for r in ok),
                total_cost_usd=sum(priced) if priced else None,
                priced_calls=len(priced),
                errors=[f"Q{r.question_index + 1}: {r.error}" for r in mine if not r.ok],
            )
        )
    return summaries


def fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def fmt_cost(summary: ModelSummary) -> str:
    if summary.total_cost_usd is None:
        return "-" if not summary.succeeded else "unknown"
    return f"{summary.total_cost_usd:.6f}" + ("" if summary.priced_calls == summary.succeeded else "*")


def table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_answers(results: Sequence[CallResult], questions: Sequence[str]) -> None:
    for index, question in enumerate(questions):
        print(f"\n=== Q{index + 1}: {question}")
        for r in (r for r in results if r.question_index == index):
            if r.ok:
                cost = "cost unknown" if r.cost_usd is None else f"${r.cost_usd:.6f}"
                print(f"\n--- {r.model}  ({r.seconds:.2f} s, {r.total_tokens or 0} tokens, {cost})")
                print(r.answer)
            else:
                print(f"\n--- {r.model}  FAILED after {r.seconds:.2f} s: {r.error}")


def print_summary(summaries: Sequence[ModelSummary]) -> None:
    rows = [["model", "ok", "failed", "mean s", "p50 s", "p95 s", "tokens", "cost $"]]
    for s in summaries:
        rows.append([s.model, str(s.succeeded), str(s.failed), fmt_seconds(s.mean_seconds),
                     fmt_seconds(s.p50_seconds), fmt_seconds(s.p95_seconds), str(s.total_tokens),
                     fmt_cost(s)])  # fmt: skip
    print("\n=== Summary (times of successful calls)")
    print(table(rows, right={1, 2, 3, 4, 5, 6, 7}))
    if any(s.priced_calls < s.succeeded for s in summaries):
        print("unknown / *: LiteLLM has no price for (some of) the calls (no cost header); set input_cost_per_token")
        print("and output_cost_per_token on the model in the gateway's config to price it")
    failing = [s for s in summaries if s.failed]
    if failing:
        print("\n=== Failures")
        for s in failing:
            print(f"{s.model}: {s.failed} of {s.calls} failed")
            for error in s.errors:
                print(f"  {error}")


def write_json(path: Path, results, summaries, meta: dict) -> None:
    payload = {**meta, "results": [asdict(r) for r in results], "summary": [asdict(s) for s in summaries]}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def write_csv(path: Path, results: Sequence[CallResult]) -> None:
    names = list(CallResult.__dataclass_fields__)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for r in results:
            writer.writerow(asdict(r))


def write_plot(path: Path, summaries: Sequence[ModelSummary]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s.model for s in summaries]
    fig, (ax_time, ax_cost) = plt.subplots(1, 2, figsize=(max(8, 1.6 * len(names) + 4), 4.5))
    means = [s.mean_seconds or 0.0 for s in summaries]
    p95s = [max((s.p95_seconds or 0.0) - (s.mean_seconds or 0.0), 0.0) for s in summaries]
    ax_time.bar(names, means, yerr=[[0] * len(p95s), p95s], capsize=4, color="#4C72B0")
    ax_time.set_title("Response time (mean, whisker to p95)")
    ax_time.set_ylabel("seconds")
    ax_cost.bar(names, [s.total_cost_usd or 0.0 for s in summaries], color="#DD8452")
    ax_cost.set_title("Total cost")
    ax_cost.set_ylabel("USD")
    for axis in (ax_time, ax_cost):
        axis.tick_params(axis="x", labelrotation=30)
        for label in axis.get_xticklabels():
            label.set_horizontalalignment("right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- main ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        env_file = read_env_file(args.env_file)
        models = split_models(args.models or setting("BENCHMARK_MODELS", env_file, DEFAULT_MODELS))
        questions = [q for q in (args.questions or QUESTIONS) if q.strip()]
        if not models:
            raise UsageError("no models to compare: set BENCHMARK_MODELS in scripts/.env or pass --models a,b")
        if not questions:
            raise UsageError("no questions: fill QUESTIONS at the top of benchmark.py or pass --question")
        concurrency = positive_int(args.concurrency or setting("BENCHMARK_CONCURRENCY", env_file, "4"), "concurrency")
        max_tokens = positive_int(args.max_tokens or setting("BENCHMARK_MAX_TOKENS", env_file, "512"), "max tokens")
        for out in args.out:
            if out.suffix.lower() not in OUTPUT_FORMATS:
                raise UsageError(f"--out {out}: the file name must end in .json or .csv")
        if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
            raise UsageError("--plot needs matplotlib: pip install matplotlib (or -r scripts/requirements.txt)")
        endpoint = base_url(setting("API_ENDPOINT", env_file, DEFAULT_ENDPOINT))
        local_key = LOCAL_MASTER_KEY.read_text().strip() if LOCAL_MASTER_KEY.exists() else ""
        key = setting("API_KEY", env_file) or local_key
        if not key:
            raise UsageError("set API_KEY in scripts/.env (or the environment) to your gateway API key")
        if importlib.util.find_spec("openai") is None:
            raise UsageError("the openai package is missing: pip install -r scripts/requirements.txt")
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    import openai

    client = openai.OpenAI(base_url=endpoint, api_key=key, max_retries=0, timeout=args.timeout)
    print(f"gateway: {endpoint}\nmodels: {', '.join(models)}\nquestions: {len(questions)}  concurrency: {concurrency}")
    started = time.perf_counter()
    results = run_benchmark(client, models, questions, concurrency=concurrency, max_tokens=max_tokens)
    wall = time.perf_counter() - started
    summaries = summarize(results, models)

    if not args.no_answers:
        print_answers(results, questions)
    print_summary(summaries)
    print(f"\n{len(results)} calls in {wall:.1f} s")

    meta = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "endpoint": endpoint,
        "models": list(models),
        "questions": list(questions),
        "max_tokens": max_tokens,
        "concurrency": concurrency,
        "wall_seconds": round(wall, 3),
    }
    for out in args.out:
        if out.suffix.lower() == ".json":
            write_json(out, results, summaries, meta)
        else:
            write_csv(out, results)
        print(f"wrote {out}")
    if args.plot is not None:
        write_plot(args.plot, summaries)
        print(f"wrote {args.plot}")
    return 0 if any(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
