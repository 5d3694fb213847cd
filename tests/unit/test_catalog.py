"""The model catalog: bundled data, the legacy-name mapping, the cluster merge, deploy's model check."""

from __future__ import annotations

import pytest

from kubectl_kaito import catalog
from kubectl_kaito.errors import NotFoundError, UsageError


@pytest.fixture(scope="module")
def cat() -> catalog.Catalog:
    return catalog.load_bundled()


def test_bundled_catalog_is_read_from_the_package_data() -> None:
    text = catalog.read_data(catalog.CATALOG_FILE)
    assert "microsoft/Phi-4-mini-instruct" in text
    assert "phi-4-mini-instruct" in catalog.read_data(catalog.SUPPORTED_FILE)


def test_derived_legacy_names_are_exactly_kaitos_25(cat: catalog.Catalog) -> None:
    accepted_short = {m.name for m in cat.models if m.short and m.accepted}
    assert accepted_short == catalog.LEGACY_NAMES
    assert len(accepted_short) == 25


@pytest.mark.parametrize(
    ("short", "hf_id"),
    [
        ("phi-4-mini-instruct", "microsoft/Phi-4-mini-instruct"),
        ("phi-4", "microsoft/phi-4"),
        ("gemma-3-4b-instruct", "google/gemma-3-4b-it"),
        ("mistral-7b", "mistralai/Mistral-7B-v0.3"),
        ("qwen2.5-coder-7b-instruct", "Qwen/Qwen2.5-Coder-7B-Instruct"),
    ],
)
def test_short_names_map_to_their_catalog_hf_id(cat: catalog.Catalog, short: str, hf_id: str) -> None:
    m = cat.find(short)
    assert m is not None and m.hf_id == hf_id
    assert cat.find(hf_id) is m  # the HF ID finds the same row (no duplicate row for it)
    assert cat.find(hf_id.upper()) is m  # case-insensitive, as KAITO lower-cases names


def test_hf_ids_covered_by_a_short_name_are_not_listed_twice(cat: catalog.Catalog) -> None:
    names = [m.name.lower() for m in cat.models]
    assert "microsoft/phi-4-mini-instruct" not in names
    assert len(names) == len(set(names))
    assert "qwen/qwen3.5-9b" in names  # catalog-only HF IDs are rows of their own


def test_model_fields(cat: catalog.Catalog) -> None:
    phi = cat.get("phi-4-mini-instruct")
    assert phi.type == "text-generation"
    assert phi.runtimes == ("vllm", "transformers")
    assert phi.model_file_size == "7.15Gi"
    assert phi.gpu_memory == "8Gi"  # 7.15Gi rounded up
    assert phi.token_limit == 131072
    assert phi.tunable and phi.accepted and not phi.hf_token
    llama = cat.get("llama-3.1-8b-instruct")
    assert llama.hf_token is True
    qwen = cat.get("Qwen/Qwen3.5-9B")
    assert qwen.runtimes == ("vllm",) and qwen.type == "image-text-to-text" and not qwen.tunable


def test_falcon_and_phi2_are_listed_only_with_all(cat: catalog.Catalog) -> None:
    falcon = cat.get("falcon-7b")
    assert falcon.accepted is False and falcon.hf_id == "tiiuae/falcon-7b"
    assert cat.get("phi-2").deprecated is True
    default = {m.name for m in cat.filter()}
    assert "falcon-7b" not in default and "phi-2" not in default and "base" not in default
    assert {"falcon-7b", "phi-2"} <= {m.name for m in cat.filter(include_all=True)}


def test_filters(cat: catalog.Catalog) -> None:
    tfs = cat.filter(runtime="transformers")
    assert tfs and all("transformers" in m.runtimes for m in tfs)
    assert all(m.short for m in tfs)
    gen = cat.filter(type_="TEXT-generation")
    assert gen and all(m.type == "text-generation" for m in gen)


@pytest.mark.parametrize(
    ("value", "gib"),
    [("7.15Gi", 7.15), ("512Mi", 0.5), ("2Ti", 2048.0), ("1G", 1e9 / 1024**3), ("bogus", None), (None, None)],
)
def test_parse_size(value: str | None, gib: float | None) -> None:
    got = catalog.parse_size_gib(value)
    assert got == pytest.approx(gib) if gib is not None else got is None


def test_hf_id_from_version() -> None:
    url = "https://huggingface.co/microsoft/phi-4/commit/187ef0342fff0eb3333be9f00389385e95ef0b61"
    assert catalog.hf_id_from_version(url) == "microsoft/phi-4"
    assert catalog.hf_id_from_version(None) is None


