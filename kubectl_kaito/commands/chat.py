"""`kubectl kaito chat`: talk to a deployed model, interactively or once from a script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kubectl_kaito import flags
from kubectl_kaito.errors import UsageError
from kubectl_kaito.output import Document, Result, Text
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.console import Console
    from kubectl_kaito.inference import ChatClient, Params

FORMATS = ("json", "yaml")


def chat(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            help="Talk straight to this OpenAI-compatible URL instead (e.g. http://localhost:8080 after a "
            "port-forward, or .../v1, or .../v1/chat/completions). No kubeconfig needed.",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(
            "--message",
            "-m",
            help="Ask this once and print only the answer (text piped on stdin does the same).",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    system_prompt: Annotated[
        str | None,
        typer.Option(
            "--system-prompt", help="A system prompt sent before the conversation.", metavar="TEXT", show_default=False
        ),
    ] = None,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Sampling temperature, 0 to 2.", metavar="FLOAT")
    ] = 0.7,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", help="Longest answer, in tokens (> 0).", metavar="INT")
    ] = 1024,
    top_p: Annotated[
        float, typer.Option("--top-p", help="Nucleus sampling, greater than 0 and at most 1.", metavar="FLOAT")
    ] = 0.9,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Wait for the whole answer instead of printing tokens as they arrive.")
    ] = False,
    timeout: Annotated[
        str,
        flags.timeout_option(
            "5m",
            "a large model on a busy server can take minutes before its first token; connecting is limited to 10s",
            what="How long to wait for the model to send something",
        ),
    ] = "5m",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="The model id to send (default: the first one the server lists at /v1/models).",
            metavar="ID",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str | None,
        flags.output_option(
            *FORMATS, help="json|yaml: print the whole chat.completion object instead of the text (one-shot only)."
        ),
    ] = None,
    replica: Annotated[
        str | None,
        typer.Option(
            "--replica",
            help="For an InferenceSet: talk to its replica N (1-based, as `status NAME` lists "
            "them; default: the first ready one).",
            metavar="N",
            show_default=False,
        ),
    ] = None,
    gateway: Annotated[
        bool,
        typer.Option(
            "--gateway",
            help="For an InferenceSet: go through its Gateway's address (the Gateway API "
            "Inference Extension) instead of one replica's Service.",
        ),
    ] = False,
) -> Result | None:
    """Talk to a deployed model: an interactive session, or one question from a script.

    Goes through the Kubernetes API server's service proxy, so it works wherever kubectl
    works (no port-forward; needs the services/proxy permission), or straight to --endpoint.
    The served model name is read from /v1/models, the history is kept, and tokens stream
    as they arrive.

    With -m/--message, or text piped on stdin, it asks once and prints only the answer on
    stdout. In a session: /help, /quit (or Ctrl-D), /clear, /model, /params,
    /set temperature 0.3. Ctrl-C stops the answer being written; at the prompt it ends the
    session (exit 130).

    Examples:

      kubectl kaito chat --workspace-name my-llm

      ANSWER=$(kubectl kaito chat my-llm -m "What is Kubernetes?")

      echo "Summarise: $(cat notes.txt)" | kubectl kaito chat my-llm

      kubectl kaito chat my-llm -m "hi" --system-prompt "Be brief." --temperature 0.2 -o json

      kubectl kaito chat --endpoint http://localhost:8080 -m "hi"

      kubectl kaito chat my-set --gateway -m "hi"

    Exit codes: 0 ok; 1 the model server refused or failed (its message is shown);
    2 bad flags or empty input; 3 workspace not found; 4 workspace not ready, endpoint not
    answering, or no answer within --timeout; 5 cannot reach the cluster; 130 interrupted.
    """
    from kubectl_kaito import inference  # noqa: PLC0415

    params = inference.validate_params(
        inference.Params(
            temperature=temperature, max_tokens=max_tokens, top_p=top_p, system_prompt=system_prompt or None
        )
    )
    wait = flags.parse_timeout(timeout)
    workspace_name = flags.workspace_name(name, workspace_name, required=False, example="")
    if endpoint and (replica is not None or gateway):
        raise UsageError("--replica and --gateway pick an InferenceSet's way in; --endpoint is a URL already")
    if replica is not None and gateway:
        raise UsageError("give --replica or --gateway, not both")
    if bool(workspace_name) == bool(endpoint):
        raise UsageError(
            "give --workspace-name or --endpoint, not both" if endpoint else "no workspace given",
            hint="kubectl kaito chat --workspace-name my-llm (or --endpoint URL)",
        )
    question = _one_shot_message(app.console, message, output_format)

    if endpoint:
        client = inference.open_endpoint(endpoint, wait)
        label = client.target.where
    else:
        assert workspace_name is not None
        client, label = _open_target(app, workspace_name, wait, replica, gateway)
    with client:
        return _run(app.console, client, label, model, params, not no_stream, question, output_format)


def _run(
    console: Console,
    client: ChatClient,
    label: str,
    model: str | None,
    params: Params,
    stream: bool,
    question: str | None,
    output_format: str | None,
) -> Result | None:
    from kubectl_kaito.chat import Session, terminal_reader  # noqa: PLC0415

    served = model or client.models()[0]
    # -o prints the server's own chat.completion object, so it asks without streaming.
    session = Session(
        client, served, console, params, stream=stream and output_format is None, where=client.target.where
    )
    if question is not None:
        # Tokens appear live on a terminal; a pipe or $(...) gets the whole answer at the end,
        # so stdout stays empty when the answer fails half way.
        live = session.stream and console.stdout_is_terminal
        answer = session.ask(question, live=live)
        if output_format:
            return Document(answer.response)
        return None if live else Text(answer.text)
    banner = f"Connected to {label} (model {served}). Type /help for commands, /quit to exit."
    code = session.run(terminal_reader(console.stdin, console.stdout, console.stderr), banner)
    if code:
        raise typer.Exit(code)
    return None


def _one_shot_message(console: Console, message: str | None, output_format: str | None) -> str | None:
    """The one question to ask (from -m or piped stdin), or None for an interactive session."""
    if message is not None:
        if not message.strip():
            raise UsageError("--message is empty")
        return message
    if not console.stdin_is_terminal:
        text = console.stdin.read() if console.stdin is not None else ""
        if not text.strip():
            raise UsageError(
                "no message: stdin was empty",
                hint='pass -m "your question", pipe text in, or run in a terminal for a session',
            )
        return text.strip("\n")
    if output_format:
        raise UsageError(
            f"-o {output_format} needs a single question", hint='add -m "your question" or pipe it on stdin'
        )
    return None


# ---- InferenceSets (issue 14) ---------------------------------------------------------------------


def _open_target(
    app: AppContext, name: str, wait: float | None, replica: str | None, gateway: bool
) -> tuple[ChatClient, str]:
    """The chat client and its label: the Workspace NAME; else the InferenceSet NAME through one ready replica
    (`--replica N`, default the first ready) or through its gateway (`--gateway`)."""
    from kubectl_kaito import inference, inferenceset, kaito  # noqa: PLC0415
    from kubectl_kaito.errors import NotFoundError, NotReadyError  # noqa: PLC0415

    index = None if replica is None else flags.positive_int(replica, "--replica", 1000)
    cluster = app.resources()
    ns = app.namespace
    if index is None and not gateway:
        try:
            return inference.open_workspace(cluster, name, ns, wait), f"workspace {name}"
        except NotFoundError:
            if cluster.find_inferenceset(name, ns) is None:
                raise
    found = inferenceset.set_endpoints(cluster, name, ns)  # NotFoundError names the set
    if gateway:
        if found.gateway is None:
            raise NotReadyError(
                f"inferenceset {ns}/{name} has no gateway route",
                hint=f"talk to one replica instead (drop --gateway), or route it: an HTTPRoute to the InferencePool "
                f"{kaito.inference_pool_name(name)} (KAITO's gatewayAPIInferenceExtension gate)",
                details={"inferenceset": name, "namespace": ns},
            )
        return (
            inference.open_endpoint(found.gateway.url, wait),
            f"inferenceset {name} via gateway {found.gateway.gateway}",
        )
    if index is not None:
        inferenceset.endpoint_url(found, "", index)  # a missing or unready replica N: its own error
        row = found.replicas[index - 1]
    else:
        ready_rows = [r for r in found.replicas if r["ready"]]
        if not ready_rows:
            ready, desired = kaito.inferenceset_counts(found.iset)
            raise NotReadyError(
                f"inferenceset {ns}/{name} has no ready replica ({ready}/{desired})",
                hint=f"see it with: kubectl kaito status {name} -n {ns}",
                details={"inferenceset": name, "namespace": ns},
            )
        row = ready_rows[0]
    return (
        inference.open_workspace(cluster, str(row["name"]), ns, wait),
        f"inferenceset {name} (replica {row['name']})",
    )
