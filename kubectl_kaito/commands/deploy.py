"""`kubectl kaito deploy`: create a KAITO Workspace from flags, optionally wait and print its endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import completers, flags, kaito, output
from kubectl_kaito import workspace as wsp
from kubectl_kaito.errors import (
    ConflictError,
    InvalidError,
    KaitoError,
    NotFoundError,
    UsageError,
)
from kubectl_kaito.output import Document, Result, Text
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.console import Console
    from kubectl_kaito.resources import Resources

FORMATS = ("json", "yaml")
DEFAULT_TIMEOUT = "30m"
INFERENCE = "Inference (with --tuning: refused)"
TUNING = "Tuning (need --tuning)"
CUSTOM = "Your own container (instead of --model)"
KAITO_ANNOTATIONS = "KAITO annotations (read by KAITO v0.12)"
REPLICAS = "Replicas (an InferenceSet)"


def deploy(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            autocompletion=completers.models,
            help="Preset: a short name (phi-4-mini-instruct) or a Hugging Face ID (org/name). "
            "See `kubectl kaito models list`. Required unless --template or --image.",
            show_default=False,
        ),
    ] = None,
    instance_type: Annotated[
        str | None,
        typer.Option(
            "--instance-type",
            help="GPU node type, e.g. Standard_NC24ads_A100_v4 (omit with your own GPU nodes).",
            show_default=False,
        ),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option("--count", help="Number of GPU nodes (resource.count; KAITO's default is 1).", show_default=False),
    ] = None,
    label_selector: Annotated[
        list[str] | None,
        typer.Option(
            "--label-selector",
            "--node-selector",
            help="Node label KEY=VALUE (repeatable or comma-separated; default apps=NAME).",
            metavar="KEY=VALUE",
            show_default=False,
        ),
    ] = None,
    preferred_nodes: Annotated[
        list[str] | None,
        typer.Option(
            "--preferred-nodes",
            help="Existing node names to use first (comma-separated).",
            metavar="NODE[,NODE]",
            show_default=False,
        ),
    ] = None,
    model_access_secret: Annotated[
        str | None,
        typer.Option(
            "--model-access-secret", help="Secret with key HF_TOKEN, for gated Hugging Face models.", show_default=False
        ),
    ] = None,
    image_pull_secret: Annotated[
        list[str] | None,
        typer.Option(
            "--image-pull-secret",
            help="Secret for pulling the model image (repeatable; presetOptions.imagePullSecrets).",
            show_default=False,
        ),
    ] = None,
    bypass_resource_checks: Annotated[
        bool,
        typer.Option(
            "--bypass-resource-checks",
            help="Skip KAITO's GPU memory check (annotation kaito.sh/bypass-resource-checks).",
        ),
    ] = False,
    adapter: Annotated[
        list[str] | None,
        typer.Option(
            "--adapter",
            "--adapters",
            help="LoRA adapter NAME=IMAGE, NAME=pvc:CLAIM or NAME=volume:FILE, "
            "with ,strength=0.8 (needs --runtime transformers) and ,pull-secret=S (repeatable, at most 10).",
            metavar="NAME=SOURCE[,strength=S]",
            show_default=False,
            rich_help_panel=INFERENCE,
        ),
    ] = None,
    inference_config: Annotated[
        str | None,
        typer.Option(
            "--inference-config",
            help="A ConfigMap name, or a file that becomes ConfigMap NAME-inference-config owned by the workspace.",
            metavar="CONFIGMAP|FILE",
            show_default=False,
            rich_help_panel=INFERENCE,
        ),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(
            "--runtime",
            help="vllm (KAITO's default) or transformers (annotation kaito.sh/runtime).",
            metavar="vllm|transformers",
            show_default=False,
            rich_help_panel=INFERENCE,
        ),
    ] = None,
    enable_load_balancer: Annotated[
        bool,
        typer.Option(
            "--enable-load-balancer",
            help='Expose the model with a LoadBalancer Service (annotation kaito.sh/enablelb: "True").',
            rich_help_panel=INFERENCE,
        ),
    ] = False,
    tuning: Annotated[
        bool, typer.Option("--tuning", help="Fine-tune the model instead of serving it.", rich_help_panel=TUNING)
    ] = False,
    tuning_method: Annotated[
        str | None,
        typer.Option(
            "--tuning-method",
            help="qlora (default) or lora.",
            metavar="qlora|lora",
            show_default=False,
            rich_help_panel=TUNING,
        ),
    ] = None,
    input_urls: Annotated[
        list[str] | None,
        typer.Option(
            "--input-urls",
            help="Dataset URLs (comma-separated or repeatable).",
            metavar="URL[,URL]",
            show_default=False,
            rich_help_panel=TUNING,
        ),
    ] = None,
    input_pvc: Annotated[
        str | None,
        typer.Option(
            "--input-pvc", help="PersistentVolumeClaim holding the dataset.", show_default=False, rich_help_panel=TUNING
        ),
    ] = None,
    input_image: Annotated[
        str | None,
        typer.Option("--input-image", help="Image holding the dataset.", show_default=False, rich_help_panel=TUNING),
    ] = None,
    output_image: Annotated[
        str | None,
        typer.Option(
            "--output-image",
            help="Image to push the adapter to (needs --output-image-push-secret).",
            show_default=False,
            rich_help_panel=TUNING,
        ),
    ] = None,
    output_image_push_secret: Annotated[
        str | None,
        typer.Option(
            "--output-image-push-secret",
            "--output-image-secret",
            help="Secret for pushing --output-image.",
            show_default=False,
            rich_help_panel=TUNING,
        ),
    ] = None,
    output_pvc: Annotated[
        str | None,
        typer.Option(
            "--output-pvc",
            help="PersistentVolumeClaim to write the adapter to.",
            show_default=False,
            rich_help_panel=TUNING,
        ),
    ] = None,
    tuning_config: Annotated[
        str | None,
        typer.Option(
            "--tuning-config", help="ConfigMap with tuning parameters.", show_default=False, rich_help_panel=TUNING
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            help="Workspace label KEY=VALUE (metadata.labels; repeatable or comma-separated).",
            metavar="KEY=VALUE",
            show_default=False,
        ),
    ] = None,
    annotation: Annotated[
        list[str] | None,
        typer.Option(
            "--annotation",
            help="Workspace annotation KEY=VALUE (metadata.annotations; repeatable).",
            metavar="KEY=VALUE",
            show_default=False,
        ),
    ] = None,
    partition: Annotated[
        str | None,
        typer.Option(
            "--partition",
            help="GPU partition on your own nodes (resource.partition): "
            "mode=mig,profile=1g.10gb or mode=accelerator,count=N.",
            metavar="mode=M[,profile=P][,count=N]",
            show_default=False,
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help="A pod template YAML file for inference.template (your own container).",
            metavar="FILE",
            show_default=False,
            rich_help_panel=CUSTOM,
        ),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="Your own container image: a one-container inference.template.",
            show_default=False,
            rich_help_panel=CUSTOM,
        ),
    ] = None,
    port: Annotated[
        str | None,
        typer.Option(
            "--port",
            help="With --image: the container port (KAITO's Service sends traffic to 5000).",
            metavar="N",
            show_default=False,
            rich_help_panel=CUSTOM,
        ),
    ] = None,
    command: Annotated[
        str | None,
        typer.Option(
            "--command",
            help="With --image: the container command, as shell words.",
            metavar="CMD",
            show_default=False,
            rich_help_panel=CUSTOM,
        ),
    ] = None,
    args: Annotated[
        str | None,
        typer.Option(
            "--args",
            help="With --image: the container args, as shell words.",
            metavar="ARGS",
            show_default=False,
            rich_help_panel=CUSTOM,
        ),
    ] = None,
    performance_mode: Annotated[
        str | None,
        typer.Option(
            "--performance-mode",
            help="vLLM tuning: balanced, interactivity or throughput (kaito.sh/performance-mode; KAITO v0.10+).",
            metavar="MODE",
            show_default=False,
            rich_help_panel=KAITO_ANNOTATIONS,
        ),
    ] = None,
    disable_benchmark: Annotated[
        bool,
        typer.Option(
            "--disable-benchmark",
            help='Skip KAITO\'s post-load benchmark (kaito.sh/disable-benchmark: "true"; KAITO v0.11+).',
            rich_help_panel=KAITO_ANNOTATIONS,
        ),
    ] = False,
    use_local_weights: Annotated[
        bool,
        typer.Option(
            "--use-local-weights",
            help="Load the weights already on the node under /opt/kaito/models "
            '(kaito.sh/use-local-weights: "true"; KAITO v0.12+).',
            rich_help_panel=KAITO_ANNOTATIONS,
        ),
    ] = False,
    disable_model_streaming: Annotated[
        bool,
        typer.Option(
            "--disable-model-streaming",
            help="Opt out of model streaming (kaito.sh/model-streaming: disabled; KAITO v0.11+).",
            rich_help_panel=KAITO_ANNOTATIONS,
        ),
    ] = False,
    model_mirror_storage_class: Annotated[
        str | None,
        typer.Option(
            "--model-mirror-storage-class",
            help="StorageClass for the model mirror (kaito.sh/model-mirror-storage-class; KAITO v0.11+).",
            metavar="NAME",
            show_default=False,
            rich_help_panel=KAITO_ANNOTATIONS,
        ),
    ] = None,
    streaming_service_account: Annotated[
        str | None,
        typer.Option(
            "--streaming-service-account",
            help="ServiceAccount of the streaming pod (kaito.sh/streaming-service-account; KAITO v0.11+).",
            metavar="NAME",
            show_default=False,
            rich_help_panel=KAITO_ANNOTATIONS,
        ),
    ] = None,
    node_class_name: Annotated[
        str | None,
        typer.Option(
            "--node-class-name",
            help="Karpenter NodeClass for new nodes (kaito.sh/node-class-name; KAITO v0.11+).",
            metavar="NAME",
            show_default=False,
            rich_help_panel=KAITO_ANNOTATIONS,
        ),
    ] = None,
    node_image_family: Annotated[
        str | None,
        typer.Option(
            "--node-image-family",
            help="ubuntu or azurelinux for gpu-provisioner nodes (kaito.sh/node-image-family; KAITO v0.9+).",
            metavar="FAMILY",
            show_default=False,
            rich_help_panel=KAITO_ANNOTATIONS,
        ),
    ] = None,
    input_pull_secret: Annotated[
        list[str] | None,
        typer.Option(
            "--input-pull-secret",
            help="Secret for pulling --input-image (tuning.input.imagePullSecrets; repeatable).",
            metavar="SECRET",
            show_default=False,
            rich_help_panel=TUNING,
        ),
    ] = None,
    input_volume: Annotated[
        str | None,
        typer.Option(
            "--input-volume",
            help="A YAML file with the volume holding the dataset (a VolumeSource, e.g. azureFile).",
            metavar="FILE",
            show_default=False,
            rich_help_panel=TUNING,
        ),
    ] = None,
    output_volume: Annotated[
        str | None,
        typer.Option(
            "--output-volume",
            help="A YAML file with the volume to write the adapter to (a VolumeSource).",
            metavar="FILE",
            show_default=False,
            rich_help_panel=TUNING,
        ),
    ] = None,
    replicas: Annotated[
        str | None,
        typer.Option(
            "--replicas",
            help="Serve the model on N replicas: create a KAITO InferenceSet (N Workspaces; "
            "KAITO v0.11+, or v0.8+ with its feature gate) instead of one Workspace.",
            metavar="N",
            show_default=False,
            rich_help_panel=REPLICAS,
        ),
    ] = None,
    node_count_limit: Annotated[
        str | None,
        typer.Option(
            "--node-count-limit",
            help="With --replicas: at most N GPU nodes for the whole set (spec.nodeCountLimit).",
            metavar="N",
            show_default=False,
            rich_help_panel=REPLICAS,
        ),
    ] = None,
    update_strategy: Annotated[
        str | None,
        typer.Option(
            "--update-strategy",
            help="With --replicas: RollingUpdate (KAITO's default) or OnDelete (spec.updateStrategy.type).",
            metavar="RollingUpdate|OnDelete",
            show_default=False,
            rich_help_panel=REPLICAS,
        ),
    ] = None,
    max_unavailable: Annotated[
        str | None,
        typer.Option(
            "--max-unavailable",
            help="With --replicas: replicas replaced at once in a rolling update, N or P% (KAITO's default 1).",
            metavar="N|P%",
            show_default=False,
            rich_help_panel=REPLICAS,
        ),
    ] = None,
    dry_run: Annotated[
        str | None,
        typer.Option(
            "--dry-run",
            help="client (same as a bare --dry-run): print the manifest, send nothing. "
            "server: let the API server and KAITO's webhook validate it, create nothing.",
            metavar="[=client|server]",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        flags.output_option(
            *FORMATS,
            help="Print the created (or, with --wait, the ready) object as json or yaml instead of the "
            "one-line result.",
        ),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Watch the workspace until it is ready, then print its endpoint URL (tuning: until it succeeded).",
        ),
    ] = False,
    timeout: Annotated[
        str, flags.timeout_option(DEFAULT_TIMEOUT, "a new GPU node and the model download often take 10 to 20 minutes")
    ] = DEFAULT_TIMEOUT,
) -> Result | None:
    """Deploy a model: create a KAITO Workspace from flags, no YAML needed.

    Every flag is checked before the cluster is contacted (exit 2). A field you do not set is
    left out of the Workspace. Without --wait, stdout gets one line, `workspace.kaito.sh/NAME
    created`; with --wait, the endpoint URL once the model serves (as get-endpoint prints it),
    while the phase and conditions show on stderr.

    \b
    Examples:
      # Deploy, wait until it serves, and keep the endpoint
      ENDPOINT=$(kubectl kaito deploy --workspace-name my-llm --model phi-4-mini-instruct \\
          --instance-type Standard_NC24ads_A100_v4 --wait)

    \b
      # A Hugging Face model on your own GPU nodes (no instance type)
      kubectl kaito deploy --workspace-name qwen --model Qwen/Qwen3.5-9B --label-selector apps=qwen

    \b
      # A gated model with an HF token Secret, served by the transformers runtime
      kubectl kaito deploy --workspace-name llama --model llama-3.1-8b-instruct \\
          --model-access-secret hf-token --runtime transformers --instance-type Standard_NC24ads_A100_v4

    \b
      # See the manifest, or let KAITO's webhook validate it without creating anything
      kubectl kaito deploy --workspace-name my-llm --model phi-4 --dry-run | kubectl apply -f -
      kubectl kaito deploy --workspace-name my-llm --model phi-4 --dry-run=server

    \b
      # Your own container (inference.template), and a MIG slice on your own GPU nodes
      kubectl kaito deploy aikit --image ghcr.io/kaito-project/aikit/llama3.2:3b --args "run --address=:5000"
      kubectl kaito deploy phi-mig --model microsoft/Phi-4-mini-instruct --partition mode=mig,profile=2g.24gb \\
          --label-selector kaito-workspace=phi-4-mini

    \b
      # Three replicas of one model (a KAITO InferenceSet), ready when all three serve
      kubectl kaito deploy phi --model phi-4-mini-instruct --instance-type Standard_NC24ads_A100_v4 \\
          --replicas 3 --wait

    \b
      # Fine-tune with QLoRA and push the adapter image
      kubectl kaito deploy --workspace-name tune-phi --model phi-4-mini-instruct --tuning \\
          --input-urls https://example.com/data.parquet --output-image myacr.azurecr.io/adapter:1 \\
          --output-image-push-secret acr-push --instance-type Standard_NC24ads_A100_v4

    \b
    Exit codes: 0 created (or ready); 1 refused by the server (webhook), already exists (CONFLICT)
    or the workspace failed while waiting; 2 invalid flags (nothing sent); 4 --wait timed out;
    5 cluster unreachable; 130 interrupted (the workspace is left in place).
    """
    # fmt: checked and lower-cased by the command wrapper (flags.Formats)
    workspace_name = flags.workspace_name(
        name, workspace_name, required=True, example="kubectl kaito deploy my-llm --model phi-4-mini-instruct"
    )
    mode = flags.dry_run_mode(dry_run)
    if mode and wait:
        raise UsageError("--wait cannot be used with --dry-run", hint="drop --dry-run to create and wait")
    wait_seconds = (flags.parse_timeout(timeout) or flags.NO_LIMIT) if wait else None

    opts, config_file = _options(
        app.console,
        workspace_name=workspace_name,
        model=model,
        instance_type=instance_type,
        count=count,
        label_selector=label_selector,
        preferred_nodes=preferred_nodes,
        model_access_secret=model_access_secret,
        image_pull_secret=image_pull_secret,
        bypass_resource_checks=bypass_resource_checks,
        adapter=adapter,
        inference_config=inference_config,
        runtime=runtime,
        enable_load_balancer=enable_load_balancer,
        tuning=tuning,
        tuning_method=tuning_method,
        input_urls=input_urls,
        input_pvc=input_pvc,
        input_image=input_image,
        output_image=output_image,
        output_image_push_secret=output_image_push_secret,
        output_pvc=output_pvc,
        tuning_config=tuning_config,
        label=label,
        annotation=annotation,
        partition=partition,
        template=template,
        image=image,
        port=port,
        command=command,
        args=args,
        performance_mode=performance_mode,
        disable_benchmark=disable_benchmark,
        use_local_weights=use_local_weights,
        disable_model_streaming=disable_model_streaming,
        model_mirror_storage_class=model_mirror_storage_class,
        streaming_service_account=streaming_service_account,
        node_class_name=node_class_name,
        node_image_family=node_image_family,
        input_pull_secret=input_pull_secret,
        input_volume=input_volume,
        output_volume=output_volume,
    )
    set_opts = _set_options(replicas, node_count_limit, update_strategy, max_unavailable)
    if set_opts is not None:
        return _deploy_set(app, opts, config_file, set_opts, mode, fmt, wait_seconds)

    if mode == "client":
        opts.namespace = app.namespace_offline()  # no cluster contact: the kubeconfig is only read
        return _objects_result(_objects(opts, config_file), fmt)

    cluster = app.resources()
    opts.namespace = app.namespace
    version = cluster.workspace_version()
    if version == "v1alpha1" and opts.model_access_secret:
        raise InvalidError(
            "this cluster's KAITO serves only kaito.sh/v1alpha1, which has no presetOptions.modelAccessSecret",
            hint="upgrade KAITO (v0.5+ serves v1beta1), or drop --model-access-secret",
        )
    if version == "v1alpha1" and opts.partition:
        raise InvalidError(
            "this cluster's KAITO serves only kaito.sh/v1alpha1, which has no resource.partition",
            hint="upgrade KAITO (v0.12 has partition), or drop --partition",
        )
    api_version = f"{kaito.GROUP}/{version}"
    if mode == "server" or wait:  # these talk to the cluster at length anyway: one GET more to learn KAITO's version
        _warn_newer_kaito(app.console, cluster, opts)
    if mode == "server":
        try:
            created = [_create(cluster, obj, dry_run=True) for obj in _objects(opts, config_file, api_version)]
        except InvalidError as e:
            if config_file is not None and opts.inference_config and opts.inference_config in e.message:
                # a dry-run ConfigMap is not stored, so the webhook cannot read it
                e.hint = (
                    f"in a server dry run the webhook cannot see ConfigMap {opts.inference_config} (it is "
                    "not stored); create it first and pass its name to --inference-config"
                )
            raise
        return _objects_result(created, fmt)

    ws = _create_all(app.console, cluster, opts, config_file, api_version)
    name, ns = opts.name, opts.namespace
    console = app.console
    if not wait:
        # drawn here, not returned: the result comes before the hint on a terminal
        output.render(console, Document(ws) if fmt else Text(f"workspace.kaito.sh/{name} created"), fmt)
        console.info(
            f"next: kubectl kaito status --workspace-name {name} -n {ns} -w"
            + ("" if opts.tuning else f"   then: kubectl kaito get-endpoint --workspace-name {name} -n {ns}")
        )
        return None

    console.info(f"workspace.kaito.sh/{name} created")
    assert wait_seconds is not None
    ready = _wait(console, cluster, name, ns, wait_seconds)
    if fmt:
        return Document(ready)
    if kaito.is_tuning(ready):
        dest = wsp.output_destination(ready)
        console.info(f"workspace.kaito.sh/{name} succeeded" + (f": the adapter is in {dest}" if dest else ""))
        return Text(f"workspace.kaito.sh/{name} succeeded")
    return Text(endpoint_url(cluster, name, ns))


# ---- flags -> options ----------------------------------------------------------------------------


def _opt(value: str | None, check: Callable[..., str], flag: str, *args: str) -> str | None:
    """Run a check on an optional flag value (None stays None; '' is refused)."""
    if value is None:
        return None
    return check(value, flag, *args)


def _options(console: Console, **f: Any) -> tuple[wsp.DeployOptions, str | None]:
    """Validate every flag (exit 2, nothing sent) and build the options; returns the config file, if any."""
    from kubectl_kaito import catalog  # noqa: PLC0415  (reads the bundled YAML)

    name = wsp.validate_name(f["workspace_name"])
    tuning = bool(f["tuning"])
    runtime = f["runtime"].strip().lower() if f["runtime"] is not None else None
    method = f["tuning_method"].strip().lower() if f["tuning_method"] is not None else None
    instance = _opt(f["instance_type"], wsp.validate_instance_type, "--instance-type")
    opts = wsp.DeployOptions(
        name=name,
        model=f["model"] if f["model"] is None else flags.check_text(f["model"], "--model value"),
        instance_type=instance,
        count=f["count"],
        label_selector=wsp.parse_label_selector(f["label_selector"]),
        preferred_nodes=[
            wsp.validate_object_name(n, "--preferred-nodes", "node")
            for n in wsp.dedupe(wsp.split_list(f["preferred_nodes"]))
        ],
        model_access_secret=_opt(f["model_access_secret"], wsp.validate_object_name, "--model-access-secret", "Secret"),
        adapters=wsp.parse_adapters(f["adapter"]),
        runtime=runtime,
        enable_load_balancer=bool(f["enable_load_balancer"]),
        bypass_resource_checks=bool(f["bypass_resource_checks"]),
        image_pull_secrets=[
            wsp.validate_object_name(s, "--image-pull-secret", "Secret")
            for s in wsp.dedupe(wsp.split_list(f["image_pull_secret"]))
        ],
        tuning=tuning,
        tuning_method=method,
        input_urls=[wsp.validate_url(u) for u in wsp.split_list(f["input_urls"])],
        input_pvc=_opt(f["input_pvc"], wsp.validate_object_name, "--input-pvc", "PersistentVolumeClaim"),
        input_image=_opt(f["input_image"], wsp.validate_image, "--input-image"),
        output_image=_opt(f["output_image"], wsp.validate_image, "--output-image"),
        output_image_push_secret=_opt(
            f["output_image_push_secret"], wsp.validate_object_name, "--output-image-push-secret", "Secret"
        ),
        output_pvc=_opt(f["output_pvc"], wsp.validate_object_name, "--output-pvc", "PersistentVolumeClaim"),
        tuning_config=_opt(f["tuning_config"], wsp.validate_object_name, "--tuning-config", "ConfigMap"),
        labels=flags.labels(f["label"]),
        annotations=flags.annotations(f["annotation"]),
        partition=None if f["partition"] is None else wsp.parse_partition(f["partition"]),
        image=_opt(f["image"], wsp.validate_image, "--image"),
        port=None if f["port"] is None else flags.positive_int(f["port"], "--port", 65535),
        command=[] if f["command"] is None else wsp.split_command(f["command"], "--command"),
        args=[] if f["args"] is None else wsp.split_command(f["args"], "--args"),
        performance_mode=_choice(f["performance_mode"], "--performance-mode", wsp.PERFORMANCE_MODES),
        disable_benchmark=bool(f["disable_benchmark"]),
        use_local_weights=bool(f["use_local_weights"]),
        disable_model_streaming=bool(f["disable_model_streaming"]),
        model_mirror_storage_class=_opt(
            f["model_mirror_storage_class"], wsp.validate_object_name, "--model-mirror-storage-class", "StorageClass"
        ),
        streaming_service_account=_opt(
            f["streaming_service_account"], wsp.validate_object_name, "--streaming-service-account", "ServiceAccount"
        ),
        node_class_name=_opt(f["node_class_name"], wsp.validate_object_name, "--node-class-name", "NodeClass"),
        node_image_family=_choice(f["node_image_family"], "--node-image-family", wsp.NODE_IMAGE_FAMILIES),
        input_pull_secrets=[
            wsp.validate_object_name(s, "--input-pull-secret", "Secret")
            for s in wsp.dedupe(wsp.split_list(f["input_pull_secret"]))
        ],
    )
    if f["template"] is not None:
        opts.template = {}  # marks it given for the mode check below; the file is read after it
    if f["input_volume"] is not None:
        opts.input_volume = {"given": {}}
    if f["output_volume"] is not None:
        opts.output_volume = {"given": {}}
    config_file = None
    if f["inference_config"] is not None:
        opts.inference_config = f["inference_config"]  # marks it given for the mode check below
    wsp.validate_modes(opts)  # wrong-mode flags first: they explain more than a model or file error
    if f["template"] is not None:
        opts.template = wsp.read_pod_template(f["template"])
    if f["input_volume"] is not None:
        opts.input_volume = wsp.read_volume_source(f["input_volume"], "--input-volume")
    if f["output_volume"] is not None:
        opts.output_volume = wsp.read_volume_source(f["output_volume"], "--output-volume")
    if opts.port is not None and opts.port != wsp.INFERENCE_PORT:
        console.warn(
            f"KAITO's Service sends traffic to container port {wsp.INFERENCE_PORT}, not {opts.port}: "
            "get-endpoint and chat reach the container only if it also listens on 5000"
        )
    if f["inference_config"] is not None:
        kind, value = wsp.inference_config_source(f["inference_config"])
        if kind == "file":
            config_file = wsp.read_inference_config(value)
            opts.inference_config = wsp.inference_configmap_name(name)
        else:
            opts.inference_config = value
    if opts.model is None:  # your own container: no preset to check
        wsp.kaito_annotations(opts)  # annotation conflicts and KAITO-refused values
        return opts, config_file
    check = catalog.check_model(opts.model, catalog.load_bundled(), tuning=tuning)
    opts.model = check.preset
    if check.model is not None and check.model.hf_token and not opts.model_access_secret:
        # KAITO v0.12 accepts it (its catalog entries never require auth at admission), but the
        # download fails without a token: warn, do not refuse (docs/deploy.md, "Model names").
        console.warn(
            f"model {check.preset} is gated on Hugging Face: without --model-access-secret its download will fail "
            "(kubectl create secret generic hf-token --from-literal=HF_TOKEN=<token>, then "
            "--model-access-secret hf-token)"
        )
    if check.warning:
        console.warn(check.warning)
    if runtime == "transformers" and check.model is not None and "transformers" not in check.model.runtimes:
        console.warn(
            f"KAITO has no transformers parameters for {check.preset}; it may not start with "
            "--runtime transformers (vllm is the tested runtime for catalog models)"
        )
    wsp.kaito_annotations(opts)  # annotation conflicts and KAITO-refused values
    return opts, config_file


def _choice(value: str | None, flag: str, choices: tuple[str, ...]) -> str | None:
    """One of a flag's fixed values, case-insensitive (None stays None)."""
    if value is None:
        return None
    v = flags.check_text(value, f"{flag} value").strip().lower()
    if v not in choices:
        raise UsageError(f"invalid {flag} {value!r}", hint=f"use one of: {', '.join(choices)}")
    return v


