"""`kubectl kaito connect`: a local OpenAI-compatible endpoint relayed to a workspace's model."""

from __future__ import annotations

import json
import os
import shlex
from typing import Annotated

import typer

from kubectl_kaito import flags
from kubectl_kaito.settings import AppContext


def connect(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    port: Annotated[
        int, flags.port_option("Local port to listen on (0 = pick a free one; the URL printed says which).")
    ] = 8080,
    address: Annotated[
        str,
        typer.Option(
            "--address",
            help="Local IP address to listen on. Anything but loopback lets other machines use the model "
            "with your cluster credentials: the endpoint has no authentication.",
            metavar="IP",
        ),
    ] = "127.0.0.1",
    print_env: Annotated[
        bool,
        typer.Option(
            "--print-env",
            help="Print `export` lines for a shell's eval (OPENAI_BASE_URL, OPENAI_API_KEY if unset, "
            "KAITO_CONNECT_PID), then let go of stdout so $(...) returns while the relay keeps running.",
        ),
    ] = False,
    timeout: Annotated[
        str,
        flags.timeout_option(
            "5m",
            "a large model on a busy server can take minutes before its first token",
            what="How long a relayed request waits for the model to send something",
        ),
    ] = "5m",
    replica: Annotated[
        str | None,
        typer.Option(
            "--replica",
            help="For an InferenceSet: relay to its replica N (1-based, as `status NAME` "
            "lists them; default: the first ready one).",
            metavar="N",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve an OpenAI-compatible endpoint on this machine for a deployed model.

    Every request to http://127.0.0.1:8080/v1/... goes through the Kubernetes API server's
    service proxy to the workspace's Service (the path `chat` uses; needs the services/proxy
    permission), with your kubeconfig's credentials. Your client's own Authorization header
    is dropped, so any API key works. Answers stream through as they arrive. Listens on
    loopback only unless --address says otherwise. Runs until Ctrl-C (exit 130).

    Once listening it prints OPENAI_BASE_URL=http://127.0.0.1:8080/v1 on stdout and an
    example curl on stderr; -v reports each request (method, path, status, time).

    Examples:

      kubectl kaito connect my-llm

      kubectl kaito connect my-llm --port 0 -v

      eval "$(kubectl kaito connect my-llm --print-env &)"

      kill $KAITO_CONNECT_PID

      kubectl kaito connect my-set --replica 2

    Exit codes: 130 stopped with Ctrl-C; 0 stopped with kill (SIGTERM); 1 the port is in use or
    cannot be used; 2 bad flags; 3 workspace not found; 4 workspace not ready or its model not answering; 5 cannot reach
    the cluster.
    """
    from kubectl_kaito import relay  # noqa: PLC0415

    flags.check_port(port)
    host = flags.listen_address(address)
    wait = flags.parse_timeout(timeout)
    workspace = flags.workspace_name(name, workspace_name, required=True, example="kubectl kaito connect my-llm")
    assert workspace is not None
    console = app.console
    workspace = _replica_or_workspace(app, workspace, replica)
    with relay.open_upstream(app.resources(), workspace, app.namespace, wait) as upstream:
        server = relay.listen(
            upstream, host, port, log=console.info, warn=console.warn, verbose=app.settings.verbose > 0
        )
        # before anything is printed: whoever read the URL may stop us at once
        with relay.stop_on_sigterm():
            try:
                url = relay.base_url(server, host)
                if not relay.is_loopback(host):
                    console.warn(
                        f"listening on {relay.host_port(host, server.port)}: anyone who can reach it can use the "
                        "model with your cluster credentials (the endpoint has no authentication)"
                    )
                if print_env:
                    console.result(
                        f"export OPENAI_BASE_URL={shlex.quote(url)}\n"
                        'export OPENAI_API_KEY="${OPENAI_API_KEY:-unused}"\n'
                        f"export KAITO_CONNECT_PID={os.getpid()}"
                    )
                else:
                    console.result(f"OPENAI_BASE_URL={url}")
                model = upstream.models[0]
                example = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello"}]})
                console.info(
                    f"Relaying {url} to {upstream.where} (model {model}) through the Kubernetes API server. "
                    "Ctrl-C to stop.\n"
                    f"Try: curl {url}/chat/completions -H 'Content-Type: application/json' -d {shlex.quote(example)}"
                )
                if print_env:
                    console.discard_stdout()  # $(...) sees the end of stdout and returns; we keep serving
                server.serve_forever(poll_interval=0.2)
            except KeyboardInterrupt:
                console.info("stopped")
                raise typer.Exit(130) from None
            except relay.Terminated:
                console.info("stopped")  # `kill PID`: the way to stop a relay started in the background
            finally:
                server.server_close()


# ---- InferenceSets (issue 14) ---------------------------------------------------------------------


def _replica_or_workspace(app: AppContext, name: str, replica: str | None) -> str:
    """The Workspace to relay to: NAME itself, or for an InferenceSet one ready replica (`--replica N`)."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415
    from kubectl_kaito.errors import NotFoundError, UsageError  # noqa: PLC0415

    index = None if replica is None else flags.positive_int(replica, "--replica", 1000)
    cluster = app.resources()
    if index is None:
        try:
            cluster.get_workspace(name, app.namespace)
            return name
        except NotFoundError:
            if cluster.find_inferenceset(name, app.namespace) is None:
                raise
    elif cluster.find_inferenceset(name, app.namespace) is None:
        raise UsageError("--replica is for an InferenceSet", hint=f"{name} is not an InferenceSet in {app.namespace}")
    chosen = inferenceset.pick_replica(cluster, name, app.namespace, index)
    app.console.info(f"inferenceset {app.namespace}/{name}: relaying to replica {chosen}")
    return chosen
