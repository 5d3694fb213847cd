"""`kubectl kaito get-endpoint`: the URL of a workspace's OpenAI-compatible API."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_kaito import endpoint_query, endpoints, flags
from kubectl_kaito.output import Result
from kubectl_kaito.settings import AppContext

FORMATS = ("url", "json", "yaml", *flags.TEMPLATE_FORMATS)


def get_endpoint(
    app: AppContext,
    names: flags.NamesArg = None,
    workspace_name: flags.WorkspaceNamesOpt = None,
    fmt: Annotated[
        str | None,
        flags.output_option(
            *FORMATS,
            help="Output format: url (one line, the default), json, yaml, jsonpath=TEMPLATE or custom-columns=SPEC.",
            decls=flags.GET_ENDPOINT_OUTPUT,
            metavar="FORMAT",
        ),
    ] = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="Every workspace's endpoint, in every namespace.")
    ] = False,
    external: Annotated[
        bool,
        typer.Option(
            "--external", help="Print the external endpoint: LoadBalancer address, else Ingress route, else NodePort."
        ),
    ] = False,
    path: Annotated[
        str,
        typer.Option("--path", help="API path to append ('' for the server root, e.g. /v1/completions)."),
    ] = endpoints.DEFAULT_PATH,
    cluster_domain: Annotated[
        str, typer.Option("--cluster-domain", help="The cluster's DNS domain for the in-cluster URL.")
    ] = endpoints.DEFAULT_CLUSTER_DOMAIN,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the workspace is ready (watches it; see --timeout).")
    ] = False,
    timeout: Annotated[
        str,
        flags.timeout_option(
            endpoint_query.WAIT_TIMEOUT,
            "as deploy --wait: a new GPU node and the model download often take 10 to 20 minutes",
        ),
    ] = endpoint_query.WAIT_TIMEOUT,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Also ask the model server for /v1/models through the API server's service proxy; exit 4 if it "
            "does not answer (json adds served_model).",
        ),
    ] = False,
    replica: Annotated[
        str | None,
        typer.Option(
            "--replica",
            help="For an InferenceSet without a gateway: the URL of its replica N (1-based, "
            "in the order `status NAME` lists them).",
            metavar="N",
            show_default=False,
        ),
    ] = None,
) -> Result | None:
    """Print the inference endpoint URL of a workspace (OpenAI-compatible API under /v1).

    By default the in-cluster URL http://WS.NS.svc.cluster.local/v1/chat/completions (the port is
    read from the Service and left out when it is 80). --external prints the address reachable
    from outside: a LoadBalancer's IP or hostname, else an Ingress route, else a NodePort.
    In url format stdout carries exactly one line, so it is safe in $(...); a workspace that is
    not ready is an error (exit 4). json prints the details even when not ready ("ready": false).

    \b
    Examples:
      # The in-cluster URL, for scripts
      ENDPOINT=$(kubectl kaito get-endpoint --workspace-name my-llm)

    \b
      # Everything about it, as JSON (base_url is what OpenAI SDKs want)
      kubectl kaito get-endpoint --workspace-name my-llm -n prod -o json

    \b
      # The external URL (LoadBalancer, Ingress or NodePort)
      kubectl kaito get-endpoint --workspace-name my-llm --external

    \b
      # Wait until it serves, and prove it answers /v1/models
      kubectl kaito get-endpoint --workspace-name my-llm --wait --timeout 15m --check

    \b
      # The OpenAI base URL instead of the chat path
      kubectl kaito get-endpoint --workspace-name my-llm --path /v1

    \b
      # Several workspaces, or every namespace's: a table NAME URL READY (-o json: a JSON array)
      kubectl kaito get-endpoint my-llm other-llm
      kubectl kaito get-endpoint -A \\
        -o jsonpath='{range [*]}{.workspace}{"\\t"}{.base_url}{"\\n"}{end}'

    \b
      # An InferenceSet: its gateway URL, or one replica's (-o json lists every replica)
      kubectl kaito get-endpoint phi
      kubectl kaito get-endpoint phi --replica 1

    \b
    Exit codes: 0 ok; 1 tuning workspace (no endpoint), or the workspace failed while waited on; 2 usage;
    3 workspace, Service or external route not found (several names: the others are printed first); 4 not
    ready, LoadBalancer pending, --check failed or --wait timed out; 5 cluster unreachable.
    """
    return endpoint_query.get_endpoint(
        app,
        names,
        workspace_name,
        fmt,
        all_namespaces=all_namespaces,
        external=external,
        path=path,
        cluster_domain=cluster_domain,
        wait=wait,
        timeout=timeout,
        check=check,
        replica=replica,
    )
