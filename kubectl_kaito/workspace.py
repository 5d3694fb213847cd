"""Deploy flags -> a KAITO Workspace manifest, and every check that runs before the cluster (pure).

Field paths follow the v1beta1 CRD (kaito.sh_workspaces.yaml) and research/kaito-facts.md §1:
there is no `.spec`; `resource`, `inference` and `tuning` sit beside `metadata`. A field the
user did not set is left out (never `instanceType: ""`). Every refusal is a UsageError
(exit 2) raised before anything is sent.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kubectl_kaito import files, flags, kaito
from kubectl_kaito.errors import UsageError

MAX_NAME = 52  # the StatefulSet's controller-revision-hash label is <name>-<10 chars> (kaito-facts §1)
MAX_ADAPTERS = 10
TUNING_METHODS = ("qlora", "lora")
DEFAULT_TUNING_METHOD = "qlora"
RUNTIMES = ("vllm", "transformers")
INFERENCE_CONFIG_KEY = "inference_config.yaml"
API_VERSION = f"{kaito.GROUP}/v1beta1"
DEFAULT_SELECTOR_KEY = "apps"  # as in KAITO's own examples (apps: phi-4-mini)
RESERVED_SELECTOR_KEYS = frozenset(
    {"kaito.sh/workspace", "kaito.sh/workspacenamespace", "kaito.sh/ragengine", "kaito.sh/ragenginenamespace"}
)
RESERVED_SELECTOR_PREFIXES = ("karpenter.kaito.sh/",)

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$")
_INSTANCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_STRENGTH = re.compile(r"^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$")
_MIG_PROFILE = re.compile(r"^[0-9]+g\.[0-9.]+gb$")  # the shape KAITO parses (pkg/utils/mig/mig.go)

# Annotations KAITO v0.12 reads (api/v1beta1/labels.go; pkg/modelmirror/consts/consts.go), see docs/deploy.md.
ANNOTATION_PERFORMANCE_MODE = "kaito.sh/performance-mode"
ANNOTATION_DISABLE_BENCHMARK = "kaito.sh/disable-benchmark"
ANNOTATION_USE_LOCAL_WEIGHTS = "kaito.sh/use-local-weights"
ANNOTATION_NODE_CLASS_NAME = "kaito.sh/node-class-name"
ANNOTATION_NODE_IMAGE_FAMILY = "kaito.sh/node-image-family"
ANNOTATION_MODEL_STREAMING = "kaito.sh/model-streaming"
ANNOTATION_MIRROR_STORAGE_CLASS = "kaito.sh/model-mirror-storage-class"
ANNOTATION_STREAMING_SERVICE_ACCOUNT = "kaito.sh/streaming-service-account"
PERFORMANCE_MODES = ("balanced", "interactivity", "throughput")
NODE_IMAGE_FAMILIES = ("ubuntu", "azurelinux")
PARTITION_MODES = ("mig", "accelerator")
INFERENCE_PORT = 5000  # KAITO's Service sends port 80 to container port 5000 (pkg/workspace/manifests/manifests.go)

# Flags that only make sense in one mode: (option, DeployOptions attribute).
INFERENCE_ONLY = (
    ("--adapter", "adapters"),
    ("--inference-config", "inference_config"),
    ("--runtime", "runtime"),
    ("--enable-load-balancer", "enable_load_balancer"),
    ("--template", "template"),
    ("--image", "image"),
    ("--performance-mode", "performance_mode"),
    ("--disable-benchmark", "disable_benchmark"),
)
TUNING_ONLY = (
    ("--tuning-method", "tuning_method"),
    ("--input-urls", "input_urls"),
    ("--input-pvc", "input_pvc"),
    ("--input-image", "input_image"),
    ("--output-image", "output_image"),
    ("--output-image-push-secret", "output_image_push_secret"),
    ("--output-pvc", "output_pvc"),
    ("--tuning-config", "tuning_config"),
    ("--input-pull-secret", "input_pull_secrets"),
    ("--input-volume", "input_volume"),
    ("--output-volume", "output_volume"),
)
# Flags that belong to a preset (--model): with --template/--image KAITO has nowhere to put them, or ignores them.
PRESET_ONLY = (
    ("--adapter", "adapters"),
    ("--inference-config", "inference_config"),
    ("--runtime", "runtime"),
    ("--model-access-secret", "model_access_secret"),
    ("--image-pull-secret", "image_pull_secrets"),
    ("--performance-mode", "performance_mode"),
    ("--disable-benchmark", "disable_benchmark"),
    ("--use-local-weights", "use_local_weights"),
    ("--disable-model-streaming", "disable_model_streaming"),
    ("--model-mirror-storage-class", "model_mirror_storage_class"),
    ("--streaming-service-account", "streaming_service_account"),
)


@dataclass
class DeployOptions:
    """The deploy flags as given (None / empty = not given). `model` is the preset name to write."""

    name: str
    model: str | None
    namespace: str = "default"
    instance_type: str | None = None
    count: int | None = None
    label_selector: dict[str, str] = field(default_factory=dict)
    preferred_nodes: list[str] = field(default_factory=list)
    model_access_secret: str | None = None
    adapters: list[dict[str, Any]] = field(default_factory=list)
    inference_config: str | None = None  # a ConfigMap name (a file has already become one)
    runtime: str | None = None
    enable_load_balancer: bool = False
    bypass_resource_checks: bool = False
    image_pull_secrets: list[str] = field(default_factory=list)
    tuning: bool = False
    tuning_method: str | None = None
    input_urls: list[str] = field(default_factory=list)
    input_pvc: str | None = None
    input_image: str | None = None
    output_image: str | None = None
    output_image_push_secret: str | None = None
    output_pvc: str | None = None
    tuning_config: str | None = None
    # issue 13: what KAITO's own examples use
    labels: dict[str, str] = field(default_factory=dict)  # metadata.labels (--label)
    annotations: dict[str, str] = field(default_factory=dict)  # metadata.annotations (--annotation)
    partition: dict[str, Any] | None = None  # resource.partition
    template: dict[str, Any] | None = None  # inference.template (--template FILE)
    image: str | None = None  # --image: a one-container inference.template
    port: int | None = None
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    performance_mode: str | None = None
    disable_benchmark: bool = False
    use_local_weights: bool = False
    disable_model_streaming: bool = False
    model_mirror_storage_class: str | None = None
    streaming_service_account: str | None = None
    node_class_name: str | None = None
    node_image_family: str | None = None
    input_pull_secrets: list[str] = field(default_factory=list)
    input_volume: dict[str, Any] | None = None
    output_volume: dict[str, Any] | None = None


# ---- single-value checks --------------------------------------------------------------------


def validate_name(name: str) -> str:
    """A workspace name to create: the one DNS-1123 check (flags), plus what KAITO needs on top:
    at most 52 characters and a letter first."""
    value = name.strip()
    if not value:
        raise UsageError("--workspace-name is required", hint="for example --workspace-name my-llm")
    flags.check_workspace_name(value)
    why = None
    if len(value) > MAX_NAME:
        why = f"it is {len(value)} characters long, at most {MAX_NAME} are allowed"
    elif not value[0].isalpha():
        why = "it must start with a letter (KAITO names a Service <name>-headless, a DNS-1035 label)"
    if why:
        raise UsageError(
            f"invalid workspace name {name!r}: {why}",
            hint=f"a workspace name is a DNS-1123 label of at most {MAX_NAME} characters, e.g. phi-4-mini",
        )
    return value


def validate_object_name(value: str, flag: str, what: str = "object") -> str:
    """A Secret, ConfigMap or PVC name: a DNS-1123 subdomain (253 characters at most)."""
    v = value.strip()
    if not v or len(v) > 253 or not _DNS1123_SUBDOMAIN.match(v):
        raise UsageError(
            f"invalid {flag} {value!r}: not a valid {what} name",
            hint="names are lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
        )
    return v


def validate_image(value: str, flag: str) -> str:
    """A container image reference (registry/repo[:tag][@digest]); the registry checks the rest."""
    v = value.strip()
    if not v or not _IMAGE.match(v) or v.endswith((":", "@", "/")):
        raise UsageError(
            f"invalid {flag} {value!r}: not an image reference", hint="for example myregistry.azurecr.io/adapter:1.0"
        )
    return v


def validate_instance_type(value: str, flag: str = "--instance-type") -> str:
    """A VM/instance SKU name such as Standard_NC24ads_A100_v4 or g5.12xlarge."""
    v = value.strip()
    if not v or not _INSTANCE.match(v):
        raise UsageError(f"invalid {flag} {value!r}", hint="e.g. Standard_NC24ads_A100_v4")
    return v


def split_list(values: Iterable[str] | None) -> list[str]:
    """Repeatable and comma-separated: `-x a,b -x c` -> [a, b, c] (blanks dropped)."""
    out: list[str] = []
    for v in values or ():
        out += [p.strip() for p in str(v).split(",") if p.strip()]
    return out


def parse_label_selector(values: Iterable[str] | None) -> dict[str, str]:
    """`--label-selector k=v` (repeatable, comma-separated) -> matchLabels; label syntax checked."""
    labels: dict[str, str] = {}
    for item in split_list(values):
        key, sep, val = item.partition("=")
        key, val = key.strip(), val.strip()
        if not sep or not key:
            raise UsageError(
                f"invalid --label-selector {item!r}: expected key=value", hint="e.g. --label-selector apps=phi-4"
            )
        if not valid_label_key(key):
            raise UsageError(
                f"invalid --label-selector key {key!r}",
                hint="a label key is [prefix/]name: name at most 63 characters of letters, digits, '-', '_', '.'",
            )
        if len(val) > 63 or not _LABEL_VALUE.match(val):
            raise UsageError(
                f"invalid --label-selector value {val!r} for {key}",
                hint="a label value is at most 63 characters of letters, digits, '-', '_', '.'",
            )
        if key in labels and labels[key] != val:
            raise UsageError(f"--label-selector sets {key} twice ({labels[key]!r} and {val!r})")
        labels[key] = val
    if labels and all(reserved_label_key(k) for k in labels):
        raise UsageError(
            f"--label-selector uses only keys KAITO reserves ({', '.join(labels)})",
            hint="KAITO strips them and refuses the empty selector left; add a label of your own, e.g. apps=my-llm",
        )
    return labels


def valid_label_key(key: str) -> bool:
    """Kubernetes qualified name: optional DNS-subdomain prefix, then a name of at most 63 characters."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME.match(name))


