"""A re-implementation of KAITO's validating webhook `validation.workspace.kaito.sh`
(api/v1beta1/workspace_validation.go at v0.12.0, Knative FieldError formatting).

Only the rules that do not need a real cloud are implemented; see docs/simulator.md.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlparse

import yaml

from .resources import load_data_yaml
from .util import dns1123_label_errors, dns1123_subdomain_errors

WEBHOOK_NAME = "validation.workspace.kaito.sh"
RELEASE_NAMESPACE = "kaito-workspace"
MAX_ADAPTERS = 10

# the exact reserved keys (api/v1beta1/labels.go:218-258, v0.12.0); not a prefix
RESERVED_SELECTOR_KEYS = {
    "kaito.sh/workspace",
    "kaito.sh/workspacenamespace",
    "kaito.sh/ragengine",
    "kaito.sh/ragenginenamespace",
    "karpenter.kaito.sh/workspace-name",
    "karpenter.kaito.sh/workspace-namespace",
    "karpenter.kaito.sh/inferenceset",
    "karpenter.kaito.sh/inferenceset-namespace",
}

# known MIG profiles (pkg/utils/mig/mig.go:34-80, v0.12.0), sorted as KnownMIGProfiles() returns them
MIG_PROFILES = sorted(
    [
        "1g.6gb",
        "2g.12gb",
        "4g.24gb",
        "1g.5gb",
        "2g.10gb",
        "3g.20gb",
        "4g.20gb",
        "7g.40gb",
        "1g.10gb",
        "1g.20gb",
        "2g.20gb",
        "3g.40gb",
        "4g.40gb",
        "7g.80gb",
        "1g.12gb",
        "1g.24gb",
        "2g.24gb",
        "3g.47gb",
        "4g.47gb",
        "7g.94gb",
        "3g.48gb",
        "4g.48gb",
        "7g.96gb",
        "1g.18gb",
        "1g.35gb",
        "2g.35gb",
        "3g.71gb",
        "4g.71gb",
        "7g.141gb",
        "1g.23gb",
        "1g.45gb",
        "2g.45gb",
        "3g.90gb",
        "4g.90gb",
        "7g.180gb",
    ]
)
_MIG_RE = re.compile(r"^(\d+)g\.([\d.]+)gb$")
# NVIDIA GPU Feature Discovery labels read on BYO nodes (pkg/sku/helpers.go:75-119)
GFD_LABELS = ("nvidia.com/gpu.product", "nvidia.com/gpu.count", "nvidia.com/gpu.memory")

KNOWN_AZURE_SKUS = [
    "Standard_NC6s_v3",
    "Standard_NC12s_v3",
    "Standard_NC24s_v3",
    "Standard_NC24rs_v3",
    "Standard_NC4as_T4_v3",
    "Standard_NC8as_T4_v3",
    "Standard_NC16as_T4_v3",
    "Standard_NC64as_T4_v3",
    "Standard_NC24ads_A100_v4",
    "Standard_NC48ads_A100_v4",
    "Standard_NC96ads_A100_v4",
    "Standard_ND96asr_v4",
    "Standard_ND96amsr_A100_v4",
    "Standard_NC40ads_H100_v5",
    "Standard_NC80adis_H100_v5",
    "Standard_ND96isr_H100_v5",
    "Standard_NV36ads_A10_v5",
    "Standard_NV72ads_A10_v5",
    "Standard_NG32ads_V620_v1",
]


# ---------------- Knative apis.FieldError ----------------


@dataclass
class _FE:
    message: str
    paths: list[str] = field(default_factory=list)
    details: str = ""


def _is_index(p: str) -> bool:
    return p.startswith("[") and p.endswith("]")


def _flatten(parts: list[str]) -> str:
    out: list[str] = []
    for part in parts:
        for p in part.split("."):
            if p == "":
                continue
            if out and _is_index(p):
                out[-1] += p
            else:
                out.append(p)
    return ".".join(out)


class FieldErrors:
    def __init__(self, errs: list[_FE] | None = None) -> None:
        self.errs: list[_FE] = errs or []

    def __bool__(self) -> bool:
        return bool(self.errs)

    def also(self, *others: FieldErrors | None) -> FieldErrors:
        for o in others:
            if o:
                self.errs.extend(o.errs)
        return self

    def via(self, *prefix: str) -> FieldErrors:
        return FieldErrors(
            [_FE(e.message, [_flatten(list(prefix) + [p]) for p in e.paths], e.details) for e in self.errs]
        )

    def error(self) -> str:
        merged: dict[tuple[str, str], _FE] = {}
        for e in self.errs:
            k = (e.message, e.details)
            if k in merged:
                merged[k].paths.extend(e.paths)
            else:
                merged[k] = _FE(e.message, list(e.paths), e.details)
        items = sorted(merged.values(), key=lambda e: (e.message, e.details))
        lines = []
        for e in items:
            paths = ", ".join(sorted(e.paths))
            lines.append(f"{e.message}: {paths}" + (f"\n{e.details}" if e.details else ""))
        return "\n".join(lines)


def err_generic(msg: str, *paths: str) -> FieldErrors:
    return FieldErrors([_FE(msg, list(paths))])


def err_invalid(value: object, *paths: str) -> FieldErrors:
    return FieldErrors([_FE(f"invalid value: {value}", list(paths))])


def err_missing(*paths: str) -> FieldErrors:
    return FieldErrors([_FE("missing field(s)", list(paths))])


# ---------------- catalogs ----------------


@lru_cache(maxsize=1)
def _supported_models() -> dict[str, dict]:
    return {m["name"]: m for m in load_data_yaml("supported_models.yaml").get("models", [])}


@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict]:
    return {m["name"]: m for m in load_data_yaml("model_catalog.yaml").get("models", [])}


@lru_cache(maxsize=1)
def legacy_names() -> frozenset[str]:
    """Legacy short preset names KAITO v0.12 still accepts (non-deprecated supported_models.yaml
    entries except `base` and the falcon family, which left the legacy map)."""
    return frozenset(
        n
        for n, m in _supported_models().items()
        if n != "base" and not m.get("deprecated") and not n.startswith("falcon-")
    )


_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def is_valid_preset(name: str) -> bool:
    return name in legacy_names() or bool(_HF_ID.match(name or ""))


def is_deprecated(name: str) -> bool:
    m = _supported_models().get(name)
    return bool(m and m.get("deprecated"))


def catalog_entry(preset: str) -> dict | None:
    """The model_catalog.yaml entry for an HF ID or a legacy name (best effort)."""
    cat = _catalog()
    for k, v in cat.items():
        if k.lower() == preset.lower():
            return v
    last = preset.lower()
    candidates = [last, last.replace("-instruct", "-it")]
    for k, v in cat.items():
        seg = k.split("/", 1)[-1].lower()
        if seg in candidates:
            return v
    for k, v in cat.items():
        seg = k.split("/", 1)[-1].lower()
        if any(seg.startswith(c + "-") for c in candidates):
            return v
    return None


def served_model_name(preset: str) -> str:
    """vLLM's --served-model-name: lowercased last segment of an HF ID; legacy names as they are."""
    if "/" in preset:
        return preset.rsplit("/", 1)[-1].lower()
    return preset


