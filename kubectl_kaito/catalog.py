"""The model catalog: bundled KAITO catalogs, merged with the cluster's ConfigMap (pure).

Two files ship in `kubectl_kaito/data/` (KAITO v0.12.0, Apache-2.0):

- `model_catalog.yaml`: the curated Hugging Face models (HF IDs, weight size, token limit,
  architectures). Since KAITO v0.11 this is the real preset catalog.
- `supported_models.yaml`: the older list of short preset names (tag, runtime,
  downloadAuthRequired, deprecated). The cluster's ConfigMap `kaito-supported-models`
  (key `SupportedModels`) carries the same data for the installed version.

KAITO v0.11+ accepts a short name only when it is in its `LegacyBuiltinToCatalog` map
(short name -> HF ID); we derive that map from the two files (the HF ID is the repo in
the short name's `version` URL) and check it against the 25 names KAITO lists. Any
`org/name` HF ID is accepted too (best effort outside the catalog).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from kubectl_kaito.errors import NotFoundError, UsageError

CATALOG_FILE = "model_catalog.yaml"
SUPPORTED_FILE = "supported_models.yaml"
CONFIGMAP_KEY = "SupportedModels"

# The 25 short names of KAITO v0.12's LegacyBuiltinToCatalog (pkg/utils/plugin/plugin.go).
# The mapping itself is derived from the data files; this list guards that derivation.
LEGACY_NAMES = frozenset(
    {
        "phi-4",
        "phi-4-mini-instruct",
        "llama-3.1-8b-instruct",
        "llama-3.3-70b-instruct",
        "deepseek-r1-distill-llama-8b",
        "deepseek-r1-distill-qwen-14b",
        "deepseek-r1-0528",
        "deepseek-v3-0324",
        "phi-3-mini-4k-instruct",
        "phi-3-mini-128k-instruct",
        "phi-3-medium-4k-instruct",
        "phi-3-medium-128k-instruct",
        "phi-3.5-mini-instruct",
        "qwen2.5-coder-7b-instruct",
        "qwen2.5-coder-32b-instruct",
        "gpt-oss-20b",
        "gpt-oss-120b",
        "gemma-3-4b-instruct",
        "gemma-3-27b-instruct",
        "mistral-7b",
        "mistral-7b-instruct",
        "ministral-3-3b-instruct",
        "ministral-3-8b-instruct",
        "ministral-3-14b-instruct",
        "mistral-large-3-675b-instruct",
    }
)

# Presets with tuning parameters in KAITO (transformer_runtime_tuning_parameters.go).
TUNABLE = frozenset(
    {
        "phi-4",
        "phi-4-mini-instruct",
        "phi-3-mini-4k-instruct",
        "phi-3-mini-128k-instruct",
        "phi-3-medium-4k-instruct",
        "phi-3-medium-128k-instruct",
        "phi-3.5-mini-instruct",
        "mistral-7b",
        "qwen2.5-coder-7b-instruct",
        "qwen2.5-coder-32b-instruct",
    }
)

RUNTIMES = ("vllm", "transformers")
_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_HF_URL = re.compile(r"https?://huggingface\.co/([^/]+/[^/]+)")
_SIZE = re.compile(r"^\s*([0-9.]+)\s*([KMGT]i?)?B?\s*$")
_UNIT_GIB = {
    None: 1 / 1024**3,
    "K": 1e3 / 1024**3,
    "Ki": 1 / 1024**2,
    "M": 1e6 / 1024**3,
    "Mi": 1 / 1024,
    "G": 1e9 / 1024**3,
    "Gi": 1.0,
    "T": 1e12 / 1024**3,
    "Ti": 1024.0,
}


@dataclass(frozen=True)
class Model:
    """One model as `models list` shows it; `name` is what goes into `preset.name`."""

    name: str
    hf_id: str | None = None
    type: str | None = None
    runtimes: tuple[str, ...] = ("vllm",)
    hf_token: bool = False
    model_file_size: str | None = None  # the weights, as the catalog writes it ("7.15Gi")
    token_limit: int | None = None
    architectures: tuple[str, ...] = ()
    quant_method: str | None = None
    tag: str | None = None
    deprecated: bool = False
    accepted: bool = True  # accepted as preset.name by KAITO v0.11+
    tunable: bool = False
    license: str | None = None
    url: str | None = None
    sources: tuple[str, ...] = field(default=())

    @property
    def short(self) -> bool:
        """A legacy short name (no `/`)."""
        return "/" not in self.name

    @property
    def gpu_memory_gib(self) -> float | None:
        """The weights in GiB: the least total GPU memory KAITO's webhook accepts for this model."""
        return parse_size_gib(self.model_file_size)

    @property
    def gpu_memory(self) -> str:
        """GPU-MEM column: the weight size rounded up to a whole Gi, `-` when unknown."""
        gib = self.gpu_memory_gib
        if gib is None:
            return "-"
        return f"{int(-(-gib // 1))}Gi"

    def to_dict(self) -> dict[str, Any]:
        """The JSON/YAML form (camelCase, like Kubernetes)."""
        return {
            "name": self.name,
            "hfId": self.hf_id,
            "type": self.type,
            "runtimes": list(self.runtimes),
            "hfTokenRequired": self.hf_token,
            "gpuMemory": None if self.gpu_memory_gib is None else self.gpu_memory,
            "modelFileSize": self.model_file_size,
            "tokenLimit": self.token_limit,
            "architectures": list(self.architectures),
            "quantMethod": self.quant_method,
            "tag": self.tag,
            "deprecated": self.deprecated,
            "accepted": self.accepted,
            "tunable": self.tunable,
            "license": self.license,
            "url": self.url,
            "sources": list(self.sources),
        }