def parse_adapter(value: str) -> dict[str, Any]:
    """`NAME=SOURCE[,strength=0.8][,pull-secret=S]` -> an AdapterSpec (strength is a string in the API).

    SOURCE is an image, `pvc:CLAIM` (source.volumeSource.persistentVolumeClaim) or `volume:FILE` (a
    VolumeSource in YAML, e.g. azureFile or csi): the two sources KAITO v0.12 mounts
    (pkg/workspace/inference/preset_inferences.go)."""
    flags.check_text(value, "--adapter value")
    parts = [p.strip() for p in value.split(",")]
    head = parts[0]
    name, sep, src = head.partition("=")
    name, src = name.strip(), src.strip()
    usage = (
        "use --adapter NAME=IMAGE[,strength=0.8], NAME=pvc:CLAIM or NAME=volume:FILE, "
        "e.g. --adapter phi-3-adapter=myregistry.io/adapter:1.0"
    )
    if not sep or not name or not src:
        raise UsageError(f"invalid --adapter {value!r}: expected name=image", hint=usage)
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        raise UsageError(
            f"invalid --adapter name {name!r}: it must be a DNS-1123 subdomain (KAITO names a container after it)",
            hint="lowercase letters, digits, '-' and '.'",
        )
    source: dict[str, Any] = {"name": name}
    if src.startswith("pvc:"):
        claim = validate_object_name(src[4:], "--adapter pvc", "PersistentVolumeClaim")
        source["volumeSource"] = {"persistentVolumeClaim": {"claimName": claim}}
    elif src.startswith("volume:"):
        source["volumeSource"] = read_volume_source(src[7:].strip(), "--adapter volume")
    else:
        source["image"] = validate_image(src, "--adapter image")
    entry: dict[str, Any] = {"source": source}
    for extra in parts[1:]:
        k, sep, v = extra.partition("=")
        k, v = k.strip(), v.strip()
        if k not in ("strength", "pull-secret") or not sep:
            raise UsageError(f"invalid --adapter {value!r}: unknown part {extra!r}", hint=usage)
        if k == "pull-secret":
            if "image" not in source:
                raise UsageError(f"invalid --adapter {value!r}: pull-secret only goes with an image source", hint=usage)
            secret = validate_object_name(v, "--adapter pull-secret", "Secret")
            source.setdefault("imagePullSecrets", [])
            if secret not in source["imagePullSecrets"]:
                source["imagePullSecrets"].append(secret)
            continue
        if "strength" in entry:
            raise UsageError(f"invalid --adapter {value!r}: strength given twice", hint=usage)
        if not _STRENGTH.match(v):
            raise UsageError(f"invalid --adapter strength {v!r}: a number between 0 and 1", hint=usage)
        entry["strength"] = v
    return entry


