"""The real kubectl against the simulator (fresh HOME and KUBECACHEDIR per test)."""

from __future__ import annotations

import os
import subprocess
import threading
import time

WS_YAML = """\
apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata:
  name: {name}
resource:
  instanceType: Standard_NC24ads_A100_v4
  labelSelector:
    matchLabels:
      apps: {name}
inference:
  preset:
    name: {preset}
"""


def test_get_workspaces_table_columns(sim, kubectl):
    sim.seed_workspace("ws1")
    sim.seed_workspace("ws2", ready=False)
    out = kubectl("get", "workspaces", check=True).stdout.splitlines()
    assert out[0].split() == [
        "NAME",
        "INSTANCE",
        "RESOURCEREADY",
        "INFERENCEREADY",
        "JOBSTARTED",
        "WORKSPACESUCCEEDED",
        "TARGETNODECOUNT",
        "STATE",
        "AGE",
    ]
    row1 = out[1].split()
    assert row1[:4] == ["ws1", "Standard_NC24ads_A100_v4", "True", "True"] and "Ready" in row1
    assert out[2].split()[0] == "ws2" and "Pending" in out[2].split()
    assert kubectl("get", "wk", "-o", "name", check=True).stdout.split() == [
        "workspace.kaito.sh/ws1",
        "workspace.kaito.sh/ws2",
    ]
    assert kubectl("get", "wks", "ws1", "-o", "jsonpath={.status.state}", check=True).stdout == "Ready"
    # the table was built by the server
    assert any("as=Table" in (r.headers.get("Accept") or "") for r in sim.requests)


def test_get_services_and_jsonpath(sim, kubectl):
    sim.seed_workspace("ws1")
    sim.seed_workspace("lb", service_type="LoadBalancer")
    out = kubectl("get", "svc", check=True).stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert lines["ws1"][1] == "ClusterIP" and lines["ws1"][3] == "<none>"
    assert lines["lb"][1] == "LoadBalancer" and lines["lb"][3].count(".") == 3
    ip = kubectl("get", "svc", "ws1", "-o", "jsonpath={.spec.clusterIP}", check=True).stdout
    assert ip == sim.get("v1", "Service", "ws1")["spec"]["clusterIP"]
    ports = kubectl("get", "svc", "ws1", "-o", 'jsonpath={.spec.ports[?(@.name=="http")].port}', check=True)
    assert ports.stdout == "80"
    pods = kubectl("get", "po", "-l", "kaito.sh/workspace=ws1", "-o", "wide", check=True).stdout
    assert "ws1-0" in pods and "Running" in pods and "aks-ws" in pods
    assert "Ready" in kubectl("get", "no", check=True).stdout
    assert "InferenceReady" in kubectl("get", "ev", check=True).stdout
    assert "kaito-workspace" in kubectl("get", "deploy", "-n", "kaito-workspace", check=True).stdout
    assert "workspaces.kaito.sh" in kubectl("get", "crd", check=True).stdout
    assert "kaito-supported-models" in kubectl("get", "cm", "-n", "kaito-workspace", check=True).stdout
    assert "ws1" in kubectl("get", "sts", check=True).stdout
    assert "kaito-workspace" in kubectl("get", "ns", check=True).stdout


def test_not_found_message(sim, kubectl):
    r = kubectl("get", "wk", "nope")
    assert r.returncode == 1
    assert r.stderr.strip() == 'Error from server (NotFound): workspaces.kaito.sh "nope" not found'


def test_apply_with_default_validation_create_unchanged_configured(sim, kubectl):
    manifest = WS_YAML.format(name="ap", preset="phi-4-mini-instruct")
    r = kubectl("apply", "-f", "-", input=manifest)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "workspace.kaito.sh/ap created"
    # kubectl found fieldValidation support in /openapi/v3 and let the server validate strictly
    post = next(x for x in sim.requests if x.method == "POST" and x.path.endswith("/workspaces"))
    assert post.query.get("fieldValidation") == "Strict"
    r = kubectl("apply", "-f", "-", input=manifest)
    assert r.stdout.strip() == "workspace.kaito.sh/ap unchanged", r.stderr
    r = kubectl("apply", "-f", "-", input=manifest.replace("metadata:\n", "metadata:\n  labels: {team: a}\n"))
    assert r.stdout.strip() == "workspace.kaito.sh/ap configured", r.stderr
    assert sim.get("kaito.sh/v1beta1", "Workspace", "ap")["metadata"]["labels"] == {"team": "a"}
    svc = "apiVersion: v1\nkind: Service\nmetadata: {name: mine}\nspec:\n  ports: [{port: 80, targetPort: 8080}]\n"
    assert kubectl("apply", "-f", "-", input=svc, check=True).stdout.strip() == "service/mine created"
    r = kubectl("apply", "-f", "-", input=svc.replace("8080", "9090"), check=True)
    assert r.stdout.strip() == "service/mine configured"
    assert sim.get("v1", "Service", "mine")["spec"]["ports"][0]["targetPort"] == 9090