def parse_size_gib(value: str | None) -> float | None:
    """`7.15Gi` -> 7.15; `500Mi` -> 0.488; None/garbage -> None."""
    if not value:
        return None
    m = _SIZE.match(str(value))
    if not m:
        return None
    return float(m.group(1)) * _UNIT_GIB[m.group(2)]


def hf_id_from_version(version: str | None) -> str | None:
    """`https://huggingface.co/microsoft/phi-4/commit/...` -> `microsoft/phi-4`."""
    m = _HF_URL.match(version or "")
    return m.group(1) if m else None


def is_hf_id(name: str) -> bool:
    """`org/name` as KAITO accepts it (one `/`, both parts non-empty, HF's characters)."""
    return bool(_HF_ID.match(name))


class Catalog:
    """The merged list with case-insensitive lookup by short name or HF ID."""

    def __init__(self, models: Iterable[Model], cluster_read: bool = False) -> None:
        self.models: list[Model] = sorted(models, key=lambda m: (not m.short, m.name.lower()))
        self.cluster_read = cluster_read
        self._by_key: dict[str, Model] = {}
        for m in self.models:
            self._by_key.setdefault(m.name.lower(), m)
        for m in self.models:  # an HF ID also finds its short name's entry (and vice versa)
            if m.hf_id:
                self._by_key.setdefault(m.hf_id.lower(), m)

    def find(self, name: str) -> Model | None:
        """The model for a short name or HF ID (case-insensitive, as KAITO lower-cases names)."""
        return self._by_key.get(name.strip().lower())

    def accepted_names(self) -> list[str]:
        """Every name KAITO v0.11+ accepts from this catalog (short names and HF IDs)."""
        names = [m.name for m in self.models if m.accepted]
        names += [m.hf_id for m in self.models if m.accepted and m.hf_id and m.hf_id != m.name]
        return names

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """The closest accepted names (difflib), for `did you mean`."""
        pool = {c.lower(): c for c in self.accepted_names()}
        key = name.strip().lower()
        hits = difflib.get_close_matches(key, list(pool), n=n, cutoff=0.5)
        if not hits and "/" in key:  # `org/typo`: compare the part after the org
            tails = {c.split("/", 1)[1]: c for c in pool if "/" in c}
            hits = [tails[t] for t in difflib.get_close_matches(key.split("/", 1)[1], list(tails), n=n, cutoff=0.5)]
        return [pool[h] for h in hits]

    def get(self, name: str) -> Model:
        """Like find, but an unknown name is NotFoundError (exit 3) with suggestions."""
        m = self.find(name)
        if m is None:
            raise NotFoundError(
                f"model {name!r} is not in the catalog",
                hint=_did_you_mean(self.suggest(name)) + " (see `kubectl kaito models list`)",
                details={"model": name, "suggestions": self.suggest(name)},
            )
        return m

    def filter(self, *, type_: str | None = None, runtime: str | None = None, include_all: bool = False) -> list[Model]:
        """`--type`/`--runtime` filters; without include_all, names KAITO v0.11+ refuses are left out."""
        out = []
        for m in self.models:
            if not include_all and (not m.accepted or m.deprecated):
                continue
            if type_ and (m.type or "").lower() != type_.lower():
                continue
            if runtime and runtime.lower() not in m.runtimes:
                continue
            out.append(m)
        return out

    def types(self) -> list[str]:
        """The distinct model types (for error hints)."""
        return sorted({m.type for m in self.models if m.type})