def parse_adapters(values: Iterable[str] | None) -> list[dict[str, Any]]:
    """Every --adapter, with KAITO's limits: at most 10, unique names."""
    adapters = [parse_adapter(v) for v in values or ()]
    if len(adapters) > MAX_ADAPTERS:
        raise UsageError(f"too many adapters: {len(adapters)}, KAITO allows at most {MAX_ADAPTERS}")
    seen: set[str] = set()
    for a in adapters:
        n = a["source"]["name"]
        if n in seen:
            raise UsageError(f"adapter name {n!r} is given twice", hint="each --adapter needs its own name")
        seen.add(n)
    return adapters


def validate_url(value: str) -> str:
    """A tuning input URL: http(s) with a host, not a loopback, private or link-local address."""
    v = value.strip()
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"invalid --input-urls entry {value!r}: an http(s) URL is required")
    try:
        ip = ipaddress.ip_address(parts.hostname)
    except ValueError:
        ip = None
    if parts.hostname == "localhost" or (ip is not None and (ip.is_private or ip.is_loopback or ip.is_link_local)):
        raise UsageError(
            f"invalid --input-urls entry {value!r}: KAITO refuses loopback, private and metadata addresses",
            hint="serve the dataset from a public URL, or use --input-pvc / --input-image",
        )
    return v


