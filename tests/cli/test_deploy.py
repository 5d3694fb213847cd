"""`kubectl kaito deploy` against the simulated cluster: what the server stored, refusals, dry runs, --wait."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import assert_usage_error_sends_nothing, run_cli, run_kubectl

WS = "kaito.sh/v1beta1"
SKU = "Standard_NC24ads_A100_v4"
ENDPOINT = "http://{name}.default.svc.cluster.local/v1/chat/completions"


def deploy(*args: str, name: str = "my-llm", model: str = "phi-4-mini-instruct", sku: str | None = SKU) -> Any:
    base = ["deploy", "--workspace-name", name, "--model", model]
    if sku:
        base += ["--instance-type", sku]
    return run_cli(*base, *args)


def stored(sim: Any, name: str = "my-llm", namespace: str = "default") -> dict[str, Any]:
    ws = sim.get(WS, "Workspace", name, namespace=namespace)
    assert ws is not None, f"workspace {name} was not stored"
    return ws


def posts(sim: Any) -> list[Any]:
    return [r for r in sim.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]


def in_thread_when(predicate: Callable[[], Any], action: Callable[[], None], timeout: float = 20.0) -> threading.Thread:
    """Run `action` once `predicate()` holds (polled with a deadline), in a background thread."""

    def run() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                action()
                return
            time.sleep(0.02)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


# ---- creating ----------------------------------------------------------------------------------------


def test_minimal_deploy_stores_only_what_was_given(sim: Any) -> None:
    r = deploy()
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "workspace.kaito.sh/my-llm created\n"
    assert "kubectl kaito status --workspace-name my-llm -n default -w" in r.stderr
    ws = stored(sim)
    assert "spec" not in ws
    assert ws["resource"]["instanceType"] == SKU
    assert ws["resource"]["labelSelector"] == {"matchLabels": {"apps": "my-llm"}}
    assert ws["inference"]["preset"]["name"] == "phi-4-mini-instruct"
    assert "adapters" not in ws["inference"] and "config" not in ws["inference"]
    assert "tuning" not in ws
    assert not (ws["metadata"].get("annotations") or {}).get("kaito.sh/runtime")
    post = [q for q in posts(sim) if q.path.endswith("/workspaces")]
    assert len(post) == 1 and "count" not in json.loads(post[0].body)["resource"]  # we sent no count


def test_every_inference_flag_is_stored_where_kaito_reads_it(sim: Any) -> None:
    sim.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "my-config", "namespace": "default"},
            "data": {"inference_config.yaml": "vllm:\n  max-model-len: 4096\n"},
        }
    )
    r = deploy(
        "--count",
        "2",
        "--label-selector",
        "apps=phi,tier=gpu",
        "--label-selector",
        "pool=a",
        "--preferred-nodes",
        "node-a,node-b",
        "--model-access-secret",
        "hf-token",
        "--image-pull-secret",
        "pull-a",
        "--image-pull-secret",
        "pull-b",
        "--adapter",
        "ad-one=myacr.azurecr.io/adapters/one:1.0,strength=0.8",
        "--adapter",
        "ad-two=myacr.azurecr.io/adapters/two:1.0",
        "--inference-config",
        "my-config",
        "--enable-load-balancer",
        "--bypass-resource-checks",
        # KAITO v0.12 refuses an adapter strength under vLLM (pkg/model/interface.go:700-718)
        "--runtime",
        "transformers",
    )
    assert r.exit_code == 0, r.stderr
    ws = stored(sim)
    assert ws["metadata"]["annotations"]["kaito.sh/enablelb"] == "True"
    assert ws["metadata"]["annotations"]["kaito.sh/bypass-resource-checks"] == "True"
    assert ws["metadata"]["annotations"]["kaito.sh/runtime"] == "transformers"
    res = ws["resource"]
    assert res["count"] == 2
    assert res["labelSelector"] == {"matchLabels": {"apps": "phi", "tier": "gpu", "pool": "a"}}
    assert res["preferredNodes"] == ["node-a", "node-b"]
    inf = ws["inference"]
    assert inf["preset"]["presetOptions"]["modelAccessSecret"] == "hf-token"
    assert inf["preset"]["presetOptions"]["imagePullSecrets"] == ["pull-a", "pull-b"]
    assert inf["config"] == "my-config"
    assert inf["adapters"] == [
        {"source": {"name": "ad-one", "image": "myacr.azurecr.io/adapters/one:1.0"}, "strength": "0.8"},
        {"source": {"name": "ad-two", "image": "myacr.azurecr.io/adapters/two:1.0"}},
    ]

    # the same object, as kubectl itself reads it back
    got = run_kubectl("get", "workspace", "my-llm", "-o", "json")
    assert got.exit_code == 0, got.stderr
    obj = json.loads(got.stdout)
    assert obj["inference"]["adapters"] == inf["adapters"]
    assert obj["metadata"]["annotations"]["kaito.sh/enablelb"] == "True"
    assert obj["resource"]["labelSelector"] == res["labelSelector"]


def test_transformers_runtime_and_hf_id(sim: Any) -> None:
    r = deploy("--runtime", "transformers", model="microsoft/Phi-4-mini-instruct")
    assert r.exit_code == 0, r.stderr
    ws = stored(sim)
    assert ws["metadata"]["annotations"]["kaito.sh/runtime"] == "transformers"
    assert ws["inference"]["preset"]["name"] == "microsoft/Phi-4-mini-instruct"
    assert "warning" not in r.stderr  # a catalog HF ID needs no warning


def test_unknown_hf_id_is_sent_with_a_warning(sim: Any) -> None:
    r = deploy(model="someorg/some-model-7b")
    assert r.exit_code == 0, r.stderr
    assert "best effort" in r.stderr and "huggingface.co" in r.stderr
    assert stored(sim)["inference"]["preset"]["name"] == "someorg/some-model-7b"


@pytest.mark.parametrize(
    ("args", "tuning"),
    [
        (
            [
                "--input-urls",
                "https://example.com/a.parquet,https://example.com/b.parquet",
                "--output-image",
                "myacr.azurecr.io/adapter:1",
                "--output-image-push-secret",
                "acr-push",
                "--tuning-method",
                "lora",
                "--tuning-config",
                "my-tuning",
            ],
            {
                "method": "lora",
                "config": "my-tuning",
                "input": {"urls": ["https://example.com/a.parquet", "https://example.com/b.parquet"]},
                "output": {"image": "myacr.azurecr.io/adapter:1", "imagePushSecret": "acr-push"},
            },
        ),
        (
            ["--input-pvc", "dataset", "--output-pvc", "results"],
            {
                "method": "qlora",
                "input": {"volumeSource": {"persistentVolumeClaim": {"claimName": "dataset"}}},
                "output": {"volumeSource": {"persistentVolumeClaim": {"claimName": "results"}}},
            },
        ),
        (
            ["--input-image", "myacr.azurecr.io/data:1", "--output-pvc", "results"],
            {
                "method": "qlora",
                "input": {"image": "myacr.azurecr.io/data:1"},
                "output": {"volumeSource": {"persistentVolumeClaim": {"claimName": "results"}}},
            },
        ),
    ],
)
def test_tuning_flags_are_stored_as_tuning_input_output(sim: Any, args: list[str], tuning: dict[str, Any]) -> None:
    sim.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "my-tuning", "namespace": "default"},
            "data": {"training_config.yaml": "training_config: {}\n"},
        }
    )
    r = deploy("--tuning", *args, name="tune-phi")
    assert r.exit_code == 0, r.stderr
    ws = stored(sim, "tune-phi")
    assert "inference" not in ws
    got = dict(ws["tuning"])
    assert got.pop("preset")["name"] == "phi-4-mini-instruct"
    assert got == tuning


# ---- refusals before anything is sent ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace-name", "My_LLM", "--model", "phi-4"], "invalid workspace name 'My_LLM'"),
        (["--workspace-name", "a" * 53, "--model", "phi-4"], "at most 52 are allowed"),
        (["--workspace-name", "1llm", "--model", "phi-4"], "must start with a letter"),
        (["--workspace-name", "x", "--model", "phi-4-mini"], "unknown model 'phi-4-mini'"),
        (["--workspace-name", "x", "--model", "falcon-7b"], "no longer accepted by KAITO v0.11+"),
        (["--workspace-name", "x", "--model", "org/name/extra"], "a Hugging Face ID has the form org/name"),
        # KAITO v0.12's webhook: "Runtime validation: vLLM does not support adapter strength"
        (
            ["--workspace-name", "x", "--model", "phi-4", "--adapter", "a=img,strength=0.5"],
            "vLLM does not support adapter strength",
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--adapter", "a=img,strength=0.5", "--runtime", "vllm"],
            "vLLM does not support adapter strength",
        ),
        (
            [
                "--workspace-name",
                "x",
                "--model",
                "phi-4",
                "--adapter",
                "a=img,strength=0.5",
                "--annotation",
                "kaito.sh/runtime=vllm",
            ],
            "vLLM does not support adapter strength",
        ),
        (
            [
                "--workspace-name",
                "x",
                "--model",
                "phi-4",
                "--partition",
                "mode=mig,profile=1g.10gb",
                "--instance-type",
                "Standard_NC24ads_A100_v4",
            ],
            "GPU partitioning is only supported with BYO nodes",
        ),
        (["--workspace-name", "x", "--model", "phi-4", "--partition", "mode=gpu"], 'unsupported partition mode "gpu"'),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--partition", "mode=mig,profile=1g.10gb,count=2"],
            "count is only valid for accelerator mode",
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--partition", "mode=mig,profile=big"],
            "invalid MIG profile format 'big'",
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--partition", "mode=accelerator"],
            "missing field(s): resource.partition.count",
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--partition", "mode=accelerator,count=2,profile=1g.10gb"],
            "profile is not valid for accelerator mode",
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--partition", "mode=accelerator,count=inf"],
            "invalid --partition count value 'inf': not a whole number",
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--partition", "mode=accelerator,count=0"],
            "it must be from 1 to",
        ),
        (["--workspace-name", "x", "--model", "phi-4", "--partition", "mode=mig,size=1"], "unknown key 'size'"),
        (
            [
                "--workspace-name",
                "x",
                "--model",
                "phi-4",
                "--tuning",
                "--partition",
                "mode=accelerator,count=1",
                "--input-pvc",
                "d",
                "--output-pvc",
                "o",
            ],
            "GPU partitioning is not supported for tuning workloads",
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--image", "nginx"],
            "--model and --image cannot be used together",
        ),
        (["--workspace-name", "x"], "--model is required (or --template FILE / --image IMAGE"),
        (["--workspace-name", "x", "--image", "nginx", "--adapter", "a=img"], "--adapter cannot be used with --image"),
        (
            ["--workspace-name", "x", "--image", "nginx", "--disable-benchmark"],
            "--disable-benchmark cannot be used with --image",
        ),
        (["--workspace-name", "x", "--model", "phi-4", "--port", "80"], "--port only go(es) with --image"),
        (["--workspace-name", "x", "--image", "nginx", "--port", "70000"], "it must be from 1 to 65535"),
        (["--workspace-name", "x", "--image", "nginx", "--command", "'unclosed"], "invalid --command"),
        (["--workspace-name", "x", "--template", "/no/such/template.yaml"], "cannot read --template"),
        (["--workspace-name", "x", "--model", "phi-4", "--performance-mode", "fast"], "invalid --performance-mode"),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--annotation", "kaito.sh/performance-mode=fast"],
            "is not a valid performance mode; choose one of: balanced, interactivity, throughput",
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--annotation", "kaito.sh/use-local-weights=yes"],
            'must be "true" or "false"',
        ),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--annotation", "kaito.sh/node-image-family=windows"],
            "unsupported node image family",
        ),
        (
            [
                "--workspace-name",
                "x",
                "--model",
                "phi-4",
                "--performance-mode",
                "throughput",
                "--annotation",
                "kaito.sh/performance-mode=balanced",
            ],
            "--performance-mode writes kaito.sh/performance-mode",
        ),
        (["--workspace-name", "x", "--model", "phi-4", "--annotation", "novalue"], "expected KEY=VALUE"),
        (["--workspace-name", "x", "--model", "phi-4", "--annotation", "bad key=1"], "invalid --annotation key"),
        (["--workspace-name", "x", "--model", "phi-4", "--annotation", "a=line\nbreak"], "control character"),
        (["--workspace-name", "x", "--model", "phi-4", "--label", "team=a b"], "invalid --label value"),
        (["--workspace-name", "x", "--model", "phi-4", "--adapter", "a=pvc:Bad_Claim"], "invalid --adapter pvc"),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--adapter", "a=pvc:c,pull-secret=s"],
            "pull-secret only goes with an image source",
        ),
        (
            [
                "--workspace-name",
                "x",
                "--model",
                "phi-4",
                "--tuning",
                "--input-urls",
                "https://e.com/d",
                "--input-pull-secret",
                "s",
                "--output-pvc",
                "o",
            ],
            "--input-pull-secret only goes with --input-image",
        ),
        (["--workspace-name", "x", "--model", "phi-4", "--input-volume", "v.yaml"], "--input-volume needs --tuning"),
        (["--workspace-name", "x", "--model", "phi-4", "--adapter", "Bad_Name=img"], "invalid --adapter name"),
        (["--workspace-name", "x", "--model", "phi-4", "--adapter", "a=img,strength=2"], "invalid --adapter strength"),
        (["--workspace-name", "x", "--model", "phi-4", "--label-selector", "novalue"], "expected key=value"),
        (["--workspace-name", "x", "--model", "phi-4", "--label-selector", "kaito.sh/workspace=x"], "reserves"),
        (["--workspace-name", "x", "--model", "phi-4", "--count", "0"], "--count must be at least 1"),
        (["--workspace-name", "x", "--model", "phi-4", "--runtime", "tgi"], "invalid --runtime 'tgi'"),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--input-urls", "https://e.com/d"],
            "--input-urls needs --tuning (tuning only)",
        ),
        (
            [
                "--workspace-name",
                "x",
                "--model",
                "phi-4",
                "--tuning",
                "--enable-load-balancer",
                "--input-pvc",
                "d",
                "--output-pvc",
                "o",
            ],
            "--enable-load-balancer cannot be used with --tuning (inference only)",
        ),
        (["--workspace-name", "x", "--model", "phi-4", "--tuning", "--input-pvc", "d"], "exactly one output"),
        (["--workspace-name", "x", "--model", "phi-4", "--tuning", "--output-pvc", "o"], "exactly one input"),
        (
            ["--workspace-name", "x", "--model", "phi-4", "--tuning", "--input-pvc", "d", "--output-image", "r/i:1"],
            "--output-image needs --output-image-push-secret",
        ),
        (
            [
                "--workspace-name",
                "x",
                "--model",
                "llama-3.3-70b-instruct",
                "--model-access-secret",
                "s",
                "--tuning",
                "--input-pvc",
                "d",
                "--output-pvc",
                "o",
            ],
            "cannot be fine-tuned",
        ),
        (
            [
                "--workspace-name",
                "x",
                "--model",
                "phi-4",
                "--tuning",
                "--input-urls",
                "http://10.0.0.1/d",
                "--output-pvc",
                "o",
            ],
            "private",
        ),
        (["--workspace-name", "x", "--model", "phi-4", "--inference-config", "/no/such/file.yaml"], "no such file"),
        (["--workspace-name", "x", "--model", "phi-4", "--dry-run=maybe"], "invalid --dry-run value"),
        (["--workspace-name", "x", "--model", "phi-4", "-o", "table"], "unknown output format"),
        (["--workspace-name", "x", "--model", "phi-4", "--dry-run", "--wait"], "--wait cannot be used with --dry-run"),
        (["--workspace-name", "x", "--model", "phi-4", "--wait", "--timeout", "soon"], "invalid --timeout"),
        (["--workspace-name", "x", "--model", "phi-4", "--instance-type", "bad sku"], "invalid --instance-type"),
    ],
)
def test_refusals_send_nothing(sim: Any, args: list[str], message: str) -> None:
    assert_usage_error_sends_nothing(sim, ["deploy", *args], message)
    assert sim.list(WS, "Workspace") == []


def test_unknown_model_suggests_close_names(sim: Any) -> None:
    r = run_cli("deploy", "--workspace-name", "x", "--model", "phi4-mini-instruct")
    assert r.exit_code == 2
    assert "hint: did you mean phi-4-mini-instruct" in r.stderr


def test_refusal_in_json_mode_is_one_json_object_on_stderr(sim: Any) -> None:
    r = run_cli("deploy", "--workspace-name", "x", "--model", "nope", "-o", "json")
    assert r.exit_code == 2 and r.stdout == ""
    err = json.loads(r.stderr.strip().splitlines()[-1])
    assert err["code"] == "VALIDATION_ERROR" and "unknown model" in err["error"]


# ---- dry runs --------------------------------------------------------------------------------------------


def test_dry_run_prints_only_yaml_that_kubectl_applies(sim: Any) -> None:
    before = len(sim.requests)
    r = deploy("--dry-run", "--adapter", "ad=reg.io/ad:1,strength=0.5", "--runtime", "transformers")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    assert len(sim.requests) == before
    doc = yaml.safe_load(r.stdout)
    assert doc["kind"] == "Workspace" and doc["metadata"] == {
        "name": "my-llm",
        "namespace": "default",
        "annotations": {"kaito.sh/runtime": "transformers"},
    }
    assert doc["inference"]["adapters"][0]["strength"] == "0.5"
    assert sim.get(WS, "Workspace", "my-llm") is None

    applied = run_kubectl("apply", "-f", "-", input=r.stdout)
    assert applied.exit_code == 0, applied.stderr
    assert "workspace.kaito.sh/my-llm created" in applied.stdout
    assert stored(sim)["inference"]["adapters"] == doc["inference"]["adapters"]


def test_dry_run_client_value_and_json(sim: Any) -> None:
    r = deploy("--dry-run=client", "-o", "json", "-n", "team-a")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["metadata"]["namespace"] == "team-a"
    assert doc["resource"]["instanceType"] == SKU


def test_dry_run_works_without_any_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    r = deploy("--dry-run")
    assert r.exit_code == 0, r.stderr
    assert yaml.safe_load(r.stdout)["metadata"]["namespace"] == "default"


def test_dry_run_never_imports_the_cluster_module(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from kubectl_kaito import cli\n"
        "rc = cli.main(['deploy', '--workspace-name', 'a', '--model', 'phi-4', '--dry-run'])\n"
        "print('CLUSTER' if 'kubectl_kaito.client' in sys.modules else 'NO-CLUSTER', rc, file=sys.stderr)\n"
    )
    env = dict(os.environ, KUBECONFIG=str(tmp_path / "missing"), HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stderr.strip().endswith("NO-CLUSTER 0"), proc.stderr
    assert yaml.safe_load(proc.stdout)["kind"] == "Workspace"


def test_dry_run_with_a_config_file_prints_both_objects(sim: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "inference.yaml"
    cfg.write_text("vllm:\n  max-model-len: 4096\n")
    r = deploy("--dry-run", "--inference-config", str(cfg))
    assert r.exit_code == 0, r.stderr
    cm, ws = list(yaml.safe_load_all(r.stdout))
    assert cm["kind"] == "ConfigMap" and cm["metadata"]["name"] == "my-llm-inference-config"
    assert cm["data"]["inference_config.yaml"] == "vllm:\n  max-model-len: 4096\n"
    assert ws["inference"]["config"] == "my-llm-inference-config"
    assert sim.get("v1", "ConfigMap", "my-llm-inference-config") is None


def test_dry_run_server_validates_and_creates_nothing(sim: Any) -> None:
    r = deploy("--dry-run=server")
    assert r.exit_code == 0, r.stderr
    doc = yaml.safe_load(r.stdout)
    assert doc["kind"] == "Workspace" and doc["metadata"]["name"] == "my-llm"
    assert doc["inference"]["preset"]["accessMode"] == "public"  # the server's defaults: it came back from it
    assert sim.get(WS, "Workspace", "my-llm") is None
    post = [q for q in sim.requests if q.method == "POST" and q.path.endswith("/workspaces")]
    assert post and all(q.query.get("dryRun") == "All" for q in post)


def test_dry_run_server_shows_the_webhooks_refusal(sim: Any) -> None:
    r = deploy("--dry-run=server", sku=None)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert 'admission webhook "validation.workspace.kaito.sh" denied the request' in r.stderr
    assert "hint: KAITO provisions the GPU nodes" in r.stderr


# ---- server refusals -----------------------------------------------------------------------------------------


def test_existing_workspace_is_a_conflict(sim: Any) -> None:
    assert deploy().exit_code == 0
    r = deploy("-o", "json")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert 'error: workspace "my-llm" already exists in namespace "default"' in r.stderr
    assert "kubectl kaito delete --workspace-name my-llm" in r.stderr
    assert json.loads(r.stderr.strip().splitlines()[-1])["code"] == "CONFLICT"


def test_webhook_rejection_shows_the_servers_message(sim: Any) -> None:
    r = deploy(model="someorg/x", sku="Standard_XYZ_weird")
    assert r.exit_code == 1
    assert "the server refused workspace default/my-llm" in r.stderr
    assert "Unsupported instance type Standard_XYZ_weird" in r.stderr
    assert sim.get(WS, "Workspace", "my-llm") is None


def test_config_file_becomes_a_configmap_owned_by_the_workspace(sim: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "inference.yaml"
    cfg.write_text("vllm:\n  max-model-len: 4096\n")
    r = deploy("--inference-config", str(cfg))
    assert r.exit_code == 0, r.stderr
    ws = stored(sim)
    cm = sim.get("v1", "ConfigMap", "my-llm-inference-config")
    assert cm["data"] == {"inference_config.yaml": "vllm:\n  max-model-len: 4096\n"}
    assert ws["inference"]["config"] == "my-llm-inference-config"
    owners = cm["metadata"]["ownerReferences"]
    assert owners == [
        {"apiVersion": "kaito.sh/v1beta1", "kind": "Workspace", "name": "my-llm", "uid": ws["metadata"]["uid"]}
    ]


def test_failed_create_leaves_no_configmap_behind(sim: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "inference.yaml"
    cfg.write_text("vllm:\n  max-model-len: 99999999\n")  # above phi-4-mini's 131072: the webhook refuses
    r = deploy("--inference-config", str(cfg))
    assert r.exit_code == 1
    assert "max-model-len 99999999 exceeds" in r.stderr
    assert sim.get(WS, "Workspace", "my-llm") is None
    assert sim.get("v1", "ConfigMap", "my-llm-inference-config") is None
    methods = [(q.method, q.path.rsplit("/", 1)[-1]) for q in posts(sim)]
    assert ("DELETE", "my-llm-inference-config") in methods


def test_config_file_with_an_existing_workspace_creates_no_configmap(sim: Any, tmp_path: Path) -> None:
    assert deploy().exit_code == 0
    cfg = tmp_path / "inference.yaml"
    cfg.write_text("vllm:\n  max-model-len: 4096\n")
    r = deploy("--inference-config", str(cfg))
    assert r.exit_code == 1 and "already exists" in r.stderr
    assert sim.get("v1", "ConfigMap", "my-llm-inference-config") is None


def test_output_json_prints_the_created_object(sim: Any) -> None:
    r = deploy("-o", "json")
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["metadata"]["uid"] == stored(sim)["metadata"]["uid"]


# ---- --wait ------------------------------------------------------------------------------------------------------


def test_wait_prints_the_endpoint_exactly_as_get_endpoint(sim: Any) -> None:
    r = deploy("--wait")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ENDPOINT.format(name="my-llm") + "\n"
    assert "workspace.kaito.sh/my-llm created" in r.stderr
    assert "InferenceReady=False" in r.stderr  # the phase was shown while waiting
    assert "Ready: ResourceReady=True, InferenceReady=True" in r.stderr
    assert run_cli("get-endpoint", "--workspace-name", "my-llm").stdout == r.stdout


def test_wait_for_a_tuning_workspace_to_succeed(sim: Any) -> None:
    r = deploy(
        "--tuning", "--input-urls", "https://example.com/d.parquet", "--output-pvc", "out", "--wait", name="tune"
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "workspace.kaito.sh/tune succeeded\n"
    assert "pvc/out" in r.stderr


def test_wait_ends_with_the_failure_reason(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=6)  # nodes at 2s, ready at 6s: we fail it in between

    def nodes_ready() -> bool:
        ws = sim.get(WS, "Workspace", "my-llm")
        conds = {c["type"]: c["status"] for c in ((ws or {}).get("status") or {}).get("conditions") or []}
        return conds.get("ResourceReady") == "True"

    t = in_thread_when(nodes_ready, lambda: sim.controller.fail_workspace("my-llm", reason="ImagePullError"))
    r = deploy("--wait", "--timeout", "60s")
    t.join(5)
    assert r.exit_code == 1, r.stderr
    assert r.stdout == ""
    assert "workspace default/my-llm failed: InferenceReady is False (ImagePullError)" in r.stderr
    assert "the workspace was left in place" in r.stderr
    assert stored(sim)  # still there


def test_wait_times_out_with_exit_4(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=60)
    r = deploy("--wait", "--timeout", "1s", "-o", "json")
    assert r.exit_code == 4, r.stderr
    assert r.stdout == ""
    assert "timed out after 1s waiting for workspace default/my-llm" in r.stderr
    assert json.loads(r.stderr.strip().splitlines()[-1])["code"] == "TIMEOUT"
    assert stored(sim)


def test_wait_with_output_yaml_prints_the_ready_object(sim: Any) -> None:
    r = deploy("--wait", "-o", "yaml")
    assert r.exit_code == 0, r.stderr
    obj = yaml.safe_load(r.stdout)
    assert {c["type"]: c["status"] for c in obj["status"]["conditions"]}["InferenceReady"] == "True"


def test_wait_on_a_terminal_uses_the_live_status_and_keeps_stdout_clean(
    sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    r = run_cli(
        "deploy", "--workspace-name", "tty", "--model", "phi-4", "--instance-type", SKU, "--wait", stderr_tty=True
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ENDPOINT.format(name="tty") + "\n"
    assert "\x1b[?25l" in r.stderr  # rich's live status (cursor hidden while it spins)
    assert "workspace default/tty: Ready: ResourceReady=True, InferenceReady=True" in r.stderr


def test_without_kaito_installed(sim_factory: Any) -> None:
    sim = sim_factory(kaito=False)
    r = deploy()
    assert r.exit_code == 1 and r.stdout == ""
    assert "KAITO is not installed" in r.stderr
    assert not [q for q in sim.requests if q.method == "POST"]


def test_a_v1alpha1_only_kaito_gets_a_v1alpha1_workspace(sim_factory: Any) -> None:
    sim = sim_factory(served_versions=("v1alpha1",))
    r = deploy("-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["apiVersion"] == "kaito.sh/v1alpha1"
    assert sim.get("kaito.sh/v1alpha1", "Workspace", "my-llm") is not None
    refused = deploy("--model-access-secret", "hf", name="gated")
    assert refused.exit_code == 1 and "v1alpha1" in refused.stderr and "modelAccessSecret" in refused.stderr


def test_own_container_and_new_fields_are_stored_as_sent(sim: Any, tmp_path: Path) -> None:
    """The API server (the CRD's pruning) keeps what the issue-13 flags write: template, volume adapters, labels."""
    r = run_cli(
        "deploy",
        "aikit",
        "--image",
        "ghcr.io/kaito-project/aikit/llama3.2:3b",
        "--args",
        "run --address=:5000",
        "--instance-type",
        SKU,
        "--label",
        "team=nlp",
        "--annotation",
        "example.com/owner=a",
    )
    assert r.exit_code == 0, r.stderr
    ws = stored(sim, "aikit")
    assert ws["inference"] == {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "aikit",
                        "image": "ghcr.io/kaito-project/aikit/llama3.2:3b",
                        "args": ["run", "--address=:5000"],
                    }
                ]
            }
        }
    }
    assert ws["metadata"]["labels"]["team"] == "nlp"
    assert ws["metadata"]["annotations"]["example.com/owner"] == "a"

    r = deploy(
        "--adapter", "vol=pvc:adapter-claim", "--disable-benchmark", "--performance-mode", "throughput", name="phi-vol"
    )
    assert r.exit_code == 0, r.stderr
    ws = stored(sim, "phi-vol")
    assert ws["inference"]["adapters"] == [
        {"source": {"name": "vol", "volumeSource": {"persistentVolumeClaim": {"claimName": "adapter-claim"}}}}
    ]
    annotations = ws["metadata"]["annotations"]  # the controller adds workspace.kaito.io/hash and /revision
    assert annotations["kaito.sh/disable-benchmark"] == "true"
    assert annotations["kaito.sh/performance-mode"] == "throughput"
