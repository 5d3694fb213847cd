"""`kubectl kaito models list|describe`: offline, merged with the cluster's ConfigMap, and when the cluster is down."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import run_cli

CM_NAME = "kaito-supported-models"
CM_NS = "kaito-workspace"


@pytest.fixture
def no_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def rows(stdout: str) -> dict[str, list[str]]:
    """Table rows keyed by NAME (columns split on runs of 3+ spaces)."""
    import re

    lines = stdout.strip().splitlines()
    return {re.split(r" {3,}", ln)[0]: re.split(r" {3,}", ln.strip()) for ln in lines[1:]}


def test_list_offline_without_a_kubeconfig(no_kubeconfig: None) -> None:
    r = run_cli("models", "list")
    assert r.exit_code == 0
    assert r.stderr == ""  # no kubeconfig at all is not worth a warning
    header = r.stdout.splitlines()[0].split()
    assert header == ["NAME", "TYPE", "RUNTIME", "HF-TOKEN", "GPU-MEM"]
    table = rows(r.stdout)
    assert table["phi-4-mini-instruct"] == ["phi-4-mini-instruct", "text-generation", "vllm,transformers", "no", "8Gi"]
    assert table["llama-3.1-8b-instruct"][3] == "yes"
    assert table["Qwen/Qwen3.5-9B"][2] == "vllm"
    assert "falcon-7b" not in table and "base" not in table and "phi-2" not in table
    names = list(table)
    assert names.index("phi-4") < names.index("Qwen/Qwen3.5-9B")  # short names first


def test_list_all_includes_refused_and_deprecated(no_kubeconfig: None) -> None:
    r = run_cli("models", "list", "--all", "-o", "wide")
    assert r.exit_code == 0
    table = rows(r.stdout)
    assert table["falcon-7b"][-1] == "refused-by-v0.11+"
    assert "deprecated" in table["phi-2"][-1]
    assert r.stdout.splitlines()[0].split()[5:] == ["HF-ID", "TOKENS", "ARCH", "TAG", "NOTES"]
    assert table["phi-4-mini-instruct"][5:9] == ["microsoft/Phi-4-mini-instruct", "131072", "Phi3ForCausalLM", "0.2.0"]


def test_filters_and_json(no_kubeconfig: None) -> None:
    r = run_cli("models", "list", "--runtime", "transformers", "--type", "text-generation", "-o", "json")
    assert r.exit_code == 0
    models = json.loads(r.stdout)
    assert models and all("transformers" in m["runtimes"] and m["type"] == "text-generation" for m in models)
    phi = next(m for m in models if m["name"] == "phi-4-mini-instruct")
    assert phi["hfId"] == "microsoft/Phi-4-mini-instruct" and phi["gpuMemory"] == "8Gi" and phi["tunable"] is True
    assert {"gemma-3-4b-instruct"} & {m["name"] for m in models} == set()  # image-text-to-text filtered out


def test_yaml_output(no_kubeconfig: None) -> None:
    r = run_cli("models", "list", "--type", "any-to-any", "-o", "yaml")
    assert r.exit_code == 0
    docs = yaml.safe_load(r.stdout)
    assert docs and {d["type"] for d in docs} == {"any-to-any"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "video"], "unknown --type 'video'"),
        (["--runtime", "tgi"], "invalid --runtime 'tgi'"),
        (["-o", "table"], "unknown output format"),
    ],
)
def test_list_refusals(no_kubeconfig: None, args: list[str], message: str) -> None:
    r = run_cli("models", "list", *args)
    assert r.exit_code == 2 and r.stdout == ""
    assert message in r.stderr


def test_list_merges_the_clusters_configmap(sim: Any) -> None:
    cm = sim.get("v1", "ConfigMap", CM_NAME, namespace=CM_NS)
    doc = yaml.safe_load(cm["data"]["SupportedModels"])
    doc["models"].append(
        {
            "name": "llama-2-7b",
            "type": "text-generation",
            "runtime": "tfs",
            "tag": "0.0.3",
            "version": "https://huggingface.co/meta-llama/Llama-2-7b-hf/commit/abc",
        }
    )
    for m in doc["models"]:
        if m["name"] == "phi-4-mini-instruct":
            m["tag"] = "9.9.9"
    cm["data"]["SupportedModels"] = yaml.safe_dump(doc)
    sim.apply(cm)
    r = run_cli("models", "list", "-o", "wide")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    table = rows(r.stdout)
    assert table["llama-2-7b"][5] == "meta-llama/Llama-2-7b-hf" and table["llama-2-7b"][-1] == "cluster"
    assert table["phi-4-mini-instruct"][8] == "9.9.9"
    assert any(q.path == f"/api/v1/namespaces/{CM_NS}/configmaps/{CM_NAME}" for q in sim.requests)

    offline = rows(run_cli("models", "list", "--offline").stdout)
    assert "llama-2-7b" not in offline


def test_list_without_kaito_uses_the_bundled_list_quietly(sim_factory: Any) -> None:
    sim_factory(kaito=False)
    r = run_cli("models", "list")
    assert r.exit_code == 0 and r.stderr == ""
    assert "phi-4-mini-instruct" in rows(r.stdout)


def test_unreachable_cluster_is_a_warning_not_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "dead",
                "clusters": [
                    {
                        "name": "dead",
                        "cluster": {"server": f"https://127.0.0.1:{port}", "insecure-skip-tls-verify": True},
                    }
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("HOME", str(tmp_path))
    r = run_cli("models", "list")
    assert r.exit_code == 0
    assert "warning: could not read the cluster's model list" in r.stderr
    assert "phi-4-mini-instruct" in rows(r.stdout)


def test_describe_short_name(no_kubeconfig: None) -> None:
    r = run_cli("models", "describe", "phi-4-mini-instruct")
    assert r.exit_code == 0
    assert "Hugging Face ID:  microsoft/Phi-4-mini-instruct" in r.stdout
    assert "GPU memory:       8Gi (weights 7.15Gi" in r.stdout
    assert "Tuning:           yes (qlora, lora)" in r.stdout
    assert "kubectl kaito deploy --workspace-name phi-4-mini-instruct --model phi-4-mini-instruct" in r.stdout


def test_describe_hf_id_json(no_kubeconfig: None) -> None:
    r = run_cli("models", "describe", "qwen/qwen3.5-9b", "-o", "json")
    assert r.exit_code == 0
    obj = json.loads(r.stdout)
    assert obj["name"] == "Qwen/Qwen3.5-9B" and obj["tokenLimit"] == 262144 and obj["runtimes"] == ["vllm"]


def test_describe_gated_model_mentions_the_secret(no_kubeconfig: None) -> None:
    r = run_cli("models", "describe", "llama-3.1-8b-instruct")
    assert "HF token needed:  yes" in r.stdout
    assert "--model-access-secret <secret>" in r.stdout


def test_describe_unknown_is_not_found_with_suggestions(no_kubeconfig: None) -> None:
    r = run_cli("models", "describe", "phi4-mini", "-o", "json")
    assert r.exit_code == 3 and r.stdout == ""
    assert "error: model 'phi4-mini' is not in the catalog" in r.stderr
    assert "did you mean phi-4-mini-instruct" in r.stderr
    err = json.loads(r.stderr.strip().splitlines()[-1])
    assert err["code"] == "NOT_FOUND" and "phi-4-mini-instruct" in err["details"]["suggestions"]


def test_describe_unknown_hf_id_says_it_can_still_be_deployed(no_kubeconfig: None) -> None:
    r = run_cli("models", "describe", "someorg/some-model")
    assert r.exit_code == 3
    assert "can still be deployed (best effort)" in r.stderr
