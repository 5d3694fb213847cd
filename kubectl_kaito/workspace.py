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

from kubectl_kaito import flags, kaito
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

# Flags that only make sense in one mode: (option, DeployOptions attribute).
INFERENCE_ONLY = (
    ("--adapter", "adapters"),
    ("--inference-config", "inference_config"),
    ("--runtime", "runtime"),
    ("--enable-load-balancer", "enable_load_balancer"),
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
)


@dataclass
class DeployOptions:
    """The deploy flags as given (None / empty = not given). `model` is the preset name to write."""

    name: str
    model: str
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
    """`name=image[,strength=0.8]` -> `{source: {name, image}, strength: "0.8"}` (strength is a string in the API)."""
    parts = [p.strip() for p in value.split(",")]
    head = parts[0]
    name, sep, image = head.partition("=")
    name, image = name.strip(), image.strip()
    usage = "use --adapter NAME=IMAGE[,strength=0.8], e.g. --adapter phi-3-adapter=myregistry.io/adapter:1.0"
    if not sep or not name or not image:
        raise UsageError(f"invalid --adapter {value!r}: expected name=image", hint=usage)
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        raise UsageError(
            f"invalid --adapter name {name!r}: it must be a DNS-1123 subdomain (KAITO names a container after it)",
            hint="lowercase letters, digits, '-' and '.'",
        )
    entry: dict[str, Any] = {"source": {"name": name, "image": validate_image(image, "--adapter image")}}
    for extra in parts[1:]:
        k, sep, v = extra.partition("=")
        k, v = k.strip(), v.strip()
        if k != "strength" or not sep:
            raise UsageError(f"invalid --adapter {value!r}: unknown part {extra!r}", hint=usage)
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
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read --inference-config {path}: {e}") from None
    import yaml  # noqa: PLC0415

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise UsageError(f"--inference-config {path} is not valid YAML: {str(e).splitlines()[0]}") from None
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
    if not opts.tuning:
        if opts.runtime is not None and opts.runtime not in RUNTIMES:
            raise UsageError(f"invalid --runtime {opts.runtime!r}", hint="use --runtime vllm or --runtime transformers")
        return
    if opts.count is not None and opts.count != 1:
        raise UsageError(f"--count must be 1 for tuning (got {opts.count}): KAITO runs a tuning job on one node")
    if opts.tuning_method is not None and opts.tuning_method not in TUNING_METHODS:
        raise UsageError(f"invalid --tuning-method {opts.tuning_method!r}", hint="use qlora or lora")
    inputs = [f for f, a in (("--input-urls", "input_urls"), ("--input-pvc", "input_pvc"),
                             ("--input-image", "input_image")) if _given(opts, a)]
    outputs = [f for f, a in (("--output-image", "output_image"), ("--output-pvc", "output_pvc")) if _given(opts, a)]
    if len(inputs) != 1:
        raise UsageError(
            "tuning needs exactly one input: --input-urls, --input-pvc or --input-image"
            + (f" (got {', '.join(inputs)})" if inputs else ""),
        )
    if len(outputs) != 1:
        raise UsageError(
            "tuning needs exactly one output: --output-image (with --output-image-push-secret) or --output-pvc"
            + (f" (got {', '.join(outputs)})" if outputs else ""),
        )
    if opts.output_image and not opts.output_image_push_secret:
        raise UsageError(
            "--output-image needs --output-image-push-secret (KAITO pushes the adapter image with it)",
            hint="create one with `kubectl create secret docker-registry ...`",
        )
    if opts.output_image_push_secret and not opts.output_image:
        raise UsageError("--output-image-push-secret only goes with --output-image")


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
    annotations: dict[str, str] = {}
    if opts.runtime:
        annotations[kaito.ANNOTATION_RUNTIME] = opts.runtime
    if opts.enable_load_balancer:
        annotations[kaito.ANNOTATION_ENABLE_LB] = "True"  # the controller compares with "True" exactly
    if opts.bypass_resource_checks:
        annotations[kaito.ANNOTATION_BYPASS_CHECKS] = "True"
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
    dest: dict[str, Any] = {}
    if opts.output_image:
        dest["image"] = opts.output_image
        dest["imagePushSecret"] = opts.output_image_push_secret
    elif opts.output_pvc:
        dest["volumeSource"] = {"persistentVolumeClaim": {"claimName": opts.output_pvc}}
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
