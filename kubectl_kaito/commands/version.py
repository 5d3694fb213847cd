"""`kubectl kaito version`: the plugin's version, the cluster's (as `kubectl version` shows it),
KAITO's controller version and the kaito.sh API versions the cluster serves."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kubectl_kaito import __version__, flags, kaito
from kubectl_kaito.output import Block, Document, Result
from kubectl_kaito.settings import AppContext

FORMATS = ("text", "json", "yaml")


def _kaito_facts(app: AppContext, cluster: Any, namespace: str) -> dict[str, Any]:
    """KAITO's controller version (its Deployment: Helm chart label, else the image tag) and the
    kaito.sh versions served (discovery: open to every user, unlike reading the CRD)."""
    from kubectl_kaito import provider  # noqa: PLC0415  (light, but only `version` needs it)
    from kubectl_kaito.errors import ForbiddenError, NotFoundError  # noqa: PLC0415

    facts: dict[str, Any] = {"namespace": namespace, "deployment": kaito.OPERATOR_DEPLOYMENT}
    try:
        facts["apiVersions"] = provider.discovery_versions(cluster.kaito_group())
    except NotFoundError:
        facts["apiVersions"] = []
    try:
        dep = cluster.get_deployment(kaito.OPERATOR_DEPLOYMENT, namespace)
        facts["version"] = provider.chart_version(dep)
    except NotFoundError:
        facts["version"] = None
    except ForbiddenError:
        facts["version"] = None
        app.console.warn(
            f"not allowed to read deployment {namespace}/{kaito.OPERATOR_DEPLOYMENT}: KAITO's version is unknown"
        )
    return facts


def version(
    app: AppContext,
    client: Annotated[
        bool, typer.Option("--client", help="Print only the plugin's version; do not contact the cluster.")
    ] = False,
    kaito_namespace: Annotated[
        str,
        typer.Option(
            "--kaito-namespace",
            help="Namespace of KAITO's controller (the release namespace of install-provider).",
            metavar="string",
            show_default=False,
        ),
    ] = kaito.OPERATOR_NAMESPACE,
    output: Annotated[
        str | None, flags.output_option(*FORMATS, help="Output format: text (default), json or yaml.")
    ] = None,
) -> Result:
    """Print the plugin's, the cluster's and KAITO's versions.

    \b
    The server version is the one `kubectl version` shows. KAITO's version is read from its
    controller Deployment (kaito-workspace in --kaito-namespace): the Helm chart label, else the
    image tag. API versions are the kaito.sh versions the cluster serves. A warning names any
    feature this plugin offers that the installed KAITO predates.

    \b
    Examples:
      kubectl kaito version
      kubectl kaito version --client -o json
    """
    doc: dict[str, Any] = {"pluginVersion": f"v{__version__}"}
    if not client:
        namespace = flags.check_namespace(kaito_namespace) or kaito.OPERATOR_NAMESPACE
        cluster = app.resources()
        doc["serverVersion"] = cluster.server_version()
        doc["kaito"] = _kaito_facts(app, cluster, namespace)
        for feature in kaito.FEATURES:
            have = kaito.version_tuple(doc["kaito"].get("version"))
            if have is not None and have < (kaito.version_tuple(feature.since) or ()):
                app.console.warn(
                    f"KAITO {doc['kaito']['version']} predates {feature.name} (KAITO v{feature.since} or newer)"
                )
    if app.settings.output in ("json", "yaml"):
        return Document(doc)
    rows: list[tuple[str, Any]] = [("Plugin Version", doc["pluginVersion"])]
    if not client:
        rows.append(("Server Version", doc["serverVersion"].get("gitVersion") or "unknown"))
        k = doc["kaito"]
        if k["version"]:
            rows.append(("KAITO Version", k["version"]))
        else:
            rows.append(("KAITO Version", "not installed" if not k["apiVersions"] else "unknown"))
        rows.append(("KAITO API Versions", ", ".join(k["apiVersions"]) or "none (kaito.sh is not served)"))
    return Block(rows)