def token_limit(preset: str) -> int | None:
    e = catalog_entry(preset)
    return int(e["modelTokenLimit"]) if e and e.get("modelTokenLimit") else None


# ---------------- rules ----------------


def _label_selector_as_map(sel: dict | None) -> tuple[dict | None, str | None]:
    if not sel:
        return {}, None
    out = dict(sel.get("matchLabels") or {})
    for expr in sel.get("matchExpressions") or []:
        op = expr.get("operator")
        vals = expr.get("values") or []
        if op == "In":
            if len(vals) != 1:
                return (
                    None,
                    f'operator "{op}" without a single value cannot be converted into the old label selector format',
                )
            out[expr.get("key")] = vals[0]
        else:
            return None, f'"{op}" cannot be converted into the old label selector format'
    return out, None


def _reserved(key: str) -> bool:
    return key in RESERVED_SELECTOR_KEYS


def sanitized_match_labels(ws: dict) -> dict:
    """SanitizedMatchLabels (api/v1beta1/labels.go): matchLabels without KAITO's reserved keys."""
    sel = (ws.get("resource") or {}).get("labelSelector") or {}
    return {k: v for k, v in (sel.get("matchLabels") or {}).items() if not _reserved(k)}


def _mig_profile_error(profile: str) -> str | None:
    """ValidateMIGProfile (pkg/utils/mig/mig.go:80-118)."""
    m = _MIG_RE.match(profile or "")
    if not m:
        return f"invalid MIG profile format \"{profile}\": expected format like '1g.10gb'"
    if int(m.group(1)) == 0:
        return f'invalid MIG profile "{profile}": compute slices must be > 0'
    if int(float(m.group(2))) == 0:
        return f'invalid MIG profile "{profile}": memory must be > 0'
    if profile not in MIG_PROFILES:
        return f'unknown MIG profile "{profile}": must be one of [{" ".join(MIG_PROFILES)}]'
    return None


