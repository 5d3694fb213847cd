"""`kubectl kaito diagnose NAME` / `status NAME --diagnose` against the simulated cluster: one test per cause."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import run_cli

A100 = "Standard_NC24ads_A100_v4"
# the GPU feature discovery labels KAITO's BYO webhook reads (as tests/sim/test_sim_kaito_v012.py)
GFD = {"nvidia.com/gpu.product": "NVIDIA-A100-PCIE-80GB", "nvidia.com/gpu.count": "1", "nvidia.com/gpu.memory": "81920"}


def deploy(name: str, *extra: str) -> None:
    r = run_cli("deploy", name, "--model", "phi-4-mini-instruct", "--instance-type", A100, *extra)
    assert r.exit_code == 0, r.stderr


def ready(sim: Any, name: str) -> None:
    deploy(name)
    sim.wait_workspace_ready(name)


def pods_exist(sim: Any, name: str) -> None:
    sim.wait_until(lambda: sim.store.get("/pods", "default", f"{name}-0"), timeout=10)


def diag_json(name: str, *extra: str) -> tuple[int, dict[str, Any]]:
    r = run_cli("diagnose", name, "-o", "json", *extra)
    assert r.stdout, r.stderr
    return r.exit_code, json.loads(r.stdout)


def test_healthy_workspace_exits_0_and_says_so(sim: Any) -> None:
    ready(sim, "ok")
    r = run_cli("diagnose", "ok")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("Workspace default/ok: healthy (state Ready)")
    assert "nodeclaims: not served by this cluster" in r.stdout  # the sim serves no karpenter.sh NodeClaims
    code, doc = diag_json("ok")
    assert (code, doc["result"], doc["cause"], doc["findings"]) == (0, "healthy", None, [])


def test_crashloop_quotes_the_previous_containers_log(sim: Any) -> None:
    ready(sim, "crash")
    sim.controller.fail_workspace("crash", reason="ContainerCrashLoopBackOff")
    r = run_cli("status", "crash", "--diagnose")
    assert r.exit_code == 1, r.stderr
    assert "Cause: CrashLoopBackOff: container crash of pod crash-0 is in CrashLoopBackOff" in r.stdout
    assert "log (previous) crash-0/crash: RuntimeError: Engine core initialization failed" in r.stdout
    assert "kubectl logs crash-0 -c crash --previous" in r.stdout


def test_oomkilled_names_the_memory_limit(sim: Any) -> None:
    ready(sim, "oom")
    sim.controller.fail_workspace("oom", reason="ContainerOOMKilled")
    code, doc = diag_json("oom")
    f = doc["findings"][0]
    assert (code, f["cause"], f["severity"]) == (1, "OOMKilled", "failed")
    assert "was OOMKilled (exit code 137; memory limit" in f["summary"]
    assert any(e.startswith("log (previous) oom-0/oom:") for e in f["evidence"])


def test_image_pull_names_the_image_and_the_registrys_message(sim: Any) -> None:
    ready(sim, "pull")
    sim.controller.fail_workspace("pull", reason="ImagePullError")
    code, doc = diag_json("pull")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (1, "ImagePullFailed")
    assert "cannot pull image mcr.microsoft.com/" in f["summary"]
    assert "failed to pull and unpack image" in f["summary"] and "not found" in f["summary"]


def test_unschedulable_for_lack_of_gpus(sim: Any) -> None:
    ready(sim, "sched")
    sim.controller.fail_workspace("sched", reason="Unschedulable")
    code, doc = diag_json("sched")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (1, "PodUnschedulable")
    assert "Insufficient nvidia.com/gpu" in f["summary"]
    assert "nvidia.com/gpu" in f["nextStep"]


@pytest.mark.parametrize(
    "scheduler,advice",
    [
        ("0/3 nodes are available: 3 node(s) had untolerated taint {sku: gpu}.", "taints"),
        ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.", "node selector"),
    ],
)
def test_unschedulable_for_taints_and_node_selector(sim: Any, scheduler: str, advice: str) -> None:
    ready(sim, "sched")
    sim.controller.fail_workspace(
        "sched", reason="Unschedulable", message=f'pod "sched-0" is unschedulable: {scheduler}'
    )
    code, doc = diag_json("sched")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (1, "PodUnschedulable")
    assert f["summary"] == f"pod sched-0 cannot be scheduled: {scheduler}"
    assert advice in f["nextStep"]
    assert any("FailedScheduling" in e for e in f["evidence"])


def test_init_container_stuck_on_a_tuning_job(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=5)
    r = run_cli(
        "deploy",
        "tune",
        "--model",
        "phi-4-mini-instruct",
        "--tuning",
        "--instance-type",
        A100,
        "--input-urls",
        "https://example.com/data.parquet",
        "--output-image",
        "myacr.azurecr.io/a:1",
        "--output-image-push-secret",
        "acr-push",
    )
    assert r.exit_code == 0, r.stderr
    sim.wait_until(
        lambda: (
            sim.store.get("/pods", "default", "tune-0") is not None
            or any(p["metadata"]["name"].startswith("tune") for p in sim.store.list("/pods", "default"))
        ),
        timeout=10,
    )
    sim.controller.hold_init("tune")
    code, doc = diag_json("tune")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (4, "InitContainerStuck")
    assert "init container data-downloader of pod tune-" in f["summary"] and "(running)" in f["summary"]
    assert any("3 11.2G" in e for e in f["evidence"])  # the init container's own log
    assert "job/tune" in doc["checked"]


def test_failed_tuning_job(sim: Any) -> None:
    r = run_cli(
        "deploy",
        "tj",
        "--model",
        "phi-4-mini-instruct",
        "--tuning",
        "--instance-type",
        A100,
        "--input-urls",
        "https://example.com/data.parquet",
        "--output-image",
        "myacr.azurecr.io/a:1",
        "--output-image-push-secret",
        "acr-push",
    )
    assert r.exit_code == 0, r.stderr
    sim.wait_until(lambda: any(p["metadata"]["name"].startswith("tj-") for p in sim.store.list("/pods", "default")))
    sim.controller.fail_workspace("tj", reason="ContainerCrashLoopBackOff")
    sim.wait_until(
        lambda: (sim.store.get("kaito.sh/workspaces", "default", "tj") or {}).get("status", {}).get("state") == "Failed"
    )
    code, doc = diag_json("tj")
    assert code == 1 and doc["state"] == "Failed"
    assert [f["cause"] for f in doc["findings"]][-1] == "TuningJobFailed"


def test_nodeclaim_quota_failure_carries_the_nodeclaims_message(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=30)
    deploy("quota")
    msg = (
        "creating instance: 1 error occurred: QuotaExceeded: Operation could not be completed as it results in "
        "exceeding approved standardNCADSA100v4Family Cores quota"
    )
    sim.controller.fail_nodeclaims("quota", reason="LaunchFailed", message=msg)
    code, doc = diag_json("quota")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (1, "NodeClaimFailed")
    assert "GPU quota exceeded" in f["summary"] and "standardNCADSA100v4Family Cores quota" in f["summary"]
    assert "NodeClaims: not served by this cluster" in f["evidence"]


def test_nodeclaims_still_provisioning_is_pending(sim_factory: Any) -> None:
    sim_factory(ready_after=60)
    deploy("slow")
    code, doc = diag_json("slow")
    assert (code, doc["cause"]) == (4, "NodeClaimPending")


def test_byo_without_matching_nodes(sim_factory: Any) -> None:
    sim = sim_factory(node_provisioner="byo", ready_after=0.3)
    # the webhook refuses a labelSelector no node matches at all; one NotReady node passes it
    sim.add_node("gpu-1", ready=False, labels={"pool": "gpu", **GFD})
    r = run_cli("deploy", "byo", "--model", "phi-4-mini-instruct", "--label-selector", "pool=gpu")
    assert r.exit_code == 0, r.stderr
    code, doc = diag_json("byo")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (4, "NoMatchingNodes")
    assert "0 of 1 ready node(s) match the labelSelector pool=gpu" in f["summary"]
    assert "matching nodes: gpu-1 (NotReady)" in f["evidence"]
    # KAITO v0.12's BYO text (byo_provisioner.go), not the NoAvailableGPUNodes of later releases
    assert any("NodesReady=False (NodeNotReady)" in e for e in f["evidence"])
    assert "kubectl label node NODE pool=gpu" in f["nextStep"]


def test_access_secret_that_does_not_exist(sim: Any) -> None:
    deploy("gated", "--model-access-secret", "hf-token")
    pods_exist(sim, "gated")
    sim.wait_until(lambda: "CreateContainerConfigError" in json.dumps(sim.store.get("/pods", "default", "gated-0")))
    code, doc = diag_json("gated")
    causes = [f["cause"] for f in doc["findings"]]
    assert code == 1 and causes[0] == "ModelAccessSecretNotFound", causes
    assert "ContainerStartFailed" in causes  # the kubelet's own view: secret "hf-token" not found
    assert "kubectl create secret generic hf-token" in doc["findings"][0]["nextStep"]


def test_download_progress_from_kaitos_metrics(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=3)
    deploy("dl")
    pods_exist(sim, "dl")
    sim.controller.start_download("dl", speed=52_400_000, remaining=754)
    code, doc = diag_json("dl")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (4, "ModelDownloading")
    assert f["summary"] == "pod dl-0 is downloading the model: 52.4 MB/s, 12m34s remaining"
    assert "pod/dl-0 kaito_model_download_remaining_seconds 754" in f["evidence"]


def test_server_up_but_failing_its_readiness_probe(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=3)
    deploy("probe")
    sim.wait_until(
        lambda: (sim.store.get("/pods", "default", "probe-0") or {}).get("status", {}).get("phase") == "Running",
        timeout=10,
    )
    sim.controller.hold_unready("probe")
    code, doc = diag_json("probe")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (4, "ReadinessProbeFailing")
    assert "/health on port 5000 does not answer yet" in f["summary"]
    assert any("Unhealthy" in e and "Readiness probe failed" in e for e in f["evidence"])


def test_benchmark_failed(sim: Any) -> None:
    ready(sim, "bench")
    sim.controller.fail_benchmark("bench")
    code, doc = diag_json("bench")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (1, "BenchmarkFailed")
    assert "KAITO_BENCHMARK_RESULT not found" in f["summary"]


def test_deletion_held_by_the_finalizer(sim_factory: Any) -> None:
    sim = sim_factory(cleanup="failing")
    ready(sim, "gone")
    assert run_cli("delete", "gone", "--yes").exit_code == 0
    sim.wait_until(lambda: "WorkspaceDeleting" in json.dumps(sim.store.get("kaito.sh/workspaces", "default", "gone")))
    r = run_cli("diagnose", "gone")
    assert r.exit_code == 4, r.stderr
    assert (
        "Cause: WorkspaceDeletionBlocked: the workspace is being deleted and is held by "
        "workspace.finalizer.kaito.sh: failed to delete NodeClaims"
    ) in r.stdout


def test_bundle_has_objects_events_and_every_log_but_no_secret(sim: Any, tmp_path: Path) -> None:
    sim.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "hf-token", "namespace": "default"},
            "data": {"HF_TOKEN": "aGZfc2VrcmV0dG9rZW4="},
        }
    )  # hf_sekrettoken
    assert (
        run_cli(
            "deploy",
            "bun",
            "--model",
            "phi-4-mini-instruct",
            "--instance-type",
            A100,
            "--model-access-secret",
            "hf-token",
        ).exit_code
        == 0
    )
    sim.wait_workspace_ready("bun")
    sim.controller.fail_workspace("bun", reason="ContainerCrashLoopBackOff")
    out = tmp_path / "report"
    r = run_cli("diagnose", "bun", "--bundle", str(out))
    assert r.exit_code == 1
    assert f"bundle: 8 files written to {out}" in r.stderr
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == [
        "diagnosis.yaml",
        "events.yaml",
        "logs/bun-0.bun.log",
        "logs/bun-0.bun.previous.log",
        "nodes.yaml",
        "pods.yaml",
        "statefulset.yaml",
        "workspace.yaml",
    ], names
    assert yaml.safe_load((out / "workspace.yaml").read_text())["metadata"]["name"] == "bun"
    assert "EngineCore failed to start" in (out / "logs/bun-0.bun.previous.log").read_text()
    assert yaml.safe_load((out / "diagnosis.yaml").read_text())["cause"] == "CrashLoopBackOff"
    everything = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "aGZfc2VrcmV0dG9rZW4=" not in everything and "hf_sekrettoken" not in everything


def test_bundle_refuses_a_non_empty_directory(sim: Any, tmp_path: Path) -> None:
    (tmp_path / "keep").write_text("x")
    r = run_cli("diagnose", "anything", "--bundle", str(tmp_path))
    assert r.exit_code == 2 and r.stdout == ""
    assert "exists and is not an empty directory" in r.stderr
    assert (tmp_path / "keep").read_text() == "x"


@pytest.mark.parametrize(
    "args,message",
    [
        (("status", "--diagnose"), "--diagnose takes exactly one workspace name"),
        (("status", "a", "b", "--diagnose"), "--diagnose takes exactly one workspace name"),
        (("status", "a", "--bundle", "x"), "--bundle needs --diagnose"),
        (("diagnose",), "a workspace name is required"),
        (("diagnose", "x", "--bundle", "a\nb"), "invalid --bundle directory"),
        (("status", "x", "--diagnose", "-o", "wide"), "--diagnose prints text, json or yaml"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    r = run_cli(*args)
    assert (r.exit_code, r.stdout) == (2, ""), r.stderr
    assert message in r.stderr


def test_missing_workspace_is_exit_3(sim: Any) -> None:
    r = run_cli("diagnose", "nope")
    assert (r.exit_code, r.stdout) == (3, "")
    assert "nope" in r.stderr


# ---- issue 16: the causes reproduced in the simulator (not only unit-tested) ---------------------------


def _kubectl_apply(manifest: dict[str, Any]) -> None:
    """Create through the API server as a user would (deploy warns about a gated model without a secret)."""
    import subprocess
    import sys

    kubectl = Path(sys.executable).parent / "kubectl"
    p = subprocess.run(
        [str(kubectl), "apply", "-f", "-"],
        input=json.dumps(manifest),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert p.returncode == 0, p.stderr


def test_gated_model_without_a_token_secret_fails_its_download(sim_factory: Any) -> None:
    # KAITO v0.12's webhook accepts a gated preset without modelAccessSecret (docs/simulator.md); the pod has
    # no HF_TOKEN and the Hub answers 401: vLLM exits, the kubelet restarts it (CrashLoopBackOff)
    sim = sim_factory(ready_after=1.5)
    _kubectl_apply(
        {
            "apiVersion": "kaito.sh/v1beta1",
            "kind": "Workspace",
            "metadata": {"name": "llama", "namespace": "default"},
            "resource": {"instanceType": A100, "labelSelector": {"matchLabels": {"apps": "llama"}}},
            "inference": {"preset": {"name": "llama-3.1-8b-instruct"}},
        }
    )
    sim.wait_until(lambda: "CrashLoopBackOff" in json.dumps(sim.store.get("/pods", "default", "llama-0")), timeout=15)
    logs = run_cli("logs", "llama", "--previous", "--no-prefix")
    assert (
        "Cannot access gated repo for url https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct/resolve/"
        "main/config.json." in logs.stdout
    ), logs.stderr
    time.sleep(2)  # past ready_after: the workspace must still not turn ready
    code, doc = diag_json("llama")
    causes = [f["cause"] for f in doc["findings"]]
    assert code == 1 and causes[0] == "ModelAccessSecretMissing", causes
    f = doc["findings"][0]
    assert any("GatedRepoError: 401 Client Error" in e for e in f["evidence"]), f["evidence"]
    assert "--model-access-secret" in f["nextStep"]
    assert "CrashLoopBackOff" in causes  # the kubelet's view, with the Hub's refusal in the previous log


def test_nodes_held_not_ready(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=3)
    deploy("nodes")
    sim.controller.hold_nodes_unready("nodes")
    sim.wait_until(
        lambda: any(  # the NodeClaims launched: their nodes exist, NotReady
            c.get("type") == "NodeClaimReady" and c.get("status") == "True"
            for c in (sim.store.get("kaito.sh/workspaces", "default", "nodes") or {})
            .get("status", {})
            .get("conditions")
            or []
        ),
        timeout=10,
    )
    time.sleep(1.5)  # past the moment the nodes would have turned ready (ready_after / 3)
    r = run_cli("diagnose", "nodes")
    assert r.exit_code == 4, r.stderr
    assert "Cause: NodesNotReady: the GPU nodes are not ready yet" in r.stdout
    code, doc = diag_json("nodes")
    f = doc["findings"][0]
    assert (code, f["cause"]) == (4, "NodesNotReady")
    assert any("NodesReady=False (NodeNotReady): Not enough Nodes are ready" in e for e in f["evidence"]), f
    assert any(e.startswith("node/") and "NotReady" in e for e in f["evidence"]), f