def inference_config_source(value: str) -> tuple[str, str]:
    """`--inference-config`: ("file", path) when it names a file, else ("name", configmap)."""
    v = value.strip()
    if os.path.isfile(v):
        return "file", v
    if os.sep in v or v.endswith((".yaml", ".yml", ".json")) or os.path.exists(v):
        raise UsageError(
            f"--inference-config {value!r}: no such file",
            hint="pass a readable file (it becomes a ConfigMap) or the name of an existing ConfigMap",
        )
    return "name", validate_object_name(v, "--inference-config", "ConfigMap")


def read_inference_config(path: str) -> str:
    """The file's text, checked to be a YAML mapping (KAITO parses it as inference_config.yaml)."""
    text, doc = _load_yaml_file(path, "--inference-config")
    if not isinstance(doc, dict):
        raise UsageError(
            f"--inference-config {path} must hold a YAML mapping (the content of {INFERENCE_CONFIG_KEY})",
            hint="see KAITO's inference-params-template ConfigMap for the format",
        )
    if doc.get("kind") == "ConfigMap":
        raise UsageError(
            f"--inference-config {path} is a ConfigMap manifest, not its {INFERENCE_CONFIG_KEY} content",
            hint="apply it with kubectl and pass its name, or pass a file with only the configuration",
        )
    return text


def _read_yaml(path: str, flag: str) -> Any:
    """A file's single YAML document (a usage error names the flag and the file)."""
    flags.check_text(path, f"{flag} file")
    if not path:
        raise UsageError(f"{flag} needs a file name")
    return _load_yaml_file(path, flag)[1]


def _load_yaml_file(path: str, flag: str) -> tuple[str, Any]:
    """A flag's file: its text and its single YAML document (a usage error names the flag and the file;
    at most 64 MiB is read, see files.py)."""
    try:
        text = files.read_text(path)
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {flag} {path}: {e}") from None
    import yaml  # noqa: PLC0415

    try:
        return text, yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise UsageError(f"{flag} {path} is not valid YAML: {str(e).splitlines()[0]}") from None


def read_volume_source(path: str, flag: str) -> dict[str, Any]:
    """A Kubernetes VolumeSource from a YAML file: one volume type, e.g. `azureFile: {...}` or `nfs: {...}`.

    A whole volume (`name:` plus the type) is accepted too; its name is dropped (KAITO names the volume)."""
    doc = _read_yaml(path, flag)
    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k != "name"}
    if not isinstance(doc, dict) or len(doc) != 1 or not isinstance(next(iter(doc.values())), dict):
        raise UsageError(
            f"{flag} {path} must hold one volume source, e.g. `persistentVolumeClaim: {{claimName: data}}`",
            hint="a Kubernetes VolumeSource: exactly one of persistentVolumeClaim, azureFile, nfs, csi, hostPath, ...",
        )
    return doc


def read_pod_template(path: str) -> dict[str, Any]:
    """`--template FILE` -> a PodTemplateSpec for inference.template.

    Accepted: a pod template (`spec:` with containers, optional `metadata:`), a bare pod spec
    (`containers:` at the top), or a Pod / PodTemplate manifest (its template is used)."""
    doc = _read_yaml(path, "--template")
    if isinstance(doc, dict) and doc.get("kind") == "PodTemplate":
        doc = doc.get("template")
    elif isinstance(doc, dict) and doc.get("kind") == "Pod":
        meta = {k: v for k, v in (doc.get("metadata") or {}).items() if k in ("labels", "annotations")}
        doc = {"metadata": meta, "spec": doc.get("spec")} if meta else {"spec": doc.get("spec")}
    elif isinstance(doc, dict) and "containers" in doc and "spec" not in doc:
        doc = {"spec": doc}
    hint = "a pod template: spec.containers with a name and an image each (see KAITO's custom-model example)"
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        raise UsageError(f"--template {path} must hold a pod template (a mapping with spec.containers)", hint=hint)
    unknown = sorted(set(doc) - {"metadata", "spec"})
    if unknown:
        raise UsageError(f"--template {path}: unknown field(s) {', '.join(unknown)} in a pod template", hint=hint)
    containers = doc["spec"].get("containers")
    if not isinstance(containers, list) or not containers:
        raise UsageError(f"--template {path}: spec.containers must list at least one container", hint=hint)
    for i, c in enumerate(containers):
        if not isinstance(c, dict) or not c.get("name") or not c.get("image"):
            raise UsageError(f"--template {path}: spec.containers[{i}] needs a name and an image", hint=hint)
    return doc