def _runtime(ws: dict) -> str:
    rt = ((ws.get("metadata") or {}).get("annotations") or {}).get("kaito.sh/runtime", "")
    return "transformers" if rt == "transformers" else "vllm"


def _validate_url(u: str) -> str | None:
    try:
        p = urlparse(u)
    except ValueError:
        return "invalid data source URL"
    if not p.scheme or not p.netloc:
        return "invalid data source URL"
    if p.scheme.lower() not in ("http", "https"):
        return "data source URL must use HTTP or HTTPS"
    host = (p.hostname or "").lower()
    if (
        host == "localhost"
        or host.endswith(".localhost")
        or host in ("metadata.google.internal", "metadata.google", "instance-data.ec2.internal")
    ):
        return "data source URL must not target a local or metadata endpoint"
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if ip.is_loopback or ip.is_private or ip.is_link_local or (ip.is_multicast and ip.is_link_local):
        return "data source URL must not target a loopback, private, or link-local address"
    return None


def _data_source_create(src: dict) -> FieldErrors:
    errs = FieldErrors()
    n = 0
    if src.get("urls"):
        for u in src["urls"]:
            msg = _validate_url(u)
            if msg:
                errs.also(err_invalid(msg, "URLs"))
        n += 1
    if src.get("image"):
        n += 1
    if src.get("volumeSource") is not None:
        n += 1
    if n != 1:
        errs.also(err_generic("Exactly one of URLs, Volume, or Image must be specified", "URLs", "Volume", "Image"))
    return errs


def _data_destination_create(dst: dict) -> FieldErrors:
    errs = FieldErrors()
    n = 0
    if dst.get("image"):
        if not dst.get("imagePushSecret"):
            errs.also(err_missing("Must specify imagePushSecret with destination image"))
        n += 1
    if dst.get("volumeSource") is not None:
        n += 1
    if n != 1:
        errs.also(err_missing("Exactly one of Volume or Image must be specified"))
    return errs


def _adapter(adapter: dict) -> FieldErrors:
    errs = FieldErrors()
    src = adapter.get("source")
    if src is None:
        return err_missing("Source")
    errs.also(_data_source_create(src).via("Adapters"))
    name = src.get("name") or ""
    if not name:
        errs.also(err_missing("Name of Adapter field must be specified"))
    else:
        msgs = dns1123_subdomain_errors(name)
        if msgs:
            errs.also(err_invalid(", ".join(msgs), "adapters.source.name"))
    if not src.get("image") and src.get("volumeSource") is None:
        errs.also(err_generic("Either Image or Volume must be specified for adapter source", "adapters.source"))
    if src.get("urls"):
        errs.also(err_generic("URLs are not supported as adapter source", "adapters.source.urls"))
    strength = adapter.get("strength")
    if strength is None:
        strength = "1.0"
    try:
        s = float(strength)
    except ValueError:
        errs.also(
            err_generic(
                f"Invalid strength value for Adapter '{name}': strconv.ParseFloat: parsing "
                f'"{strength}": invalid syntax',
                "adapter",
            )
        )
        s = 0.0
    if s < 0 or s > 1.0:
        errs.also(err_generic(f"Strength value for Adapter '{name}' must be between 0 and 1", "adapter"))
    return errs


def _duplicate_adapters(adapters: list[dict]) -> FieldErrors:
    errs = FieldErrors()
    seen: set[str] = set()
    for a in adapters:
        n = (a.get("source") or {}).get("name", "")
        if n in seen:
            errs.also(err_generic(f"Duplicate adapter source name found: {n}"))
        seen.add(n)
    return errs


GetConfigMap = Callable[[str, str], "dict | None"]