def test_suggestions(cat: catalog.Catalog) -> None:
    assert "phi-4-mini-instruct" in cat.suggest("phi4-mini-instruct")
    assert cat.suggest("Qwen/Qwen3.5-8B")[0].startswith("Qwen/Qwen3.5-")
    with pytest.raises(NotFoundError) as e:
        cat.get("phi4")
    assert "phi-4" in (e.value.hint or "")


# ---- merge with the cluster's ConfigMap --------------------------------------------------------

CLUSTER_YAML = """
models:
  - name: base
    type: text-generation
    runtime: tfs
    tag: 0.9.9
  - name: phi-4-mini-instruct
    type: text-generation
    version: https://huggingface.co/microsoft/Phi-4-mini-instruct/commit/abc
    runtime: tfs
    tag: 0.3.0
    downloadAuthRequired: true
  - name: llama-2-7b
    type: text-generation
    version: https://huggingface.co/meta-llama/Llama-2-7b-hf/commit/abc
    runtime: tfs
    tag: 0.0.1
"""


def test_merge_cluster_overrides_and_adds(cat: catalog.Catalog) -> None:
    merged = catalog.merge_cluster(cat, CLUSTER_YAML)
    assert merged.cluster_read
    phi = merged.get("phi-4-mini-instruct")
    assert phi.tag == "0.3.0" and phi.hf_token is True
    assert phi.model_file_size == "7.15Gi"  # bundled facts kept
    assert "cluster" in phi.sources
    old = merged.get("llama-2-7b")
    assert old.accepted and old.hf_id == "meta-llama/Llama-2-7b-hf" and old.sources == ("cluster",)
    assert merged.find("base") is None
    assert cat.get("phi-4-mini-instruct").tag == "0.2.0"  # the bundled catalog is not changed


def test_merge_cluster_refuses_an_empty_document(cat: catalog.Catalog) -> None:
    with pytest.raises(ValueError):
        catalog.merge_cluster(cat, "models: []\n")


def test_configmap_text() -> None:
    assert catalog.configmap_text({"data": {"SupportedModels": CLUSTER_YAML}}) == CLUSTER_YAML
    assert catalog.configmap_text({"data": {}}) is None
    assert catalog.configmap_text({}) is None


# ---- deploy's model check ------------------------------------------------------------------------


def test_check_short_name(cat: catalog.Catalog) -> None:
    check = catalog.check_model("Phi-4-Mini-Instruct", cat)
    assert check.preset == "phi-4-mini-instruct" and check.warning is None


def test_check_hf_id_in_catalog_keeps_the_users_spelling(cat: catalog.Catalog) -> None:
    check = catalog.check_model("microsoft/Phi-4-mini-instruct", cat)
    assert check.preset == "microsoft/Phi-4-mini-instruct" and check.warning is None


def test_check_unknown_hf_id_is_best_effort(cat: catalog.Catalog) -> None:
    check = catalog.check_model("someorg/some-model", cat)
    assert check.preset == "someorg/some-model" and check.model is None
    assert check.warning and "best effort" in check.warning and "huggingface.co" in check.warning


@pytest.mark.parametrize("value", ["", "  ", "org/", "/name", "a/b/c", "org/na me"])
def test_check_refuses_malformed(cat: catalog.Catalog, value: str) -> None:
    with pytest.raises(UsageError):
        catalog.check_model(value, cat)


def test_check_unknown_short_name_suggests(cat: catalog.Catalog) -> None:
    with pytest.raises(UsageError) as e:
        catalog.check_model("phi-4-mini", cat)
    assert "unknown model 'phi-4-mini'" in e.value.message
    assert "phi-4-mini-instruct" in (e.value.hint or "")
    assert e.value.exit_code == 2


def test_check_refuses_falcon_with_the_hf_id_as_alternative(cat: catalog.Catalog) -> None:
    with pytest.raises(UsageError) as e:
        catalog.check_model("falcon-7b", cat)
    assert "v0.11" in e.value.message
    assert "tiiuae/falcon-7b" in (e.value.hint or "")


def test_check_refuses_base(cat: catalog.Catalog) -> None:
    with pytest.raises(UsageError, match="runtime image"):
        catalog.check_model("base", cat)


def test_check_tuning(cat: catalog.Catalog) -> None:
    assert catalog.check_model("phi-4-mini-instruct", cat, tuning=True).preset == "phi-4-mini-instruct"
    assert catalog.check_model("microsoft/phi-4", cat, tuning=True).preset == "microsoft/phi-4"
    for model in ("llama-3.1-8b-instruct", "Qwen/Qwen3.5-9B", "someorg/unknown"):
        with pytest.raises(UsageError, match="cannot be fine-tuned") as e:
            catalog.check_model(model, cat, tuning=True)
        assert "phi-4-mini-instruct" in (e.value.hint or "")