def container_template(opts: DeployOptions) -> dict[str, Any]:
    """`--image IMAGE [--port N] [--command ...] [--args ...]` -> a one-container pod template."""
    container: dict[str, Any] = {"name": opts.name, "image": opts.image}
    if opts.command:
        container["command"] = list(opts.command)
    if opts.args:
        container["args"] = list(opts.args)
    if opts.port is not None:
        container["ports"] = [{"containerPort": opts.port}]
    return {"spec": {"containers": [container]}}


def split_command(value: str, flag: str) -> list[str]:
    """`--command "accelerate launch app.py"` -> ["accelerate", "launch", "app.py"] (shell words)."""
    import shlex  # noqa: PLC0415

    flags.check_text(value, f"{flag} value")
    try:
        words = shlex.split(value)
    except ValueError as e:
        raise UsageError(f"invalid {flag} {value!r}: {e}", hint="quote it as you would in a shell") from None
    if not words:
        raise UsageError(f"invalid {flag} {value!r}: it is empty")
    return words


def parse_partition(value: str) -> dict[str, Any]:
    """`--partition mode=mig,profile=2g.20gb` or `mode=accelerator,count=2` -> resource.partition,
    with the rules of KAITO v0.12's webhook (validatePartition, api/v1beta1/workspace_validation.go)."""
    fields = flags.key_values(value, "--partition", ("mode", "profile", "count"), "mode=mig,profile=1g.10gb")
    mode = fields.get("mode", "").lower()
    hint = "use --partition mode=mig,profile=PROFILE or --partition mode=accelerator,count=N"
    if not mode:
        raise UsageError(f"invalid --partition {value!r}: mode is required", hint=hint)
    if mode not in PARTITION_MODES:
        raise UsageError(
            f'invalid --partition: unsupported partition mode "{mode}", supported modes are "mig" and "accelerator"',
            hint=hint,
        )
    out: dict[str, Any] = {"mode": mode}
    if mode == "mig":
        if "count" in fields:
            raise UsageError(
                "invalid --partition: count is only valid for accelerator mode",
                hint="a MIG workload gets one slice, chosen by profile=, e.g. profile=1g.10gb",
            )
        profile = fields.get("profile", "")
        if not _MIG_PROFILE.match(profile):
            raise UsageError(
                f"invalid --partition: invalid MIG profile format {profile!r}: expected format like '1g.10gb'",
                hint=hint,
            )
        out["profile"] = profile
    else:
        if "profile" in fields:
            raise UsageError("invalid --partition: profile is not valid for accelerator mode", hint=hint)
        if "count" not in fields:
            raise UsageError(
                "invalid --partition: mode=accelerator needs count=N (KAITO: missing field(s): "
                "resource.partition.count)",
                hint=hint,
            )
        out["count"] = flags.positive_int(fields["count"], "--partition count")
    return out


def kaito_annotations(opts: DeployOptions) -> dict[str, str]:
    """metadata.annotations: the named flags, then --annotation; the same key twice with two values is refused,
    and the values KAITO v0.12's webhook refuses are refused here first (validateAnnotations)."""
    named: list[tuple[str, str, str]] = []  # (flag, key, value)
    if opts.runtime:
        named.append(("--runtime", kaito.ANNOTATION_RUNTIME, opts.runtime))
    if opts.enable_load_balancer:
        named.append(("--enable-load-balancer", kaito.ANNOTATION_ENABLE_LB, "True"))  # compared with "True" exactly
    if opts.bypass_resource_checks:
        named.append(("--bypass-resource-checks", kaito.ANNOTATION_BYPASS_CHECKS, "True"))
    if opts.performance_mode:
        named.append(("--performance-mode", ANNOTATION_PERFORMANCE_MODE, opts.performance_mode))
    if opts.disable_benchmark:
        named.append(("--disable-benchmark", ANNOTATION_DISABLE_BENCHMARK, "true"))
    if opts.use_local_weights:
        named.append(("--use-local-weights", ANNOTATION_USE_LOCAL_WEIGHTS, "true"))
    if opts.disable_model_streaming:
        named.append(("--disable-model-streaming", ANNOTATION_MODEL_STREAMING, "disabled"))
    if opts.model_mirror_storage_class:
        named.append(("--model-mirror-storage-class", ANNOTATION_MIRROR_STORAGE_CLASS, opts.model_mirror_storage_class))
    if opts.streaming_service_account:
        named.append(
            ("--streaming-service-account", ANNOTATION_STREAMING_SERVICE_ACCOUNT, opts.streaming_service_account)
        )
    if opts.node_class_name:
        named.append(("--node-class-name", ANNOTATION_NODE_CLASS_NAME, opts.node_class_name))
    if opts.node_image_family:
        named.append(("--node-image-family", ANNOTATION_NODE_IMAGE_FAMILY, opts.node_image_family))
    out: dict[str, str] = {}
    for flag, key, val in named:
        out[key] = val
        given = opts.annotations.get(key)
        if given is not None and given != val:
            raise UsageError(
                f"{flag} writes {key}: {val!r}, but --annotation sets it to {given!r}",
                hint=f"give one of them (drop --annotation {key}=...)",
            )
    out.update(opts.annotations)
    check_annotation_values(out)
    return out