def _did_you_mean(suggestions: list[str]) -> str:
    if not suggestions:
        return "no similar name found"
    return "did you mean " + ", ".join(suggestions) + "?"


# ---- loading ---------------------------------------------------------------------------


def _yaml_load(text: str) -> Any:
    import yaml  # noqa: PLC0415  (only the catalog commands pay for PyYAML)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def read_data(name: str) -> str:
    """A bundled data file from the package (works offline, from a wheel or a zip)."""
    from importlib import resources  # noqa: PLC0415

    return (resources.files("kubectl_kaito") / "data" / name).read_text(encoding="utf-8")


def _entries(doc: Any) -> list[dict[str, Any]]:
    models = (doc or {}).get("models") if isinstance(doc, dict) else None
    return [m for m in models or [] if isinstance(m, dict) and m.get("name")]


def build(catalog_doc: Any, supported_doc: Any) -> Catalog:
    """Merge the two documents: one row per legacy short name, one per remaining catalog HF ID.

    Short names whose HF ID is not in the catalog (falcon-*, phi-2) stay listed with
    accepted=False: KAITO v0.11+ refuses them.
    """
    hf_entries = {str(e["name"]).lower(): e for e in _entries(catalog_doc)}
    covered: set[str] = set()
    models: list[Model] = []
    for e in _entries(supported_doc):
        name = str(e["name"])
        if name == "base":  # the runtime image, not a model
            continue
        hf_id = hf_id_from_version(e.get("version"))
        cat = hf_entries.get(hf_id.lower()) if hf_id else None
        if cat is not None:
            covered.add(str(cat["name"]).lower())
            hf_id = str(cat["name"])  # the catalog's spelling
        models.append(_short_model(name, e, hf_id, cat))
    for key, cat in hf_entries.items():
        if key not in covered:
            models.append(_hf_model(cat))
    return Catalog(models)


def _short_model(name: str, e: dict[str, Any], hf_id: str | None, cat: dict[str, Any] | None) -> Model:
    accepted = cat is not None and name.lower() in LEGACY_NAMES
    base = _hf_model(cat) if cat is not None else Model(name=name)
    return replace(
        base,
        name=name,
        hf_id=hf_id,
        type=base.type or e.get("type"),
        # the legacy presets keep KAITO's transformers parameters next to vLLM's
        runtimes=RUNTIMES if e.get("runtime") == "tfs" else ("vllm",),
        hf_token=bool(e.get("downloadAuthRequired")),
        tag=str(e["tag"]) if e.get("tag") is not None else None,
        deprecated=bool(e.get("deprecated")),
        accepted=accepted,
        tunable=name.lower() in TUNABLE,
        sources=("supported_models",) + (("model_catalog",) if cat is not None else ()),
    )


def _hf_model(cat: dict[str, Any]) -> Model:
    token_limit = cat.get("modelTokenLimit")
    return Model(
        name=str(cat["name"]),
        hf_id=str(cat["name"]),
        type=cat.get("pipelineTag"),
        runtimes=("vllm",),  # catalog models are served through KAITO's vLLM preset generator
        hf_token=False,
        model_file_size=cat.get("modelFileSize"),
        token_limit=int(token_limit) if token_limit else None,
        architectures=tuple(cat.get("architectures") or ()),
        quant_method=cat.get("quantMethod"),
        license=cat.get("license"),
        url=cat.get("description") if str(cat.get("description", "")).startswith("http") else None,
        sources=("model_catalog",),
    )


@lru_cache(maxsize=1)
def load_bundled() -> Catalog:
    """The catalog shipped in the package (cached: deploy and models both read it)."""
    return build(_yaml_load(read_data(CATALOG_FILE)), _yaml_load(read_data(SUPPORTED_FILE)))


def configmap_text(configmap: dict[str, Any]) -> str | None:
    """The `SupportedModels` document of the `kaito-supported-models` ConfigMap, if any."""
    data = configmap.get("data") or {}
    text = data.get(CONFIGMAP_KEY)
    return text if isinstance(text, str) and text.strip() else None


