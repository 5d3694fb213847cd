"""`kubectl kaito top`: what each workspace's model server reports on /metrics, live."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags, kaito, output
from kubectl_kaito.errors import UsageError
from kubectl_kaito.output import Document, Result, Table
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito import top as core
    from kubectl_kaito.resources import Resources

MAX_POD_TIMEOUT = 10.0  # a pod gets the interval to answer, at most this
MAX_METRICS_BYTES = 16 * 1024 * 1024


def top(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="Show the workspaces of every namespace.")
    ] = False,
    selector: flags.SelectorOpt = None,
    output_format: Annotated[
        str | None,
        flags.output_option(
            "json", "yaml", help="Print the figures once as json or yaml (fields in docs/top.md).", metavar="FORMAT"
        ),
    ] = None,
    interval: Annotated[
        str,
        typer.Option(
            "--interval",
            help="Time between two reads of /metrics (e.g. 2s, 500ms): the table's refresh, and the "
            "window over which token rates and TTFT are computed. Each pod has this long to answer (at most 10s).",
            metavar="DURATION",
        ),
    ] = "2s",
    once: Annotated[
        bool, typer.Option("--once", help="Print the table once (after two reads, --interval apart) and exit.")
    ] = False,
) -> Result | None:
    """Show the load on each workspace's model server: requests, KV cache, tokens/s, time to first token.

    Reads every model-server pod's vLLM /metrics through the API server's pod proxy (needs the
    pods/proxy permission; no Prometheus): running and waiting requests and KV-cache usage as the
    server reports them; prompt and generation tokens per second from the counters' growth between
    two reads; TTFT p50/p90 from the time_to_first_token histogram over the same window (as
    Prometheus' histogram_quantile computes it). Also the pod's GPUs and node. A workspace with
    several pods gets a (total) row. Pods that do not answer within the interval show NoAnswer
    without holding up the others.

    On a terminal the table is redrawn every --interval until Ctrl-C. With --once, -o json|yaml,
    or when stdout is not a terminal, it prints once, after two reads --interval apart (rates
    need two).

    \b
    Examples:
      kubectl kaito top
      kubectl kaito top my-llm --interval 5s
      kubectl kaito top -A -l team=search
      kubectl kaito top -o json | jq '.items[].generationTokensPerSecond'
    """
    target = flags.workspace_name(name, workspace_name, required=False, example="kubectl kaito top my-llm")
    label_selector = flags.label_selector(selector)
    seconds = flags.parse_interval(interval)
    if target and all_namespaces:
        raise UsageError(
            "a workspace cannot be shown by name across all namespaces", hint="drop -A and pick the namespace with -n"
        )
    if target and label_selector:
        raise UsageError("give a workspace name or -l/--selector, not both")
    from kubectl_kaito import top as core  # noqa: PLC0415  (10 ms: only a run of top pays for it)

    cluster = app.resources()
    namespace = None if all_namespaces else app.namespace
    scraper = core.Scraper(_fetcher(cluster, min(seconds, MAX_POD_TIMEOUT)), min(seconds, MAX_POD_TIMEOUT))
    fmt = output_format

    def sample() -> tuple[list[core.PodResult], list[tuple[str, str]]]:
        return _round(cluster, scraper, namespace, target, label_selector)

    try:
        if fmt is None and not once and app.console.stdout_is_terminal:
            _live(app, sample, seconds, all_namespaces)
            return None
        results, workspaces = sample()
        if results:  # rates need a second read; with no pod at all there is nothing to wait for
            time.sleep(seconds)
            results, workspaces = sample()
    finally:
        scraper.close()
    if fmt is not None:
        return Document(core.document(results, workspaces))
    if not workspaces:
        where = "any namespace" if all_namespaces else f"{namespace} namespace"
        app.console.info(f"No resources found in {where}.")  # kubectl 1.37.1's words, on stderr
        return None
    for r in results:
        if r.status != core.OK:
            app.console.warn(
                f"pod {r.target.namespace}/{r.target.pod} (workspace {r.target.workspace}): {r.status}: {r.error}"
            )
    headers, rows = core.table_rows(results, workspaces, all_namespaces)
    return Table(headers, rows)


def _round(
    cluster: Resources, scraper: core.Scraper, namespace: str | None, name: str | None, label_selector: str | None
) -> tuple[list[core.PodResult], list[tuple[str, str]]]:
    """List the workspaces and their pods, then scrape every pod once."""
    from kubectl_kaito import top as core  # noqa: PLC0415

    if name:
        items = [cluster.get_workspace(name, namespace)]
    else:
        items = cluster.list_workspaces(namespace, all_namespaces=namespace is None, label_selector=label_selector)
    keys = sorted({(str(w["metadata"].get("namespace", "")), str(w["metadata"]["name"])) for w in items})
    by_key = {(str(w["metadata"].get("namespace", "")), str(w["metadata"]["name"])): w for w in items}
    pods_by_ws: dict[tuple[str, str], list[dict[str, Any]]] = {k: [] for k in keys}
    for ns in sorted({k[0] for k in keys}):
        selector = f"{kaito.LABEL_WORKSPACE}={name}" if name else kaito.LABEL_WORKSPACE
        for p in cluster.list_pods(ns, label_selector=selector):
            ws = ((p.get("metadata") or {}).get("labels") or {}).get(kaito.LABEL_WORKSPACE, "")
            if (ns, ws) in pods_by_ws:
                pods_by_ws[(ns, ws)].append(p)
    pods = [t for k in keys for t in core.targets(by_key[k], pods_by_ws[k])]
    return scraper.round(pods), keys


def _fetcher(cluster: Resources, timeout: float) -> Callable[[core.PodTarget], str]:
    """GET a pod's /metrics through the pod proxy; every failure becomes a ScrapeError for that pod."""
    import httpx  # noqa: PLC0415  (only a run that reaches the cluster pays for httpx)

    from kubectl_kaito import top as core  # noqa: PLC0415

    http = cluster.http_client(timeout)

    def fetch(t: core.PodTarget) -> str:
        try:
            with http.stream("GET", cluster.pod_proxy_path(t.namespace, t.pod, t.port, "metrics")) as r:
                body = b""
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > MAX_METRICS_BYTES:  # vLLM's are ~100 KB; never hold a runaway answer
                        raise core.ScrapeError(core.NO_METRICS, f"/metrics is larger than {MAX_METRICS_BYTES} bytes")
        except httpx.TimeoutException:
            raise core.ScrapeError(core.NO_ANSWER, f"no answer within {timeout:g}s") from None
        except httpx.HTTPError as e:
            raise core.ScrapeError(core.UNREACHABLE, (str(e) or type(e).__name__).splitlines()[0]) from None
        if r.status_code != 200:
            message = ""
            try:
                obj = json.loads(body)
                message = str(obj.get("message", "")) if isinstance(obj, dict) else ""
            except ValueError:
                pass
            raise core.ScrapeError(core.UNREACHABLE, f"{r.status_code} {message or r.reason_phrase}".strip())
        return body.decode("utf-8", errors="replace")

    return fetch


def _live(
    app: AppContext,
    sample: Callable[[], tuple[list[core.PodResult], list[tuple[str, str]]]],
    seconds: float,
    all_namespaces: bool,
) -> None:
    """Redraw the table on the terminal (stdout) every `seconds` until Ctrl-C."""
    from rich.console import Console as RichConsole  # noqa: PLC0415  (only a live table pays for rich)
    from rich.live import Live  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    from kubectl_kaito import top as core  # noqa: PLC0415

    rich = RichConsole(file=app.console.stdout, highlight=False)
    with Live(Text(""), console=rich, auto_refresh=False, transient=False) as live:
        start = time.monotonic()
        tick = 0
        while True:
            results, workspaces = sample()
            stamp = time.strftime("%H:%M:%S")
            head = f"Every {seconds:g}s: kubectl kaito top    {stamp}\n\n"
            if workspaces:
                headers, rows = core.table_rows(results, workspaces, all_namespaces)
                body = output.table(headers, rows)
            else:
                body = "No resources found."
            live.update(Text(head + body, no_wrap=True, overflow="crop"), refresh=True)  # as watch(1): cut, not wrapped
            tick += 1
            time.sleep(max(0.0, start + tick * seconds - time.monotonic()))