def _objects(
    opts: wsp.DeployOptions, config_file: str | None, api_version: str = wsp.API_VERSION
) -> list[dict[str, Any]]:
    """What deploy creates, in order: the config ConfigMap (from a file), then the Workspace."""
    objs: list[dict[str, Any]] = []
    if config_file is not None:
        objs.append(wsp.build_inference_configmap(opts.name, opts.namespace, config_file))
    objs.append(wsp.build_workspace(opts, api_version))
    return objs


def _objects_result(objs: list[dict[str, Any]], fmt: str | None) -> Document:
    """One object as itself; several as a multi-document YAML, or a v1 List in JSON (as kubectl does).
    YAML unless -o json: a dry run is for `| kubectl apply -f -`."""
    if len(objs) > 1 and fmt == "json":
        return Document({"apiVersion": "v1", "kind": "List", "items": objs})
    return Document(objs[0] if len(objs) == 1 else objs, default="yaml")


# ---- the cluster -----------------------------------------------------------------------------------


def _create(cluster: Resources, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
    """Create one object, turning the server's refusals into messages that name it."""
    meta = obj["metadata"]
    kind, name, ns = obj["kind"], meta["name"], meta["namespace"]
    try:
        if kind == kaito.KIND:
            return cluster.create_workspace(obj, dry_run=dry_run)
        return cluster.create_configmap(obj, dry_run=dry_run)
    except ConflictError as e:
        if kind == kaito.KIND:
            raise _conflict(name, ns, e.details) from None
        raise ConflictError(
            f'configmap "{name}" already exists in namespace "{ns}"',
            hint=f"pass it by name (--inference-config {name}), or delete it: kubectl delete configmap {name} -n {ns}",
            details={**e.details, "configmap": name, "namespace": ns},
        ) from None
    except InvalidError as e:
        hint = None
        if kind == kaito.KIND:
            hint = "KAITO's webhook validates workspaces; fix the flag it names (try --dry-run=server)"
            if "instanceType is required" in e.message or (
                "instance type" in e.message.lower() and not (obj.get("resource") or {}).get("instanceType")
            ):
                hint = (
                    "KAITO provisions the GPU nodes in this cluster: pass --instance-type, "
                    "e.g. --instance-type Standard_NC24ads_A100_v4"
                )
        raise InvalidError(
            f"the server refused {kind.lower()} {ns}/{name}: {e.message}",
            hint=hint,
            details={**e.details, "kind": kind, "name": name, "namespace": ns},
        ) from None


def _conflict(name: str, ns: str, details: dict[str, Any]) -> ConflictError:
    """An existing workspace is an error (exit 1), never a silent success."""
    return ConflictError(
        f'workspace "{name}" already exists in namespace "{ns}"',
        hint=f"choose another --workspace-name, or delete it first: "
        f"kubectl kaito delete --workspace-name {name} -n {ns}",
        details={**details, "workspace": name, "namespace": ns},
    )


def _create_all(
    console: Console, cluster: Resources, opts: wsp.DeployOptions, config_file: str | None, api_version: str
) -> dict[str, Any]:
    """Create the ConfigMap (if any) and the Workspace; on any failure nothing we made remains."""
    objs = _objects(opts, config_file, api_version)
    if config_file is None:
        return _create(cluster, objs[0])
    cm, ws = objs
    # Refuse an existing workspace before making the ConfigMap (the usual conflict costs nothing).
    try:
        cluster.get_workspace(opts.name, opts.namespace)
    except NotFoundError:
        pass
    else:
        raise _conflict(opts.name, opts.namespace, {})
    _create(cluster, cm)
    cm_name = str(cm["metadata"]["name"])
    created: dict[str, Any] | None = None
    try:
        created = _create(cluster, ws)
    finally:
        if created is None:  # the Workspace was refused (or we were interrupted): remove the ConfigMap
            try:
                cluster.delete_configmap(cm_name, opts.namespace)
            except KaitoError as e:
                console.warn(f"could not remove configmap {cm['metadata']['name']}: {e.message}")
    try:
        owner = {"metadata": {"ownerReferences": [wsp.owner_reference(created)]}}
        cluster.patch_configmap(cm_name, owner, opts.namespace)
    except KaitoError as e:
        console.warn(
            f"configmap {cm['metadata']['name']} is not owned by the workspace ({e.message}); "
            "delete it yourself after the workspace"
        )
    return created


def _wait(console: Console, cluster: Resources, name: str, ns: str, seconds: float) -> dict[str, Any]:
    """Watch until ready (tuning: succeeded) on the one wait display; Ctrl-C keeps the workspace."""
    from kubectl_kaito.waiting import await_workspace, progress_line  # noqa: PLC0415

    try:
        ws = await_workspace(
            console,
            cluster,
            name,
            ns,
            timeout=seconds,
            until=kaito.is_done,
            note="the workspace was left in place",
            always_show=True,
        )
        if console.live:  # the live status is gone once it ends: leave the final state on screen
            console.info(f"workspace {ns}/{name}: {progress_line(ws)}")
        return ws
    except KeyboardInterrupt:
        console.info(
            f"interrupted: the workspace was left in place; watch it with: "
            f"kubectl kaito status --workspace-name {name} -n {ns} -w"
        )
        raise


def endpoint_url(cluster: Resources, name: str, namespace: str) -> str:
    """The URL `kubectl kaito get-endpoint --workspace-name NAME` prints (in-cluster, /v1/chat/completions)."""
    from kubectl_kaito import endpoints  # noqa: PLC0415

    service = cluster.workspace_service(name, namespace)  # missing: NotFoundError (exit 3), as get-endpoint
    return endpoints.internal_origin(service, namespace).url(endpoints.DEFAULT_PATH)


def _warn_newer_kaito(console: Console, cluster: Resources, opts: wsp.DeployOptions) -> None:
    """A warning for each flag in use whose KAITO feature the cluster's KAITO predates (kaito.FEATURES).

    Only deploy --wait and --dry-run=server ask (one GET of KAITO's Deployment): a plain deploy stays
    two requests. Unknown version (not readable, not found): no warning."""
    from kubectl_kaito import provider  # noqa: PLC0415
    from kubectl_kaito.errors import ForbiddenError  # noqa: PLC0415

    in_use = [
        flag
        for flag, used in (
            ("--model-access-secret", opts.model_access_secret),
            ("--runtime", opts.runtime),
            ("--partition", opts.partition),
        )
        if used
    ]
    if not in_use:
        return
    try:
        deployment = cluster.get_deployment(kaito.OPERATOR_DEPLOYMENT, kaito.OPERATOR_NAMESPACE)
    except (NotFoundError, ForbiddenError):
        return
    found = provider.chart_version(deployment)
    for feature in kaito.features_missing(found, in_use):
        used = ", ".join(f for f in feature.flags if f in in_use)
        console.warn(f"{used} needs {feature.name}, from KAITO v{feature.since}; this cluster runs KAITO {found}")


# ---- --replicas: an InferenceSet (issue 14) ----------------------------------------------------------


def _set_options(
    replicas: str | None, node_count_limit: str | None, update_strategy: str | None, max_unavailable: str | None
) -> Any:
    """The InferenceSet flags checked (exit 2), or None without --replicas (the others then need it)."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415

    given = [
        f
        for f, v in (
            ("--node-count-limit", node_count_limit),
            ("--update-strategy", update_strategy),
            ("--max-unavailable", max_unavailable),
        )
        if v is not None
    ]
    if replicas is None:
        if given:
            raise UsageError(
                f"{', '.join(given)} needs --replicas (it is a field of an InferenceSet)",
                hint="add --replicas N to deploy an InferenceSet of N replicas",
            )
        return None
    return inferenceset.SetOptions(
        replicas=flags.replica_count(replicas, "--replicas", allow_zero=False),
        node_count_limit=None
        if node_count_limit is None
        else flags.positive_int(node_count_limit, "--node-count-limit"),
        update_strategy=None if update_strategy is None else inferenceset.parse_update_strategy(update_strategy),
        max_unavailable=None if max_unavailable is None else inferenceset.parse_max_unavailable(max_unavailable),
        flags_given=["--replicas", *given],
    )


def _deploy_set(
    app: AppContext,
    opts: wsp.DeployOptions,
    config_file: str | None,
    set_opts: Any,
    mode: str | None,
    fmt: str | None,
    wait_seconds: float | None,
) -> Result | None:
    """deploy --replicas: create (or print, or server-validate) the InferenceSet; --wait until every replica
    is ready, then print its endpoint (the gateway URL, else the replicas' URLs as get-endpoint prints them)."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415

    inferenceset.check_options(opts, set_opts)
    if config_file is not None:
        raise UsageError(
            "--inference-config FILE cannot be used with --replicas (its ConfigMap would belong to one Workspace)",
            hint="create the ConfigMap first and pass its name: --inference-config NAME",
        )
    if mode == "client":
        opts.namespace = app.namespace_offline()
        return Document(inferenceset.build_inferenceset(opts, set_opts), default="yaml")
    cluster = app.resources()
    opts.namespace = app.namespace
    version = cluster.inferenceset_version()  # ProviderNotInstalledError names the KAITO version needed
    obj = inferenceset.build_inferenceset(opts, set_opts, f"{kaito.GROUP}/{version}")
    name, ns = opts.name, opts.namespace
    try:
        created = cluster.create_inferenceset(obj, dry_run=mode == "server")
    except ConflictError as e:
        raise ConflictError(
            f'inferenceset "{name}" already exists in namespace "{ns}"',
            hint=f"choose another name, or delete it first: kubectl kaito delete {name} -n {ns}",
            details={**e.details, "inferenceset": name, "namespace": ns},
        ) from None
    except InvalidError as e:
        raise InvalidError(
            f"the server refused inferenceset {ns}/{name}: {e.message}",
            hint="KAITO's webhook validates inference sets; fix the flag it names (try --dry-run=server)",
            details={**e.details, "kind": kaito.IS_KIND, "name": name, "namespace": ns},
        ) from None
    if mode == "server":
        return Document(created, default="yaml")
    console = app.console
    if wait_seconds is None:
        output.render(console, Document(created) if fmt else Text(f"inferenceset.kaito.sh/{name} created"), fmt)
        console.info(f"next: kubectl kaito status {name} -n {ns} -w   then: kubectl kaito get-endpoint {name} -n {ns}")
        return None
    console.info(f"inferenceset.kaito.sh/{name} created")
    ready = inferenceset.await_ready(console, cluster, name, ns, wait_seconds)
    if fmt:
        return Document(ready)
    return Text(inferenceset_endpoint_line(cluster, name, ns))


def inferenceset_endpoint_line(cluster: Resources, name: str, ns: str) -> str:
    """What `get-endpoint NAME` prints for a set: the gateway URL, else one line per replica URL."""
    from kubectl_kaito import endpoints  # noqa: PLC0415
    from kubectl_kaito.inferenceset import set_endpoints  # noqa: PLC0415

    found = set_endpoints(cluster, name, ns)
    if found.gateway is not None:
        return f"{found.gateway.url}{endpoints.DEFAULT_PATH}"
    return "\n".join(r["url"] for r in found.replicas if r.get("url"))