def merge_cluster(catalog: Catalog, supported_text: str) -> Catalog:
    """Overlay the installed KAITO's supported-models list on the bundled catalog.

    The cluster wins for what it knows about a short name (tag, HF-token need,
    deprecated); a short name only the cluster lists is added (an older or newer KAITO),
    with its HF ID from the `version` URL and sizes from the bundled catalog when known.
    """
    doc = _yaml_load(supported_text)
    entries = _entries(doc)
    if not entries:
        raise ValueError("the ConfigMap's SupportedModels holds no models")
    models = {m.name.lower(): m for m in catalog.models}
    for e in entries:
        name = str(e["name"])
        if name == "base":
            continue
        old = models.get(name.lower())
        if old is not None and old.short:
            models[name.lower()] = replace(
                old,
                tag=str(e["tag"]) if e.get("tag") is not None else old.tag,
                hf_token=bool(e.get("downloadAuthRequired")),
                deprecated=bool(e.get("deprecated")),
                sources=tuple(dict.fromkeys(old.sources + ("cluster",))),
            )
            continue
        hf_id = hf_id_from_version(e.get("version"))
        known = catalog.find(hf_id) if hf_id else None
        base = known if known is not None else Model(name=name, hf_id=hf_id, type=e.get("type"))
        models[name.lower()] = replace(
            base,
            name=name,
            hf_id=hf_id,
            runtimes=RUNTIMES if e.get("runtime") == "tfs" else ("vllm",),
            hf_token=bool(e.get("downloadAuthRequired")),
            tag=str(e["tag"]) if e.get("tag") is not None else None,
            deprecated=bool(e.get("deprecated")),
            accepted=True,  # the installed KAITO lists it, so it knows it
            tunable=name.lower() in TUNABLE,
            sources=("cluster",),
        )
    return Catalog(models.values(), cluster_read=True)


# ---- deploy's model check ----------------------------------------------------------------


@dataclass(frozen=True)
class ModelCheck:
    """What deploy writes into preset.name, and a warning to show (or None)."""

    preset: str
    model: Model | None
    warning: str | None = None


def check_model(name: str, catalog: Catalog, *, tuning: bool = False) -> ModelCheck:
    """Validate `--model` before anything is sent; UsageError (exit 2) with suggestions.

    Short names must be ones KAITO v0.11+ accepts; `org/name` HF IDs pass (a warning when
    the bundled catalog does not know them). Tuning needs a tuning-capable preset.
    """
    value = name.strip()
    if not value:
        raise UsageError("--model must not be empty", hint="see `kubectl kaito models list`")
    found = catalog.find(value)
    if "/" in value:
        if not is_hf_id(value):
            raise UsageError(
                f"invalid model {name!r}: a Hugging Face ID has the form org/name",
                hint="for example microsoft/Phi-4-mini-instruct; see `kubectl kaito models list`",
            )
        check = ModelCheck(value, found)
        if found is None:
            check = ModelCheck(
                value,
                None,
                f"model {value} is not in the bundled catalog: best effort, KAITO fetches its metadata from "
                "huggingface.co (its architecture must be one vLLM supports)",
            )
    else:
        if value.lower() == "base":
            raise UsageError("`base` is KAITO's runtime image, not a model", hint="see `kubectl kaito models list`")
        if found is None:
            sugg = catalog.suggest(value)
            raise UsageError(
                f"unknown model {name!r}",
                hint=_did_you_mean(sugg)
                + " A Hugging Face ID (org/name) is accepted too; see `kubectl kaito models list`",
                details={"model": name, "suggestions": sugg},
            )
        if not found.accepted:
            alt = f"the Hugging Face ID {found.hf_id} (best effort)" if found.hf_id else "another model"
            raise UsageError(
                f"model {found.name!r} is no longer accepted by KAITO v0.11+ "
                "(it is not one of the legacy preset names)",
                hint=f"use {alt}; see `kubectl kaito models list`",
                details={"model": found.name},
            )
        check = ModelCheck(found.name, found)  # KAITO lower-cases short names: write the canonical one
    if tuning:
        tunable = check.model is not None and check.model.tunable
        if not tunable:
            names = ", ".join(sorted(TUNABLE))
            raise UsageError(
                f"model {value!r} cannot be fine-tuned by KAITO",
                hint=f"tuning presets: {names}",
                details={"model": value},
            )
    return check