def check_annotation_values(annotations: dict[str, str]) -> None:
    """What KAITO v0.12's webhook is certain to refuse in annotations, with its words (exit 2 here)."""
    mode = annotations.get(ANNOTATION_PERFORMANCE_MODE)
    if mode is not None and mode not in PERFORMANCE_MODES:
        raise UsageError(
            f"invalid value: {mode!r} is not a valid performance mode; choose one of: balanced, "
            f"interactivity, throughput: metadata.annotations[{ANNOTATION_PERFORMANCE_MODE}]",
            hint="use --performance-mode balanced|interactivity|throughput",
        )
    local = annotations.get(ANNOTATION_USE_LOCAL_WEIGHTS)
    if local is not None and local not in ("true", "false"):
        raise UsageError(
            f'invalid value: {local!r} must be "true" or "false": metadata.annotations[{ANNOTATION_USE_LOCAL_WEIGHTS}]',
            hint="use --use-local-weights",
        )
    family = annotations.get(ANNOTATION_NODE_IMAGE_FAMILY)
    if family is not None and family.strip().lower() not in NODE_IMAGE_FAMILIES:
        raise UsageError(
            f"invalid value: unsupported node image family {family!r}, supported values are azurelinux, "
            f'ubuntu: metadata.annotations["{ANNOTATION_NODE_IMAGE_FAMILY}"]',
            hint="use --node-image-family ubuntu|azurelinux",
        )


# ---- mode rules --------------------------------------------------------------------------------


def _given(opts: DeployOptions, attr: str) -> bool:
    value = getattr(opts, attr)
    return bool(value) if not isinstance(value, bool) else value


def validate_modes(opts: DeployOptions) -> None:
    """Inference-only flags without --tuning, tuning-only flags with it, and tuning's one-in/one-out rule."""
    wrong = TUNING_ONLY if not opts.tuning else INFERENCE_ONLY
    bad = [flag for flag, attr in wrong if _given(opts, attr)]
    if bad:
        if opts.tuning:
            raise UsageError(f"{', '.join(bad)} cannot be used with --tuning (inference only)")
        verb = "needs" if len(bad) == 1 else "need"
        raise UsageError(f"{', '.join(bad)} {verb} --tuning (tuning only)", hint="add --tuning to fine-tune the model")
    if opts.count is not None and opts.count < 1:
        raise UsageError(f"--count must be at least 1, got {opts.count}")
    if opts.partition is not None:
        if opts.tuning:  # KAITO: "GPU partitioning is not supported for tuning workloads"
            raise UsageError(
                "--partition cannot be used with --tuning: GPU partitioning is not supported for tuning workloads"
            )
        if opts.instance_type:
            raise UsageError(
                "--partition cannot be used with --instance-type: GPU partitioning is only supported with BYO "
                "nodes (disableNodeAutoProvisioning=true)",
                hint="drop --instance-type and select your own GPU nodes with --label-selector",
            )
    if not opts.tuning:
        _validate_inference_modes(opts)
        return
    if not opts.model:
        raise UsageError("--model is required: the preset to fine-tune", hint="for example --model phi-4-mini-instruct")
    if opts.count is not None and opts.count != 1:
        raise UsageError(f"--count must be 1 for tuning (got {opts.count}): KAITO runs a tuning job on one node")
    if opts.tuning_method is not None and opts.tuning_method not in TUNING_METHODS:
        raise UsageError(f"invalid --tuning-method {opts.tuning_method!r}", hint="use qlora or lora")
    inputs = [
        f
        for f, a in (
            ("--input-urls", "input_urls"),
            ("--input-pvc", "input_pvc"),
            ("--input-image", "input_image"),
            ("--input-volume", "input_volume"),
        )
        if _given(opts, a)
    ]
    outputs = [
        f
        for f, a in (
            ("--output-image", "output_image"),
            ("--output-pvc", "output_pvc"),
            ("--output-volume", "output_volume"),
        )
        if _given(opts, a)
    ]
    if len(inputs) != 1:
        raise UsageError(
            "tuning needs exactly one input: --input-urls, --input-pvc, --input-volume or --input-image"
            + (f" (got {', '.join(inputs)})" if inputs else ""),
        )
    if len(outputs) != 1:
        raise UsageError(
            "tuning needs exactly one output: --output-image (with --output-image-push-secret), --output-pvc or "
            "--output-volume" + (f" (got {', '.join(outputs)})" if outputs else ""),
        )
    if opts.output_image and not opts.output_image_push_secret:
        raise UsageError(
            "--output-image needs --output-image-push-secret (KAITO pushes the adapter image with it)",
            hint="create one with `kubectl create secret docker-registry ...`",
        )
    if opts.output_image_push_secret and not opts.output_image:
        raise UsageError("--output-image-push-secret only goes with --output-image")
    if opts.input_pull_secrets and not opts.input_image:
        raise UsageError("--input-pull-secret only goes with --input-image (tuning.input.imagePullSecrets)")


