"""`deploy --dry-run` manifests validate against the bundled CRD (kubectl_kaito/data/kaito.sh_workspaces.yaml),
over a table of flag combinations that uses every deploy flag that writes the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from tests.crd_schema import validate, validate_object
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
CRD: dict[str, Any] = yaml.safe_load((ROOT / "kubectl_kaito" / "data" / "kaito.sh_workspaces.yaml").read_text())
SKU = ("--instance-type", "Standard_NC24ads_A100_v4")
TUNE = ("--tuning", "--model", "phi-4-mini-instruct", *SKU)

# (id, flags after `deploy w`) -- files named here are written by the `files` fixture.
ROWS: list[tuple[str, tuple[str, ...]]] = [
    ("preset", ("--model", "phi-4-mini-instruct", *SKU, "--namespace", "team-a")),
    (
        "hf-id-count-selector",
        (
            "--model",
            "Qwen/Qwen3-0.6B",
            *SKU,
            "--count",
            "2",
            "--label-selector",
            "apps=q,tier=gpu",
            "--preferred-nodes",
            "n1,n2",
        ),
    ),
    ("secrets", ("--model", "llama-3.1-8b-instruct", *SKU, "--model-access-secret", "hf", "--image-pull-secret", "p")),
    (
        "adapters-image",
        ("--model", "phi-4-mini-instruct", *SKU, "--adapter", "a=r.io/a:1,pull-secret=pull", "--adapter", "b=r.io/b:1"),
    ),
    (
        "adapter-strength-transformers",
        ("--model", "phi-4-mini-instruct", *SKU, "--runtime", "transformers", "--adapter", "a=r.io/a:1,strength=0.7"),
    ),
    ("adapter-pvc", ("--model", "phi-4-mini-instruct", *SKU, "--adapter", "a=pvc:adapter-claim")),
    ("adapter-volume", ("--model", "phi-4-mini-instruct", *SKU, "--adapter", "a=volume:azurefile.yaml")),
    (
        "inference-config-lb-bypass",
        ("--model", "phi-4", *SKU, "--inference-config", "cfg", "--enable-load-balancer", "--bypass-resource-checks"),
    ),
    (
        "labels-annotations",
        (
            "--model",
            "phi-4",
            *SKU,
            "--label",
            "team=nlp,env=dev",
            "--annotation",
            "example.com/owner=a, b",
            "--annotation",
            "kaito.sh/performance-mode=balanced",
        ),
    ),
    ("performance-mode", ("--model", "phi-4", *SKU, "--performance-mode", "interactivity")),
    ("disable-benchmark", ("--model", "phi-4", *SKU, "--disable-benchmark")),
    ("use-local-weights", ("--model", "deepseek-ai/DeepSeek-V4-Flash", *SKU, "--use-local-weights")),
    ("model-streaming", ("--model", "phi-4", *SKU, "--disable-model-streaming")),
    (
        "mirror-storage-class-sa",
        (
            "--model",
            "phi-4",
            *SKU,
            "--model-mirror-storage-class",
            "blob-fuse",
            "--streaming-service-account",
            "streamer",
        ),
    ),
    ("node-class-name", ("--model", "phi-4", *SKU, "--node-class-name", "image-family-azure-linux")),
    ("node-image-family", ("--model", "phi-4", *SKU, "--node-image-family", "AzureLinux")),
    (
        "partition-mig",
        (
            "--model",
            "microsoft/Phi-4-mini-instruct",
            "--label-selector",
            "kaito-workspace=phi",
            "--partition",
            "mode=mig,profile=2g.24gb",
        ),
    ),
    (
        "partition-accelerator",
        ("--model", "llama-3.1-8b-instruct", "--model-access-secret", "hf", "--partition", "mode=accelerator,count=2"),
    ),
    ("template", ("--template", "template.yaml", *SKU)),
    ("template-from-pod", ("--template", "pod.yaml", "--preferred-nodes", "kind-node")),
    ("image", ("--image", "ghcr.io/kaito-project/aikit/llama3.2:3b", "--args", "run --address=:5000")),
    (
        "image-port-command",
        (
            "--image",
            "python:3.12",
            "--port",
            "5000",
            "--command",
            "python -m http.server 5000",
            *SKU,
            "--label",
            "app=web",
        ),
    ),
    (
        "tuning-urls-image-out",
        (
            *TUNE,
            "--input-urls",
            "https://e.com/a.parquet,https://e.com/b.parquet",
            "--output-image",
            "r.io/out:1",
            "--output-image-push-secret",
            "push",
            "--tuning-method",
            "lora",
            "--tuning-config",
            "tcfg",
        ),
    ),
    ("tuning-pvc", (*TUNE, "--input-pvc", "in", "--output-pvc", "out")),
    (
        "tuning-private-image",
        (*TUNE, "--input-image", "r.io/data:1", "--input-pull-secret", "pull-a,pull-b", "--output-pvc", "out"),
    ),
    (
        "tuning-volumes",
        (*TUNE, "--input-volume", "azurefile.yaml", "--output-volume", "nfs.yaml", "--model-access-secret", "hf"),
    ),
    (
        "tuning-labels",
        (*TUNE, "--input-pvc", "in", "--output-pvc", "out", "--label", "team=ml", "--annotation", "example.com/run=7"),
    ),
]

FILES: dict[str, Any] = {
    "azurefile.yaml": {"azureFile": {"secretName": "azure-secret", "shareName": "adapters", "readOnly": True}},
    "nfs.yaml": {"name": "ignored", "nfs": {"server": "nfs.example.com", "path": "/exports/out"}},
    "template.yaml": {
        "metadata": {"labels": {"app": "custom"}},
        "spec": {
            "containers": [
                {
                    "name": "llm",
                    "image": "mcr.microsoft.com/aks/kaito/kaito-base:0.2.0",
                    "resources": {"limits": {"nvidia.com/gpu": 1}},
                    "ports": [{"containerPort": 5000}],
                }
            ],
            "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory"}}],
        },
    },
    "pod.yaml": {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x", "labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    },
}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, doc in FILES.items():
        (tmp_path / name).write_text(yaml.safe_dump(doc))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def dry_run(*flags: str) -> dict[str, Any]:
    r = run_cli("deploy", "w", *flags, "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize(("flags"), [f for _, f in ROWS], ids=[i for i, _ in ROWS])
def test_dry_run_manifest_is_valid_for_the_crd(files: Path, flags: tuple[str, ...]) -> None:
    ws = dry_run(*flags)
    assert validate_object(ws, CRD) == []


def test_the_table_uses_every_manifest_flag() -> None:
    from kubectl_kaito import cli

    cmd = typer.main.get_command(cli.app).commands["deploy"]  # type: ignore[attr-defined]  # a Group (get_command is typed Command)
    declared = {p.opts[0] for p in cmd.params if getattr(p, "param_type_name", "") == "option"}
    not_manifest = {
        "--workspace-name",
        "--dry-run",
        "--output",
        "--wait",
        "--timeout",  # and the global options:
        "--kubeconfig",
        "--context",
        "--request-timeout",
        "--verbose",
        "--v",
    }
    # InferenceSet fields: tests/cli/test_inferenceset.py validates them against the InferenceSet CRD
    not_manifest |= {"--replicas", "--node-count-limit", "--update-strategy", "--max-unavailable"}
    used = {f for _, flags in ROWS for f in flags if f.startswith("--")}
    assert declared - not_manifest - used == set()
    assert len(ROWS) >= 25


def test_what_the_new_flags_write(files: Path) -> None:
    ws = dry_run(*dict(ROWS)["tuning-volumes"])
    assert ws["tuning"]["input"] == {"volumeSource": FILES["azurefile.yaml"]}
    assert ws["tuning"]["output"] == {"volumeSource": {"nfs": FILES["nfs.yaml"]["nfs"]}}  # the volume's name dropped
    ws = dry_run(*dict(ROWS)["tuning-private-image"])
    assert ws["tuning"]["input"] == {"image": "r.io/data:1", "imagePullSecrets": ["pull-a", "pull-b"]}
    ws = dry_run(*dict(ROWS)["adapters-image"])
    assert ws["inference"]["adapters"][0] == {
        "source": {"name": "a", "image": "r.io/a:1", "imagePullSecrets": ["pull"]}
    }
    ws = dry_run(*dict(ROWS)["adapter-pvc"])
    assert ws["inference"]["adapters"] == [
        {"source": {"name": "a", "volumeSource": {"persistentVolumeClaim": {"claimName": "adapter-claim"}}}}
    ]
    ws = dry_run(*dict(ROWS)["template-from-pod"])
    assert ws["inference"] == {
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    }
    ws = dry_run(*dict(ROWS)["image-port-command"])
    assert ws["inference"]["template"]["spec"]["containers"] == [
        {
            "name": "w",
            "image": "python:3.12",
            "command": ["python", "-m", "http.server", "5000"],
            "ports": [{"containerPort": 5000}],
        }
    ]
    assert ws["metadata"]["labels"] == {"app": "web"} and "preset" not in ws["inference"]
    ws = dry_run(*dict(ROWS)["labels-annotations"])
    assert ws["metadata"]["annotations"] == {"example.com/owner": "a, b", "kaito.sh/performance-mode": "balanced"}
    assert ws["metadata"]["labels"] == {"team": "nlp", "env": "dev"}
    ws = dry_run(*dict(ROWS)["node-image-family"])
    assert ws["metadata"]["annotations"] == {"kaito.sh/node-image-family": "azurelinux"}
    ws = dry_run(*dict(ROWS)["partition-accelerator"])
    assert ws["resource"] == {
        "labelSelector": {"matchLabels": {"apps": "w"}},
        "partition": {"mode": "accelerator", "count": 2},
    }


# ---- the validator itself catches what the API server would prune or refuse ---------------------------


def _ws(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": "w"},
        "resource": {"labelSelector": {"matchLabels": {"a": "b"}}},
        "inference": {"preset": {"name": "phi-4"}},
    }
    base.update(extra)
    return base


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        (_ws(resource={"labelSelector": {}, "partition": {"mode": "gpu"}}), "resource.partition.mode: 'gpu' is not"),
        (_ws(resource={"labelSelector": {}, "partition": {"mode": "accelerator", "count": 0}}), "minimum 1"),
        (_ws(resource={"labelSelector": {}, "partition": {"profile": "1g.10gb"}}), "partition.mode: required"),
        (_ws(resource={"instanceType": "x"}), "resource.labelSelector: required"),
        (_ws(resource={"labelSelector": {}, "count": "2"}), "resource.count: want integer"),
        (
            _ws(inference={"preset": {"name": "p"}, "adapters": [{"source": {"name": "a", "volume": {}}}]}),
            "inference.adapters[0].source.volume: unknown field",
        ),
        (_ws(inference={"preset": {"name": "p", "accessMode": "secret"}}), "not one of ['public', 'private']"),
        (_ws(tuning={"preset": {"name": "p"}, "input": {"pvc": "x"}, "output": {}}), "tuning.input.pvc: unknown"),
        (_ws(metadata={"name": "w", "annotations": {"a": True}}), "metadata.annotations.a: want string"),
        (_ws(spec={"resource": {}}), "spec: unknown field"),
        (_ws(apiVersion="kaito.sh/v2"), "no version 'v2'"),
    ],
)
def test_the_validator_reports(obj: dict[str, Any], problem: str) -> None:
    errors = validate_object(obj, CRD)
    assert any(problem in e for e in errors), errors


def test_the_validator_keeps_what_the_schema_preserves() -> None:
    ok = _ws(
        inference={"template": {"spec": {"anything": [1, {"goes": True}]}}},
        tuning={
            "preset": {"name": "p"},
            "input": {"volumeSource": {"csi": {"driver": "d"}}},
            "output": {"volumeSource": {"emptyDir": {}}},
        },
    )
    assert validate_object(ok, CRD) == []
    assert validate(5, {"type": "integer", "minimum": 1}) == []
