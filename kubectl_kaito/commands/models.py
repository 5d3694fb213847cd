"""`kubectl kaito models list|describe`: the presets KAITO can deploy (works offline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags, kaito, output
from kubectl_kaito.errors import (
    ClusterUnavailableError,
    ForbiddenError,
    KaitoError,
    NotFoundError,
    UsageError,
)
from kubectl_kaito.flags import KaitoCommand, KaitoGroup
from kubectl_kaito.output import Document, Result, Table, Text
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.catalog import Catalog, Model

LIST_FORMATS = ("json", "yaml", "wide")
DESCRIBE_FORMATS = ("json", "yaml")
CLUSTER_TIMEOUT = 5.0  # seconds: the ConfigMap is a nicety, never worth a long hang

OfflineOpt = Annotated[
    bool,
    typer.Option("--offline", help="Use only the bundled catalog; do not read the cluster's kaito-supported-models."),
]


def make_app(wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> typer.Typer:
    """The `models` sub-command group (list, describe)."""
    sub = typer.Typer(
        help="List and describe the models KAITO can deploy (bundled catalog, merged with the cluster's).",
        no_args_is_help=True,
        rich_markup_mode=None,
        cls=KaitoGroup,
    )
    sub.command("list", help=list_models.__doc__, cls=KaitoCommand)(wrap(list_models))
    sub.command("describe", help=describe_model.__doc__, cls=KaitoCommand)(wrap(describe_model))
    return sub


def list_models(
    app: AppContext,
    type_: Annotated[
        str | None,
        typer.Option("--type", help="Only this type, e.g. text-generation, image-text-to-text.", show_default=False),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(
            "--runtime",
            help="Only models this runtime can serve: vllm or transformers.",
            metavar="vllm|transformers",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        flags.output_option(
            *LIST_FORMATS, help="json, yaml, or wide (adds HF ID, token limit, architecture, tag, notes)."
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list deprecated names and names KAITO v0.11+ no longer accepts.")
    ] = False,
    offline: OfflineOpt = False,
) -> Result | None:
    """List the models KAITO can deploy: short preset names first, then Hugging Face IDs.

    The list ships with the plugin (KAITO v0.12.0's catalogs) and is merged with the cluster's
    kaito-supported-models ConfigMap when the cluster can be read, so it matches the installed
    KAITO. Without a kubeconfig the bundled list is used as is. GPU-MEM is the size of the weights:
    the least total GPU memory (GPUs x memory x nodes) KAITO accepts for the model.

    \b
    Examples:
      kubectl kaito models list
      kubectl kaito models list --runtime transformers -o wide
      kubectl kaito models list --type text-generation -o json | jq -r '.[].name'
    """
    if runtime is not None and runtime.strip().lower() not in ("vllm", "transformers"):
        raise UsageError(f"invalid --runtime {runtime!r}", hint="use --runtime vllm or --runtime transformers")
    cat = load_catalog(app, offline=offline)
    if type_ is not None and type_.strip().lower() not in {t.lower() for t in cat.types()}:
        raise UsageError(f"unknown --type {type_!r}", hint="known types: " + ", ".join(cat.types()))
    models = cat.filter(type_=type_ and type_.strip(), runtime=runtime and runtime.strip(), include_all=show_all)
    if fmt in ("json", "yaml"):
        return Document([m.to_dict() for m in models])
    if not models:
        app.console.info("No models found.")
        return None
    headers = ["NAME", "TYPE", "RUNTIME", "HF-TOKEN", "GPU-MEM"]
    if fmt == "wide":
        headers += ["HF-ID", "TOKENS", "ARCH", "TAG", "NOTES"]
    rows = []
    for m in models:
        row: list[str | int] = [
            m.name,
            m.type or "-",
            ",".join(m.runtimes),
            "yes" if m.hf_token else "no",
            m.gpu_memory,
        ]
        if fmt == "wide":
            row += [m.hf_id or "-", m.token_limit or "-", ",".join(m.architectures) or "-", m.tag or "-", _notes(m)]
        rows.append(row)
    return Table(headers, rows)


def describe_model(
    app: AppContext,
    name: Annotated[str, typer.Argument(help="A short preset name or a Hugging Face ID.", show_default=False)],
    fmt: Annotated[
        str | None, flags.output_option(*DESCRIBE_FORMATS, help="json or yaml instead of the text view.")
    ] = None,
    offline: OfflineOpt = False,
) -> Result:
    """Show everything the catalog knows about one model, and how to deploy it.

    \b
    Examples:
      kubectl kaito models describe phi-4-mini-instruct
      kubectl kaito models describe Qwen/Qwen3.5-9B -o json

    \b
    Exit codes: 0 ok; 3 not in the catalog (similar names are suggested).
    """
    cat = load_catalog(app, offline=offline)
    try:
        model = cat.get(name)
    except NotFoundError as e:
        if "/" in name:  # an HF ID outside the catalog can still be deployed
            e.hint = (e.hint or "") + (
                "; an org/name Hugging Face ID outside the catalog can still be deployed (best effort)"
            )
        raise
    if fmt:
        return Document(model.to_dict())
    return Text(describe_text(model))


def describe_text(m: Model) -> str:
    """The text view of `models describe`."""
    from kubectl_kaito.catalog import TUNABLE  # noqa: PLC0415
    from kubectl_kaito.workspace import TUNING_METHODS, suggest_workspace_name  # noqa: PLC0415

    weights = (
        f"{m.gpu_memory} (weights {m.model_file_size}: the least total GPU memory KAITO accepts)"
        if (m.model_file_size)
        else "unknown"
    )
    accepted = "yes" if m.accepted else "no: KAITO v0.11+ refuses this name"
    if m.accepted and not m.short and m.sources == ("model_catalog",):
        accepted = "yes (catalog Hugging Face ID)"
    fields = [
        ("Name", m.name),
        ("Hugging Face ID", m.hf_id or "-"),
        ("Type", m.type or "-"),
        ("Runtimes", ", ".join(m.runtimes)),
        ("HF token needed", "yes (--model-access-secret, a Secret with key HF_TOKEN)" if m.hf_token else "no"),
        ("GPU memory", weights),
        ("Token limit", str(m.token_limit) if m.token_limit else "-"),
        ("Architectures", ", ".join(m.architectures) or "-"),
        ("Quantization", m.quant_method or "-"),
        ("Image tag", m.tag or "-"),
        ("Tuning", f"yes ({', '.join(TUNING_METHODS)})" if m.tunable else "no"),
        ("Deprecated", "yes" if m.deprecated else "no"),
        ("Accepted", accepted),
        ("License", m.license or "-"),
        ("URL", m.url or (f"https://huggingface.co/{m.hf_id}" if m.hf_id else "-")),
        ("Source", ", ".join(m.sources)),
    ]
    lines = [output.block(fields)]
    if m.accepted:
        ws = suggest_workspace_name(m.name)
        cmd = f"kubectl kaito deploy --workspace-name {ws} --model {m.name} --instance-type <GPU-SKU>"
        if m.hf_token:
            cmd += " --model-access-secret <secret>"
        lines += ["", "Deploy it:", f"  {cmd} --wait"]
        if m.tunable and m.short and m.name in TUNABLE:
            lines += [
                "Fine-tune it:",
                f"  kubectl kaito deploy --workspace-name {ws}-tuned --model {m.name} --tuning "
                "--input-urls <URL> --output-pvc <PVC> --instance-type <GPU-SKU>",
            ]
    return "\n".join(lines)


def _notes(m: Model) -> str:
    notes = []
    if m.tunable:
        notes.append("tunable")
    if m.deprecated:
        notes.append("deprecated")
    if not m.accepted:
        notes.append("refused-by-v0.11+")
    if "cluster" in m.sources:
        notes.append("cluster")
    return ",".join(notes) or "-"


# ---- the catalog, with the cluster's view when there is one ----------------------------------------


def load_catalog(app: AppContext, *, offline: bool = False) -> Catalog:
    """The bundled catalog, merged with the cluster's kaito-supported-models ConfigMap when readable.

    No kubeconfig at all: the bundled list, silently. A cluster that cannot be read: a warning
    on stderr and the bundled list. A cluster without the ConfigMap: the bundled list.
    """
    from kubectl_kaito import catalog  # noqa: PLC0415

    cat = catalog.load_bundled()
    if offline:
        return cat
    try:
        app.config()
    except ClusterUnavailableError:  # no kubeconfig and not in a cluster: offline use is the point
        return cat
    text = _cluster_supported_models(app)
    if text is None:
        return cat
    import yaml  # noqa: PLC0415

    try:
        return catalog.merge_cluster(cat, text)
    except (ValueError, yaml.YAMLError) as e:
        app.console.warn(
            f"ignoring the cluster's {kaito.SUPPORTED_MODELS_CONFIGMAP} ConfigMap "
            f"({str(e).splitlines()[0]}); showing the bundled catalog"
        )
        return cat


def _cluster_supported_models(app: AppContext) -> str | None:
    """The ConfigMap's SupportedModels text, None when absent; unreachable clusters are a warning."""
    from kubectl_kaito import catalog  # noqa: PLC0415

    # a short timeout unless the user chose one: listing models must not hang on a dead cluster
    cluster = app.resources(default_timeout=CLUSTER_TIMEOUT)
    try:
        cm = cluster.get_configmap(kaito.SUPPORTED_MODELS_CONFIGMAP, kaito.OPERATOR_NAMESPACE)
    except NotFoundError:
        return None  # KAITO not installed here (or installed elsewhere): the bundled list is the answer
    except ForbiddenError:
        app.console.warn(
            f"not allowed to read configmap {kaito.OPERATOR_NAMESPACE}/"
            f"{kaito.SUPPORTED_MODELS_CONFIGMAP}; showing the bundled catalog (KAITO v0.12.0)"
        )
        return None
    except KaitoError as e:
        app.console.warn(
            f"could not read the cluster's model list ({e.message.splitlines()[0]}); "
            "showing the bundled catalog (KAITO v0.12.0)"
        )
        return None
    text = catalog.configmap_text(cm)
    if text is None:
        app.console.warn(
            f"configmap {kaito.SUPPORTED_MODELS_CONFIGMAP} has no {catalog.CONFIGMAP_KEY} key; "
            "showing the bundled catalog"
        )
    return text