class WorkspaceValidator:
    def __init__(
        self,
        get_configmap: GetConfigMap,
        *,
        nap: bool = True,
        release_namespace: str = RELEASE_NAMESPACE,
        list_nodes: Callable[[], list[dict]] | None = None,
        settings: Callable[[], object] | None = None,
    ) -> None:
        self.get_configmap = get_configmap
        self._nap = nap
        self.release_namespace = release_namespace
        self.list_nodes = list_nodes or (list)
        # the cluster (node_provisioner, feature_gates), read at each admission
        self.settings = settings

    @property
    def nap(self) -> bool:
        """Node auto-provisioning: off only with nodeProvisioner=byo (cmd/workspace/main.go:176-186)."""
        if self.settings is None:
            return self._nap
        return getattr(self.settings(), "node_provisioner", "") != "byo"

    def _gate(self, name: str) -> bool:
        if self.settings is None:
            return False
        return bool((getattr(self.settings(), "feature_gates", None) or {}).get(name))

    # -- entry point --
    def validate(self, ws: dict, old: dict | None) -> str | None:
        """Return the denial message (without the 'admission webhook ... denied' prefix) or None."""
        name = (ws.get("metadata") or {}).get("name", "")
        errs = FieldErrors()
        msgs = dns1123_label_errors(name)
        if msgs:
            errs.also(err_invalid(", ".join(msgs), "name"))
        if old is None:
            errs.also(self._validate_create(ws))
        else:
            errs.also(self._validate_update(ws, old))
        return errs.error() if errs else None

    # -- create --
    def _validate_create(self, ws: dict) -> FieldErrors:
        errs = FieldErrors()
        inference, tuning = ws.get("inference"), ws.get("tuning")
        resource = ws.get("resource") or {}
        spec = FieldErrors()
        if inference is None and tuning is None:
            spec.also(err_generic("Either Inference or Tuning must be specified, not neither", ""))
        if inference is not None and tuning is not None:
            spec.also(err_generic("Either Inference or Tuning must be specified, but not both", ""))
        if self.nap:
            if not resource.get("instanceType"):
                spec.also(
                    err_missing(
                        "instanceType is required when node auto-provisioning is enabled", "resource.instanceType"
                    )
                )
        elif resource.get("instanceType"):
            spec.also(
                err_invalid(
                    "instanceType must be empty when node auto-provisioning is disabled (BYO scenario)",
                    "resource.instanceType",
                )
            )
        annotations = (ws.get("metadata") or {}).get("annotations") or {}
        fam = annotations.get("kaito.sh/node-image-family")
        if fam is not None and fam.lower() not in ("ubuntu", "azurelinux"):
            spec.also(
                err_invalid(
                    f'unsupported node image family "{fam}", supported values are azurelinux, ubuntu',
                    'metadata.annotations["kaito.sh/node-image-family"]',
                )
            )
        errs.also(spec.via("spec"))
        errs.also(self._annotations(annotations))
        ns = (ws.get("metadata") or {}).get("namespace", "default")
        if inference is not None:
            errs.also(self._resource_with_inference(resource, inference, ws).via("resource"))
            errs.also(self._inference_create(inference, _runtime(ws)).via("inference"))
            errs.also(self._inference_config(ws, inference, ns))
        if tuning is not None:
            errs.also(self._resource_with_tuning(resource).via("resource"))
            errs.also(self._tuning_create(tuning, ns).via("tuning"))
        return errs

    def _annotations(self, annotations: dict) -> FieldErrors:
        errs = FieldErrors()
        pm = annotations.get("kaito.sh/performance-mode")
        if pm is not None and pm not in ("balanced", "interactivity", "throughput"):
            errs.also(
                err_invalid(
                    f'"{pm}" is not a valid performance mode; choose one of: balanced, interactivity, throughput',
                    "metadata.annotations[kaito.sh/performance-mode]",
                )
            )
        lw = annotations.get("kaito.sh/use-local-weights")
        if lw is not None and lw not in ("true", "false"):
            errs.also(
                err_invalid(f'"{lw}" must be "true" or "false"', "metadata.annotations[kaito.sh/use-local-weights]")
            )
        return errs

    def _resource_with_inference(self, resource: dict, inference: dict, ws: dict | None = None) -> FieldErrors:
        errs = FieldErrors()
        preset = inference.get("preset")
        if preset is not None:
            pname = (preset.get("name") or "").lower()
            if not is_valid_preset(pname):
                if is_deprecated(pname):
                    errs.also(err_generic(f"Model {pname} is deprecated and no longer supported", "presetName"))
                return errs
        _mapped, err = _label_selector_as_map(resource.get("labelSelector"))
        if err:
            return errs.also(err_invalid(err, "labelSelector"))
        ml = (resource.get("labelSelector") or {}).get("matchLabels") or {}
        if ml and all(_reserved(k) for k in ml):
            return errs.also(
                err_invalid("matchLabels must contain at least one non-reserved label", "labelSelector.matchLabels")
            )
        if not self.nap:
            if resource.get("partition") is not None:
                return errs.also(self._partition(resource["partition"]))
            if preset is not None:
                return errs.also(self._byo_nodes(ws or {"resource": resource}))
            return errs
        if self.nap:
            if resource.get("partition") is not None:
                return errs.also(
                    err_generic(
                        "GPU partitioning is only supported with BYO nodes (disableNodeAutoProvisioning=true)",
                        "partition",
                    )
                )
            it = resource.get("instanceType") or ""
            if it not in KNOWN_AZURE_SKUS and not it.startswith(("Standard_N", "Standard_D")):
                errs.also(
                    err_invalid(
                        f"Unsupported instance type {it}. Supported SKUs: {', '.join(KNOWN_AZURE_SKUS)}", "instanceType"
                    )
                )
        return errs

    def _partition(self, part: dict) -> FieldErrors:
        """validatePartition (api/v1beta1/workspace_validation.go:693-740, v0.12.0), BYO only."""
        mode = part.get("mode") or ""
        if mode == "mig":
            if not self._gate("enableMIG"):
                return err_generic("MIG support is not enabled, set feature gate enableMIG=true", "partition")
            if part.get("count") is not None:
                return err_invalid("count is only valid for accelerator mode", "partition.count")
            msg = _mig_profile_error(part.get("profile") or "")
            return err_invalid(msg, "partition.profile") if msg else FieldErrors()
        if mode == "accelerator":
            if not self._gate("enableAccelerator"):
                return err_generic(
                    "accelerator partition support is not enabled, set feature gate enableAccelerator=true", "partition"
                )
            errs = FieldErrors()
            if part.get("profile"):
                errs.also(err_invalid("profile is not valid for accelerator mode", "partition.profile"))
            if part.get("count") is None:
                errs.also(err_missing("partition.count"))
            return errs
        return err_invalid(
            f'unsupported partition mode "{mode}", supported modes are "mig" and "accelerator"', "partition.mode"
        )

    def _byo_nodes(self, ws: dict) -> FieldErrors:
        """The BYO node listing for presets (workspace_validation.go:550-598, v0.12.0)."""
        want = sanitized_match_labels(ws)
        nodes = [
            n
            for n in self.list_nodes()
            if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in want.items())
        ]
        if not nodes:
            return err_generic("No nodes found matching the specified label selector")
        first: tuple[str, str, str] | None = None
        for n in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            name, labels = n["metadata"]["name"], n["metadata"].get("labels") or {}
            if any(k not in labels for k in GFD_LABELS):
                return err_generic(
                    f"Failed to get GPU config from nvidia labels on node {name}: missing required "
                    f"nvidia.com labels on node {name}"
                )
            cur = tuple(labels[k] for k in GFD_LABELS)
            if first is None:
                first = cur
            elif cur[0] != first[0]:
                return err_generic(
                    f"Non-uniform GPU product: node {name} has {cur[0]} GPUs, but previous node has "
                    f"{first[0]} GPUs, all nodes must have the same GPU product for homogeneous "
                    f"placement"
                )
            elif cur[1] != first[1]:
                return err_generic(
                    f"Non-uniform GPU count: node {name} has {cur[1]} GPUs, but previous node has {first[1]} GPUs"
                )
        return FieldErrors()

    def _inference_create(self, inference: dict, runtime: str = "vllm") -> FieldErrors:
        errs = FieldErrors()
        preset, template = inference.get("preset"), inference.get("template")
        if preset is None and template is None:
            errs.also(err_missing("Preset or Template must be specified"))
        if preset is not None and template is not None:
            errs.also(err_generic("Preset and Template cannot be set at the same time"))
        adapters = inference.get("adapters") or []
        if preset is not None:
            pname = preset.get("name") or ""
            if not is_valid_preset(pname):
                return errs.also(err_invalid(f"Unsupported inference preset name {pname}", "presetName"))
            # Runtime validation (pkg/model/interface.go:700-718, called at workspace_validation.go:857-866):
            # vLLM cannot apply an adapter strength. Only with a preset, only on CREATE.
            # The gated-model rule (867-875) is not reachable in v0.12 (see docs/simulator.md): not simulated.
            if runtime == "vllm" and any(a.get("strength") is not None for a in adapters):
                errs.also(err_generic("Runtime validation: vLLM does not support adapter strength"))
        if len(adapters) > MAX_ADAPTERS:
            errs.also(err_generic(f"Number of Adapters exceeds the maximum limit, maximum of {MAX_ADAPTERS} allowed"))
        # the per-adapter checks (AdapterSpec.validateCreateorUpdate) run on UPDATE only (v0.12.0:905)
        if adapters:
            errs.also(_duplicate_adapters(adapters))
        return errs

    def _inference_config(self, ws: dict, inference: dict, ns: str) -> FieldErrors:
        if _runtime(ws) != "vllm":
            return FieldErrors()
        cm_name, cm_ns = inference.get("config") or "", ns
        if not cm_name:
            cm_name, cm_ns = "inference-params-template", self.release_namespace
        cm = self.get_configmap(cm_ns, cm_name)
        if cm is None:
            return err_generic(
                f"ConfigMap '{cm_name}' specified in 'config' not found in namespace '{cm_ns}'", "config"
            )
        data = cm.get("data") or {}
        if "inference_config.yaml" not in data:
            return err_missing("inference_config.yaml in ConfigMap")
        try:
            cfg = yaml.safe_load(data["inference_config.yaml"]) or {}
        except yaml.YAMLError as exc:
            return err_generic(f"Failed to parse inference_config.yaml: {exc}", "inference_config.yaml")
        vllm = (cfg.get("vllm") if isinstance(cfg, dict) else None) or {}
        raw = vllm.get("max-model-len") if isinstance(vllm, dict) else None
        preset = inference.get("preset")
        if raw is not None and str(raw).strip() and preset:
            pname = (preset.get("name") or "").lower()
            limit = token_limit(pname) if is_valid_preset(pname) else None
            if limit:
                try:
                    val = int(str(raw).strip())
                except ValueError:
                    return err_invalid(
                        f'max-model-len must be an integer: strconv.Atoi: parsing "{raw}": invalid syntax',
                        "max-model-len",
                    )
                if val > limit:
                    return err_invalid(
                        f"max-model-len {val} exceeds model's maximum supported context window "
                        f"{limit} (ModelTokenLimit)",
                        "max-model-len",
                    )
        return FieldErrors()

    def _resource_with_tuning(self, resource: dict) -> FieldErrors:
        errs = FieldErrors()
        if int(resource.get("count") or 1) > 1:
            errs.also(
                err_invalid(
                    "Tuning does not currently support multinode configurations. Please set the "
                    "node count to 1. Future support with DeepSpeed will allow this.",
                    "count",
                )
            )
        if resource.get("partition") is not None:
            errs.also(err_invalid("GPU partitioning is not supported for tuning workloads", "partition"))
        return errs

    def _tuning_create(self, tuning: dict, ns: str) -> FieldErrors:
        errs = FieldErrors()
        method = tuning.get("method") or ""
        ml = method.lower()
        if ml not in ("lora", "qlora"):
            errs.also(err_invalid(method, "Method"))
        if not tuning.get("config"):
            tmpl = {"lora": "lora-params-template", "qlora": "qlora-params-template"}.get(ml, "")
            if self.get_configmap(self.release_namespace, tmpl) is None:
                errs.also(
                    err_generic(
                        f"Failed to evaluate validateConfigMap: ConfigMap '{tmpl}' specified in 'config' not found in "
                        f"namespace '{self.release_namespace}': config",
                        "Config",
                    )
                )
        elif self.get_configmap(ns, tuning["config"]) is None:
            errs.also(
                err_generic(
                    f"Failed to evaluate validateConfigMap: ConfigMap '{tuning['config']}' specified in 'config' not "
                    f"found in namespace '{ns}': config",
                    "Config",
                )
            )
        if tuning.get("input") is None:
            errs.also(err_missing("Input"))
        else:
            errs.also(_data_source_create(tuning["input"]).via("Input"))
        if tuning.get("output") is None:
            errs.also(err_missing("Output"))
        else:
            errs.also(_data_destination_create(tuning["output"]).via("Output"))
        preset = tuning.get("preset")
        if preset is None:
            errs.also(err_missing("Preset"))
        elif not is_valid_preset(preset.get("name") or ""):
            errs.also(err_invalid(f"Unsupported tuning preset name {preset.get('name') or ''}", "presetName"))
        return errs

    # -- update --
    def _validate_update(self, ws: dict, old: dict) -> FieldErrors:
        errs = FieldErrors()
        spec = FieldErrors()
        if (old.get("inference") is None) != (ws.get("inference") is None):
            spec.also(err_generic("Inference field cannot be toggled once set", "inference"))
        if (old.get("tuning") is None) != (ws.get("tuning") is None):
            spec.also(err_generic("Tuning field cannot be toggled once set", "tuning"))
        errs.also(spec.via("spec"))
        errs.also(self._resource_update(ws.get("resource") or {}, old.get("resource") or {}).via("resource"))
        if ws.get("inference") is not None and old.get("inference") is not None:
            errs.also(self._inference_update(ws["inference"], old["inference"]).via("inference"))
        if ws.get("tuning") is not None and old.get("tuning") is not None:
            errs.also(self._tuning_update(ws["tuning"], old["tuning"]).via("tuning"))
        return errs

    def _resource_update(self, new: dict, old: dict) -> FieldErrors:
        errs = FieldErrors()
        if new.get("count") is not None and old.get("count") is not None and new["count"] != old["count"]:
            errs.also(err_generic("field is immutable", "count"))
        if new.get("partition") != old.get("partition"):
            errs.also(err_generic("field is immutable", "partition"))
        if self.nap:
            if not new.get("instanceType"):
                errs.also(
                    err_missing("instanceType is required when node auto-provisioning is enabled", "instanceType")
                )
            elif old.get("instanceType") and old["instanceType"] != new["instanceType"]:
                errs.also(
                    err_generic(
                        "instanceType cannot be changed once set when node auto-provisioning is enabled", "instanceType"
                    )
                )
        elif new.get("instanceType"):  # BYO (workspace_validation.go:780-823, v0.12.0)
            if not old.get("instanceType"):
                errs.also(
                    err_invalid(
                        "instanceType must be empty when node auto-provisioning is disabled (BYO scenario)",
                        "instanceType",
                    )
                )
            elif old["instanceType"] != new["instanceType"]:
                errs.also(err_invalid("instanceType cannot be changed once set", "instanceType"))
        n, e0 = _label_selector_as_map(new.get("labelSelector"))
        o, e1 = _label_selector_as_map(old.get("labelSelector"))
        if e0 or e1:
            errs.also(err_generic("Only allow matchLabels or 'IN' matchExpression", "labelSelector"))
        elif n != o:
            errs.also(err_generic("field is immutable", "labelSelector"))
        return errs

    def _inference_update(self, new: dict, old: dict) -> FieldErrors:
        errs = FieldErrors()
        if new.get("preset") != old.get("preset"):
            errs.also(err_generic("field is immutable", "preset"))
        if (new.get("template") is None) != (old.get("template") is None):
            errs.also(err_generic("field cannot be unset/set if it was set/unset", "template"))
        adapters = new.get("adapters") or []
        for a in adapters:
            errs.also(_adapter(a))
        if adapters:
            errs.also(_duplicate_adapters(adapters))
        return errs

    def _tuning_update(self, new: dict, old: dict) -> FieldErrors:
        errs = FieldErrors()
        if new.get("input") is None:
            errs.also(err_missing("Input"))
        elif (old.get("input") or {}).get("name") != new["input"].get("name"):
            errs.also(err_invalid("During tuning Name field cannot be changed once set", "Name").via("Input"))
        if new.get("output") is None:
            errs.also(err_missing("Output"))
        if new.get("preset") != old.get("preset"):
            errs.also(err_generic("Preset cannot be changed", "Preset"))
        if (new.get("method") or "").lower() != (old.get("method") or "").lower():
            errs.also(err_generic("Method cannot be changed", "Method"))
        return errs


def denial_message(reason: str) -> str:
    # Knative's validation admission wraps the FieldError (website/docs/model-mirror-streaming.md:256, v0.12.0)
    return f'admission webhook "{WEBHOOK_NAME}" denied the request: validation failed: {reason}'