def test_apply_validate_false_and_errors(sim, kubectl):
    r = kubectl("apply", "--validate=false", "-f", "-", input=WS_YAML.format(name="v", preset="phi-4"))
    assert r.returncode == 0 and "created" in r.stdout
    r = kubectl("apply", "-f", "-", input=WS_YAML.format(name="bad", preset="gpt-9000"))
    assert r.returncode == 1
    assert (
        'admission webhook "validation.workspace.kaito.sh" denied the request: validation failed: invalid '
        "value: Unsupported inference preset name gpt-9000: inference.presetName"
    ) in r.stderr
    wrong_field = WS_YAML.format(name="typo", preset="phi-4").replace("inference:", "inferense:\n  x: 1\ninference:")
    r = kubectl("apply", "-f", "-", input=wrong_field)
    assert r.returncode == 1 and 'unknown field "inferense"' in r.stderr
    r = kubectl("apply", "--dry-run=server", "-f", "-", input=WS_YAML.format(name="dry", preset="nope"))
    assert r.returncode == 1 and "denied the request" in r.stderr


def test_logs_follow(sim, kubectl):
    sim.seed_workspace("lg", logs=False)
    sim.append_logs("default", "lg-0", ["hello 1"])
    proc = subprocess.Popen(
        [kubectl.binary, "logs", "-f", "lg-0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == "hello 1\n"
        sim.append_logs("default", "lg-0", ["hello 2"])
        assert proc.stdout.readline() == "hello 2\n"
        sim.close_logs("default", "lg-0")
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    r = kubectl("logs", "lg-0", "--tail=1", check=True)
    assert r.stdout == "hello 2\n"


def test_get_watch(sim, kubectl):
    sim.seed_workspace("w1")
    proc = subprocess.Popen(
        [kubectl.binary, "get", "wk", "-w", "--output-watch-events", "--request-timeout=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    lines: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")), daemon=True)
    reader.start()
    try:
        sim.wait_until(lambda: any(line.startswith("ADDED") and " w1 " in line for line in lines), timeout=10)
        sim.apply(
            {
                "apiVersion": "kaito.sh/v1beta1",
                "kind": "Workspace",
                "metadata": {"name": "w2"},
                "resource": {"labelSelector": {"matchLabels": {"a": "b"}}},
                "inference": {"preset": {"name": "phi-4"}},
            }
        )
        sim.wait_until(lambda: any(line.startswith("ADDED") and " w2 " in line for line in lines), timeout=10)
        sim.delete("kaito.sh/v1beta1", "Workspace", "w1")
        sim.wait_until(lambda: any(line.startswith("DELETED") and " w1 " in line for line in lines), timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert lines[0].split()[:3] == ["EVENT", "NAME", "INSTANCE"]


def test_delete_waits_for_finalizer(sim_factory, kubectl):
    # KAITO v0.12 drops its finalizer at once; a slow cleanup holds the object so kubectl has to wait
    sim = sim_factory(cleanup="slow", cleanup_delay=0.5)
    sim.seed_workspace("del")
    t0 = time.time()
    r = kubectl("delete", "wk", "del", "--wait=true", "--timeout=20s")
    assert r.returncode == 0, r.stderr
    assert 'workspace.kaito.sh "del" deleted' in r.stdout
    assert time.time() - t0 < 10
    assert sim.get("kaito.sh/v1beta1", "Workspace", "del") is None
    # kubectl waited with a watch filtered on the name
    assert any(
        x.query.get("watch") in ("true", "1") and "metadata.name=del" in x.query.get("fieldSelector", "")
        for x in sim.requests
    )


def test_kubectl_with_client_certificate(sim_factory, kubectl):
    s = sim_factory(user_auth="cert")
    s.seed_workspace("c1")
    assert "c1" in kubectl("get", "wk", check=True).stdout
    assert all("Authorization" not in r.headers for r in s.requests)


def test_kubectl_without_kaito(sim_factory, kubectl):
    sim_factory(kaito=False)
    r = kubectl("get", "workspaces")
    assert r.returncode == 1 and 'the server doesn\'t have a resource type "workspaces"' in r.stderr


def test_kubectl_create_uses_protobuf(sim, kubectl):
    """kubectl's typed create commands send protobuf; the sim decodes Namespace, ConfigMap, Secret."""
    assert kubectl("create", "ns", "team", check=True).stdout.strip() == "namespace/team created"
    kubectl("create", "configmap", "cfg", "-n", "team", "--from-literal=inference_config.yaml=vllm: {}", check=True)
    kubectl("create", "secret", "generic", "hf", "-n", "team", "--from-literal=HF_TOKEN=abc", check=True)
    assert sim.get("v1", "ConfigMap", "cfg", "team")["data"] == {"inference_config.yaml": "vllm: {}"}
    secret = sim.get("v1", "Secret", "hf", "team")
    assert secret["data"] == {"HF_TOKEN": "YWJj"} and secret["type"] == "Opaque"
    assert any(r.headers.get("Content-Type") == "application/vnd.kubernetes.protobuf" for r in sim.requests)
    r = kubectl("create", "deployment", "web", "--image=nginx")
    assert r.returncode == 1 and "not supported by the simulator" in r.stderr