def _validate_inference_modes(opts: DeployOptions) -> None:
    """A preset (--model) or your own container (--template / --image), and the rules that follow from it."""
    if opts.runtime is not None and opts.runtime not in RUNTIMES:
        raise UsageError(f"invalid --runtime {opts.runtime!r}", hint="use --runtime vllm or --runtime transformers")
    if opts.template is not None and opts.image is not None:
        raise UsageError(
            "--template and --image cannot be used together",
            hint="put the container in the --template file, or use --image alone",
        )
    container_flags = [
        f
        for f, a in (("--port", "port"), ("--command", "command"), ("--args", "args"))
        if getattr(opts, a) not in (None, [])
    ]
    if container_flags and opts.image is None:
        raise UsageError(
            f"{', '.join(container_flags)} only go(es) with --image",
            hint="with --template, set ports, command and args in the file",
        )
    custom = "--template" if opts.template is not None else "--image" if opts.image is not None else None
    if custom and opts.model:
        raise UsageError(
            f"--model and {custom} cannot be used together: KAITO refuses a workspace where Preset "
            "and Template are both set",
            hint=f"drop --model to run your own container, or drop {custom}",
        )
    if custom:
        bad = [flag for flag, attr in PRESET_ONLY if _given(opts, attr)]
        if bad:
            raise UsageError(
                f"{', '.join(bad)} cannot be used with {custom}: KAITO applies it to a --model preset only",
                hint="drop it, or deploy a preset with --model",
            )
        return
    if not opts.model:
        raise UsageError(
            "--model is required (or --template FILE / --image IMAGE for your own container)",
            hint="for example --model phi-4-mini-instruct",
        )
    strength = [a["source"]["name"] for a in opts.adapters if "strength" in a]
    if strength and opts.runtime != "transformers" and opts.annotations.get(kaito.ANNOTATION_RUNTIME) != "transformers":
        # KAITO v0.12: "Runtime validation: vLLM does not support adapter strength" (pkg/model/interface.go)
        raise UsageError(
            f"vLLM does not support adapter strength (--adapter {strength[0]}): KAITO's webhook refuses it",
            hint="add --runtime transformers to use strength=, or drop strength= to serve with vLLM",
        )


# ---- the manifest --------------------------------------------------------------------------------


def default_label_selector(name: str) -> dict[str, str]:
    """What the nodes are selected by when --label-selector is not given: `apps: <name>`.

    Not `kaito.sh/workspace` (the Go plugin's default): KAITO strips its reserved keys from
    the selector and its webhook refuses a selector left empty by that.
    """
    return {DEFAULT_SELECTOR_KEY: name}


def reserved_label_key(key: str) -> bool:
    """Keys KAITO reserves for itself in resource.labelSelector (kaito-facts §1)."""
    return key in RESERVED_SELECTOR_KEYS or key.startswith(RESERVED_SELECTOR_PREFIXES)


