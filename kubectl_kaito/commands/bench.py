"""`kubectl kaito bench`: a serving load test of a workspace's model (or any OpenAI-compatible URL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags
from kubectl_kaito.errors import ServerError, UsageError
from kubectl_kaito.output import Document, Result, Text
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.console import Console
    from kubectl_kaito.loadtest import Prompt, RunState

FORMATS = ("json", "yaml")


def bench(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            help="Load this OpenAI-compatible URL instead (e.g. http://localhost:8080 or .../v1). "
            "No kubeconfig needed.",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    requests: Annotated[int, typer.Option("--requests", help="Requests per run.", metavar="N")] = 100,
    concurrency: Annotated[
        str | None,
        typer.Option(
            "--concurrency",
            help="Most requests in flight at once, or a list (1,4,16) for one run each. Default: 1 in a closed "
            "loop, no limit with --rate.",
            metavar="C[,C...]",
            show_default=False,
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            help="Send requests at this many per second, as a Poisson process (default: a closed loop, each "
            "request sent as soon as a slot is free).",
            metavar="R",
            show_default=False,
        ),
    ] = None,
    prompt_tokens: Annotated[
        int, typer.Option("--prompt-tokens", help="Length of each synthetic prompt, in tokens.", metavar="N")
    ] = 256,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="max_tokens of each request.", metavar="N")] = 128,
    prompts_file: Annotated[
        str | None,
        typer.Option(
            "--prompts",
            help='Prompts from a JSONL file: {"prompt": "..."} or {"messages": [...]} per line, used in turn.',
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the synthetic prompts and the arrival times.", metavar="N")
    ] = 0,
    ignore_eos: Annotated[
        bool, typer.Option("--ignore-eos", help="Send vLLM's ignore_eos, so every answer is --max-tokens long.")
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="The model id to send (default: the first one /v1/models lists).",
            metavar="ID",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        str,
        flags.timeout_option(
            "5m", "a long answer from a busy server takes minutes", what="How long one request may take"
        ),
    ] = "5m",
    output_format: Annotated[
        str | None, flags.output_option(*FORMATS, help="json|yaml: the report for scripts (fields: docs/bench.md).")
    ] = None,
) -> Result | None:
    """Load a deployed model with streaming requests and report serving metrics.

    Metrics as vLLM's serving benchmark defines them: request and output token throughput,
    time to first token (TTFT), time per output token (TPOT), inter-token latency (ITL) and
    end-to-end latency (mean, p50, p90, p99), and errors by kind. Token counts come from the
    server's usage when it reports them, else they are counted from the stream (the report
    says which). Goes through the API server's service proxy like chat, or to --endpoint.

    Examples:

      kubectl kaito bench my-llm --requests 200 --concurrency 8

      kubectl kaito bench my-llm --concurrency 1,4,16 --max-tokens 256 -o json

      kubectl kaito bench my-llm --rate 4 --requests 100 --seed 7 --prompts prompts.jsonl

      kubectl kaito bench --endpoint http://localhost:8080 --requests 20

    Exit codes: 0 the report (errors of some requests are in it); 1 every request failed (the
    report is still printed); 2 bad flags or prompts file; 3 workspace not found; 4 workspace
    not ready or endpoint not answering; 5 cannot reach the cluster; 130 interrupted (Ctrl-C:
    the report of what finished so far is printed first).
    """
    from kubectl_kaito import inference, loadtest, output  # noqa: PLC0415

    count = loadtest.check_count(requests, "--requests", loadtest.MAX_REQUESTS)
    levels = loadtest.parse_concurrency(concurrency)
    arrival_rate = loadtest.check_rate(rate)
    if arrival_rate is None and levels == [None]:
        levels = [1]
    loadtest.check_count(max_tokens, "--max-tokens", loadtest.MAX_TOKENS_LIMIT)
    wait = flags.parse_timeout(timeout)
    if prompts_file is not None:
        prompts = _read_prompts(prompts_file)
    else:
        loadtest.check_count(prompt_tokens, "--prompt-tokens", loadtest.MAX_TOKENS_LIMIT)
        # distinct prompts, used in turn: at most 1000, and at most ~10 million words in memory
        distinct = min(count, 1000, max(1, 10_000_000 // prompt_tokens))
        prompts = loadtest.synthetic_prompts(distinct, prompt_tokens, seed)
    workspace_name = flags.workspace_name(name, workspace_name, required=False, example="")
    if bool(workspace_name) == bool(endpoint):
        raise UsageError(
            "give --workspace-name or --endpoint, not both" if endpoint else "no workspace given",
            hint="kubectl kaito bench my-llm (or --endpoint URL)",
        )

    cluster = None
    if endpoint:
        first = inference.open_endpoint(endpoint, wait)
    else:
        assert workspace_name is not None
        cluster = app.resources()
        first = inference.open_workspace(cluster, workspace_name, app.namespace, wait)
    with first:
        served = model or first.models()[0]  # not answering: the one mapped error (exit 4), stdout empty
        bodies = [(loadtest.build_request(served, p, max_tokens, ignore_eos=ignore_eos), p.tokens) for p in prompts]
        report: dict[str, Any] = {
            "workspace": workspace_name,
            "namespace": app.namespace if workspace_name else None,
            "endpoint": first.target.where if endpoint else None,
            "model": served,
            "load": {
                "requests": count,
                "concurrency": levels,
                "rate": arrival_rate,
                "prompt_tokens": None if prompts_file else prompt_tokens,
                "prompts_file": prompts_file,
                "max_tokens": max_tokens,
                "ignore_eos": ignore_eos,
                "seed": seed,
                "timeout_s": wait,
            },
            "interrupted": False,
            "runs": [],
        }
        stop = threading.Event()
        state: RunState | None = None
        try:
            for n, level in enumerate(levels, start=1):
                spec = loadtest.RunSpec(count, level, arrival_rate, seed, wait)
                state = loadtest.RunState(spec)
                with _progress(app.console, n, len(levels)) as tick:
                    loadtest.run_load(spec, bodies, lambda: inference.reopen(first, cluster), state, stop, tick)
                report["runs"].append(loadtest.run_report(state))
                state = None
        except KeyboardInterrupt:
            if state is not None:
                report["runs"].append(loadtest.run_report(state))
            report["interrupted"] = True
            output.render(app.console, _result(report, app.settings.output), app.settings.output)
            app.console.info("interrupted: the report counts the requests that finished before Ctrl-C")
            raise typer.Exit(130) from None
    if not any(run["completed"] for run in report["runs"]):
        output.render(app.console, _result(report, app.settings.output), app.settings.output)
        kinds = ", ".join(f"{k} {v}" for run in report["runs"] for k, v in run["errors"].items())
        example = next((m for run in report["runs"] for m in run["error_examples"].values()), "")
        raise ServerError(f"every request failed ({kinds}): {example}", details={"errors": kinds})
    return _result(report, app.settings.output)


def _result(report: dict[str, Any], fmt: str | None) -> Result:
    from kubectl_kaito import loadtest  # noqa: PLC0415

    return Document(report) if fmt in FORMATS else Text(loadtest.report_text(report))


def _read_prompts(path: str) -> list[Prompt]:
    from kubectl_kaito import loadtest  # noqa: PLC0415

    flags_text = path if path.isprintable() else repr(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read --prompts {flags_text}: {exc.strerror or exc}") from None
    return loadtest.read_prompts(data.splitlines(), flags_text)


@contextmanager
def _progress(console: Console, n: int, runs: int) -> Iterator[Callable[[RunState], None] | None]:
    """A live status line on a terminal (requests done, failed, in flight); nothing otherwise."""
    if not console.live:
        yield None
        return
    label = f"run {n}/{runs}"
    with console.progress(f"{label}: starting") as progress:

        def tick(state: RunState) -> None:
            done = len(state.outcomes)
            failed = sum(1 for o in state.outcomes if not o.ok)
            progress.update(f"{label}: {done}/{state.spec.requests} done, {failed} failed, {state.in_flight} in flight")

        yield tick