def build_workspace(opts: DeployOptions, api_version: str = API_VERSION) -> dict[str, Any]:
    """The Workspace object, with only the fields the user set (plus labelSelector, which is required)."""
    validate_modes(opts)
    metadata: dict[str, Any] = {"name": opts.name, "namespace": opts.namespace}
    if opts.labels:
        metadata["labels"] = dict(opts.labels)
    annotations = kaito_annotations(opts)
    if annotations:
        metadata["annotations"] = annotations

    resource: dict[str, Any] = {}
    if opts.instance_type:
        resource["instanceType"] = opts.instance_type
    if opts.count is not None:
        resource["count"] = opts.count
    resource["labelSelector"] = {"matchLabels": dict(opts.label_selector or default_label_selector(opts.name))}
    if opts.preferred_nodes:
        resource["preferredNodes"] = list(opts.preferred_nodes)
    if opts.partition is not None:
        resource["partition"] = dict(opts.partition)

    preset: dict[str, Any] = {"name": opts.model}
    preset_options: dict[str, Any] = {}
    if opts.image_pull_secrets:
        preset_options["imagePullSecrets"] = list(opts.image_pull_secrets)
    if opts.model_access_secret:
        preset_options["modelAccessSecret"] = opts.model_access_secret
    if preset_options:
        preset["presetOptions"] = preset_options

    ws: dict[str, Any] = {"apiVersion": api_version, "kind": kaito.KIND, "metadata": metadata, "resource": resource}
    if opts.tuning:
        ws["tuning"] = _tuning(opts, preset)
    elif opts.template is not None or opts.image is not None:
        ws["inference"] = {"template": opts.template if opts.template is not None else container_template(opts)}
    else:
        inference: dict[str, Any] = {"preset": preset}
        if opts.inference_config:
            inference["config"] = opts.inference_config
        if opts.adapters:
            inference["adapters"] = [dict(a) for a in opts.adapters]
        ws["inference"] = inference
    return ws


def _tuning(opts: DeployOptions, preset: dict[str, Any]) -> dict[str, Any]:
    tuning: dict[str, Any] = {"preset": preset, "method": opts.tuning_method or DEFAULT_TUNING_METHOD}
    if opts.tuning_config:
        tuning["config"] = opts.tuning_config
    source: dict[str, Any] = {}
    if opts.input_urls:
        source["urls"] = list(opts.input_urls)
    elif opts.input_pvc:
        source["volumeSource"] = {"persistentVolumeClaim": {"claimName": opts.input_pvc}}
    elif opts.input_image:
        source["image"] = opts.input_image
        if opts.input_pull_secrets:
            source["imagePullSecrets"] = list(opts.input_pull_secrets)
    elif opts.input_volume:
        source["volumeSource"] = dict(opts.input_volume)
    dest: dict[str, Any] = {}
    if opts.output_image:
        dest["image"] = opts.output_image
        dest["imagePushSecret"] = opts.output_image_push_secret
    elif opts.output_pvc:
        dest["volumeSource"] = {"persistentVolumeClaim": {"claimName": opts.output_pvc}}
    elif opts.output_volume:
        dest["volumeSource"] = dict(opts.output_volume)
    tuning["input"] = source
    tuning["output"] = dest
    return tuning


def inference_configmap_name(workspace: str) -> str:
    """The ConfigMap made from an --inference-config file."""
    return f"{workspace}-inference-config"


def build_inference_configmap(workspace: str, namespace: str, content: str) -> dict[str, Any]:
    """The ConfigMap for an --inference-config file (its owner is set once the Workspace exists)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": inference_configmap_name(workspace),
            "namespace": namespace,
            "labels": {kaito.LABEL_WORKSPACE: workspace},
        },
        "data": {INFERENCE_CONFIG_KEY: content},
    }


def owner_reference(ws: dict[str, Any]) -> dict[str, Any]:
    """An ownerReference to the created Workspace, so the ConfigMap is garbage-collected with it."""
    meta = ws.get("metadata") or {}
    return {
        "apiVersion": ws.get("apiVersion", API_VERSION),
        "kind": ws.get("kind", kaito.KIND),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
    }


def output_destination(ws: dict[str, Any]) -> str:
    """Where a tuning workspace writes its adapter (for the --wait result line)."""
    out = ((ws.get("tuning") or {}).get("output")) or {}
    if out.get("image"):
        return str(out["image"])
    claim = ((out.get("volumeSource") or {}).get("persistentVolumeClaim") or {}).get("claimName")
    return f"pvc/{claim}" if claim else ""


def dedupe(values: Sequence[str]) -> list[str]:
    """Keep the first of each value, in order."""
    return list(dict.fromkeys(values))


def suggest_workspace_name(model: str) -> str:
    """A valid workspace name for a model: `Qwen/Qwen3.5-9B` -> `qwen3-5-9b` (for examples)."""
    base = model.rsplit("/", 1)[-1].lower()
    name = re.sub(r"[^a-z0-9-]+", "-", base).strip("-")
    name = name.lstrip("0123456789-") or "model"
    return name[:MAX_NAME].rstrip("-")
