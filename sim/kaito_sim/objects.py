"""Manifests of the objects KAITO (and the cluster) create, following kaito-facts.md §2-3."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from .util import rfc3339

KAITO_VERSION = "0.12.0"
BASE_IMAGE = "mcr.microsoft.com/aks/kaito/kaito-base:0.5.0"
WS_API_VERSION = "kaito.sh/v1beta1"
FINALIZER = "workspace.finalizer.kaito.sh"
WS_LABEL = "kaito.sh/workspace"
WS_NS_LABEL = "kaito.sh/workspacenamespace"
FAIL_ANNOTATION = "sim.kaito.sh/fail"
FAIL_MESSAGE_ANNOTATION = "sim.kaito.sh/fail-message"


def owner_ref(ws: dict, controller: bool = True) -> dict:
    return {
        "apiVersion": ws.get("apiVersion", WS_API_VERSION),
        "kind": "Workspace",
        "name": ws["metadata"]["name"],
        "uid": ws["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def owned_metadata(ws: dict, name: str | None = None, *, revision: bool = False) -> dict:
    """The metadata of an object KAITO makes for a Workspace: `name` (default the workspace's), its namespace,
    the workspace label and the owner reference; a workload (StatefulSet, Job) also the revision annotation."""
    meta = ws["metadata"]
    out: dict = {"name": name or meta["name"], "namespace": meta.get("namespace", "default")}
    out["labels"] = {WS_LABEL: meta["name"]}
    if revision:
        out["annotations"] = {"workspace.kaito.io/revision": "1"}
    out["ownerReferences"] = [owner_ref(ws)]
    return out


def ws_hash(ns: str, name: str, n: int = 8) -> str:
    return hashlib.sha256(f"{ns}/{name}".encode()).hexdigest()[:n]


def node_names(ws: dict) -> list[str]:
    meta = ws["metadata"]
    count = int((ws.get("resource") or {}).get("count") or 1)
    h = ws_hash(meta.get("namespace", "default"), meta["name"])
    return [f"aks-ws{h}-{i}" for i in range(count)]


def ip_for(seed: str, prefix: str) -> str:
    h = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}.{h[0] % 250 + 2}.{h[1] % 250 + 2}"


def condition(ctype: str, status: bool | str, reason: str, message: str = "", generation: int = 1) -> dict:
    st = status if isinstance(status, str) else ("True" if status else "False")
    return {
        "type": ctype,
        "status": st,
        "reason": reason,
        "message": message or reason,
        "lastTransitionTime": rfc3339(),
        "observedGeneration": generation,
    }


def set_condition(conds: list[dict], new: dict) -> list[dict]:
    out = []
    found = False
    for c in conds:
        if c.get("type") == new["type"]:
            found = True
            if c.get("status") == new["status"]:
                new = dict(new, lastTransitionTime=c.get("lastTransitionTime", new["lastTransitionTime"]))
            out.append(new)
        else:
            out.append(c)
    if not found:
        out.append(new)
    return out


def workspace_preset(ws: dict) -> str | None:
    inf = ws.get("inference") or {}
    if inf.get("preset"):
        return inf["preset"].get("name")
    tun = ws.get("tuning") or {}
    if tun.get("preset"):
        return tun["preset"].get("name")
    return None


def service(ws: dict, cluster_ip: str, lb: bool) -> dict:
    meta = ws["metadata"]
    name = meta["name"]
    ports = [
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 5000},
        {"name": "ray", "port": 6379, "protocol": "TCP", "targetPort": 6379},
        {"name": "dashboard", "port": 8265, "protocol": "TCP", "targetPort": 8265},
    ]
    if not lb:
        ports.append({"name": "kv-events", "port": 5557, "protocol": "TCP", "targetPort": 5557})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": owned_metadata(ws),
        "spec": {
            "type": "LoadBalancer" if lb else "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
            "sessionAffinity": "None",
            "publishNotReadyAddresses": True,
            "ports": ports,
            "selector": {WS_LABEL: name, "statefulset.kubernetes.io/pod-name": f"{name}-0"},
            **({"externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": True} if lb else {}),
        },
        "status": {"loadBalancer": {}},
    }


def headless_service(ws: dict) -> dict:
    meta = ws["metadata"]
    name = meta["name"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": owned_metadata(ws, f"{name}-headless"),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "None",
            "clusterIPs": ["None"],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "sessionAffinity": "None",
            "publishNotReadyAddresses": True,
            "selector": {WS_LABEL: name},
        },
        "status": {"loadBalancer": {}},
    }


def _main_container(ws: dict, preset: str | None, served: str) -> dict:
    name = ws["metadata"]["name"]
    tmpl = (ws.get("inference") or {}).get("template") or {}
    tcs = ((tmpl.get("spec") or {}).get("containers")) or []
    if tcs:
        c = dict(tcs[0])
        c.setdefault("name", name)
        return c
    cmd = (
        "python3 /workspace/vllm/inference_api.py --served-model-name="
        + served
        + " --port=5000 --kaito-config-file=/mnt/config/inference_config.yaml"
    )
    return {
        "name": name,
        "image": BASE_IMAGE,
        "command": ["/bin/sh", "-c", cmd],
        "ports": [{"containerPort": 5000, "name": "http", "protocol": "TCP"}],
        "resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1"}},
        "startupProbe": {
            "httpGet": {"path": "/health", "port": 5000, "scheme": "HTTP"},
            "periodSeconds": 10,
            "failureThreshold": 180,
        },
        "livenessProbe": {"httpGet": {"path": "/health", "port": 5000, "scheme": "HTTP"}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/health", "port": 5000, "scheme": "HTTP"}, "periodSeconds": 10},
        "env": [{"name": "PRESET_NAME", "value": preset or ""}],
    }


def statefulset(ws: dict, replicas: int, served: str) -> dict:
    meta = ws["metadata"]
    name = meta["name"]
    container = _main_container(ws, workspace_preset(ws), served)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": owned_metadata(ws, revision=True),
        "spec": {
            "replicas": replicas,
            "serviceName": f"{name}-headless",
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {WS_LABEL: name}},
            "template": {"metadata": {"labels": {WS_LABEL: name}}, "spec": {"containers": [container]}},
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": 0,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": 0,
            "observedGeneration": 1,
        },
    }


def job(ws: dict) -> dict:
    """The tuning Job `<ws>` (pkg/workspace/manifests/manifests.go:202-228, v0.12.0): main container `<ws>`;
    an image output adds the `pusher` and `pause` sidecars and the push secret
    (pkg/workspace/tuning/preset_tuning.go:325-366, pkg/workspace/image/pusher.go:81-93); URL inputs
    the `data-downloader` init container (preset_tuning.go:386-430)."""
    meta = ws["metadata"]
    name = meta["name"]
    tuning = ws.get("tuning") or {}
    container = {
        "name": name,
        "image": BASE_IMAGE,
        "command": ["/bin/sh", "-c", "python3 /workspace/tfs/fine_tuning.py"],
        "resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1"}},
    }
    pod_spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
    out = tuning.get("output") or {}
    if out.get("image"):
        pod_spec["containers"] = [
            container,
            {
                "name": "pusher",
                "image": "ghcr.io/oras-project/oras:v1.2.2",
                "command": ["/bin/sh", "-c"],
                "args": [
                    f"oras push {out['image']} --annotation sh.kaito.model.name="
                    f"{(tuning.get('preset') or {}).get('name', '')} ."
                ],
            },
            {"name": "pause", "image": "registry.k8s.io/pause:latest"},
        ]
        pod_spec["shareProcessNamespace"] = True
        if out.get("imagePushSecret"):
            pod_spec["imagePullSecrets"] = [{"name": out["imagePushSecret"]}]
    inp = tuning.get("input") or {}
    if inp.get("urls"):
        pod_spec["initContainers"] = [
            {
                "name": "data-downloader",
                "image": "curlimages/curl",
                "env": [
                    {"name": "DATA_URLS", "value": " ".join(inp["urls"])},
                    {"name": "DATA_VOLUME_PATH", "value": "/mnt/data"},
                ],
            }
        ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": owned_metadata(ws, revision=True),
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "backoffLimit": 6,
            "selector": {"matchLabels": {"batch.kubernetes.io/job-name": name}},
            "template": {
                "metadata": {"labels": {WS_LABEL: name, "batch.kubernetes.io/job-name": name}},
                "spec": pod_spec,
            },
        },
        "status": {"active": 1, "startTime": rfc3339(), "ready": 0},
    }


def pod(ws: dict, index: int, node: str | None, owner: dict, *, job_pod: bool = False, served: str = "") -> dict:
    meta = ws["metadata"]
    name, ns = meta["name"], meta.get("namespace", "default")
    pod_name = f"{name}-{index}" if not job_pod else f"{name}-{ws_hash(ns, name + '-job', 5)}"
    labels = {WS_LABEL: name}
    if job_pod:
        labels.update({"batch.kubernetes.io/job-name": name, "job-name": name})
        template = job(ws)["spec"]["template"]["spec"]
        containers = template["containers"]
    else:
        template = {}
        labels.update(
            {
                "statefulset.kubernetes.io/pod-name": pod_name,
                "apps.kubernetes.io/pod-index": str(index),
                "controller-revision-hash": f"{name}-{ws_hash(ns, name, 10)}",
            }
        )
        containers = [_main_container(ws, workspace_preset(ws), served)]
    spec: dict[str, Any] = {
        "containers": containers,
        "restartPolicy": "Never" if job_pod else "Always",
        "schedulerName": "default-scheduler",
        "dnsPolicy": "ClusterFirst",
        "tolerations": [{"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
    }
    if template.get("initContainers"):  # the Job controller copies its template's init containers too
        spec["initContainers"] = template["initContainers"]
    if not job_pod:
        spec["hostname"] = pod_name
        spec["subdomain"] = f"{name}-headless"
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": ns, "labels": labels, "ownerReferences": [owner]},
        "spec": spec,
        "status": {
            "phase": "Pending",
            "qosClass": "BestEffort",
            "conditions": [
                {"type": "PodScheduled", "status": "True" if node else "False", "lastTransitionTime": rfc3339()}
            ],
        },
    }


def pod_status(
    p: dict,
    *,
    phase: str,
    ready: bool = False,
    waiting: tuple[str, str] | None = None,
    restart_count: int = 0,
    last_terminated: dict | None = None,
    terminated: dict | None = None,
    node_ip: str | None = None,
    pod_ip: str | None = None,
    started: bool | None = None,
    unschedulable: str | None = None,
) -> dict:
    """A new status for pod `p` (single main container)."""
    now = rfc3339()
    cname = p["spec"]["containers"][0]["name"]
    image = p["spec"]["containers"][0].get("image", BASE_IMAGE)
    if terminated is not None:
        state = {"terminated": terminated}
    elif waiting is not None:
        state = {"waiting": {"reason": waiting[0], "message": waiting[1]} if waiting[1] else {"reason": waiting[0]}}
    else:
        state = {"running": {"startedAt": now}}
    cs: dict[str, Any] = {
        "name": cname,
        "image": image,
        "imageID": "",
        "ready": ready,
        "restartCount": restart_count,
        "started": bool(started if started is not None else "running" in state),
        "state": state,
        "lastState": {},
    }
    if "running" in state or terminated is not None:
        cs["imageID"] = image.split(":")[0] + "@sha256:" + hashlib.sha256(image.encode()).hexdigest()
        cs["containerID"] = (
            "containerd://" + hashlib.sha256((p["metadata"]["name"] + str(restart_count)).encode()).hexdigest()
        )
    if last_terminated:
        cs["lastState"] = {"terminated": last_terminated}
    conds = [
        {
            "type": "PodScheduled",
            "status": "False" if unschedulable else "True",
            "lastTransitionTime": now,
            **({"reason": "Unschedulable", "message": unschedulable} if unschedulable else {}),
        },
    ]
    if not unschedulable:
        conds += [
            {
                "type": "PodReadyToStartContainers",
                "status": "True" if phase != "Pending" or waiting else "False",
                "lastTransitionTime": now,
            },
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True" if ready else "False", "lastTransitionTime": now},
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now},
        ]
    st: dict[str, Any] = {"phase": phase, "qosClass": "BestEffort", "conditions": conds}
    if not unschedulable:
        st["containerStatuses"] = [cs]
        st["startTime"] = (p.get("status") or {}).get("startTime") or now
        if node_ip:
            st["hostIP"] = node_ip
            st["hostIPs"] = [{"ip": node_ip}]
        if pod_ip:
            st["podIP"] = pod_ip
            st["podIPs"] = [{"ip": pod_ip}]
    return st


def node(
    name: str,
    *,
    internal_ip: str,
    external_ip: str | None = None,
    ready: bool = True,
    labels: dict | None = None,
    instance_type: str | None = None,
    gpu: bool = True,
) -> dict:
    lab = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
    }
    if instance_type:
        lab["node.kubernetes.io/instance-type"] = instance_type
        lab["beta.kubernetes.io/instance-type"] = instance_type
    if gpu:
        lab.update({"accelerator": "nvidia", "nvidia.com/gpu.present": "true"})
    lab.update(labels or {})
    addresses = [{"type": "InternalIP", "address": internal_ip}, {"type": "Hostname", "address": name}]
    if external_ip:
        addresses.insert(1, {"type": "ExternalIP", "address": external_ip})
    now = rfc3339()
    capacity = {"cpu": "24", "memory": "226764300Ki", "pods": "110", "ephemeral-storage": "1055762868Ki"}
    if gpu:
        capacity["nvidia.com/gpu"] = "1"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": lab},
        "spec": {
            "providerID": f"azure:///subscriptions/sim/resourceGroups/sim/providers/Microsoft.Compute/"
            f"virtualMachines/{name}",
            **({"taints": [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}]} if gpu else {}),
        },
        "status": {
            "conditions": [
                {
                    "type": "MemoryPressure",
                    "status": "False",
                    "reason": "KubeletHasSufficientMemory",
                    "message": "kubelet has sufficient memory available",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "DiskPressure",
                    "status": "False",
                    "reason": "KubeletHasNoDiskPressure",
                    "message": "kubelet has no disk pressure",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "PIDPressure",
                    "status": "False",
                    "reason": "KubeletHasSufficientPID",
                    "message": "kubelet has sufficient PID available",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                    "message": "kubelet is posting ready status" if ready else "container runtime network not ready",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                },
            ],
            "addresses": addresses,
            "capacity": capacity,
            "allocatable": dict(capacity),
            "nodeInfo": {
                "machineID": hashlib.md5(name.encode()).hexdigest(),
                "systemUUID": str(uuid.UUID(hashlib.md5(("sys" + name).encode()).hexdigest())),
                "bootID": str(uuid.UUID(hashlib.md5(("boot" + name).encode()).hexdigest())),
                "kubeletVersion": "v1.36.2",
                "osImage": "Ubuntu 22.04.5 LTS",
                "kernelVersion": "5.15.0-1092-azure",
                "containerRuntimeVersion": "containerd://1.7.28-1",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "kubeProxyVersion": "",
            },
        },
    }


def vllm_startup_lines(served: str, preset: str | None, ts: float | None = None) -> tuple[list[str], list[str]]:
    """(lines while loading, lines when serving)."""
    t = time.strftime("%m-%d %H:%M:%S", time.gmtime(ts or time.time()))
    loading = [
        f"INFO {t} [__init__.py:241] Automatically detected platform cuda.",
        f"INFO {t} [api_server.py:1805] vLLM API server version 0.26.0",
        f"INFO {t} [api_server.py:1806] args: Namespace(host=None, port=5000, model='/workspace/vllm/weights', "
        f"served_model_name=['{served}'], tensor_parallel_size=1, gpu_memory_utilization=0.84, "
        f"kaito_config_file='/mnt/config/inference_config.yaml')",
        f"INFO {t} [config.py:1604] Using max model len 131072",
        f"INFO {t} [gpu_model_runner.py:1843] Starting to load model {preset or served}...",
        f"INFO {t} [default_loader.py:262] Loading weights took 11.52 seconds",
        f"INFO {t} [gpu_model_runner.py:1892] Model loading took 7.1694 GiB and 12.043213 seconds",
        f"INFO {t} [kv_cache_utils.py:833] GPU KV cache size: 412,512 tokens",
    ]
    serving = [
        f"INFO {t} [api_server.py:1857] Starting vLLM API server 0 on http://0.0.0.0:5000",
        f"INFO {t} [launcher.py:29] Available routes are:",
        f"INFO {t} [launcher.py:37] Route: /health, Methods: GET",
        f"INFO {t} [launcher.py:37] Route: /v1/models, Methods: GET",
        f"INFO {t} [launcher.py:37] Route: /v1/chat/completions, Methods: POST",
        f"INFO {t} [launcher.py:37] Route: /v1/completions, Methods: POST",
        "INFO:     Started server process [1]",
        "INFO:     Waiting for application startup.",
        "INFO:     Application startup complete.",
        "INFO:     Uvicorn running on http://0.0.0.0:5000 (Press CTRL+C to quit)",
    ]
    return loading, serving


def crash_lines(served: str, oom: bool = False) -> list[str]:
    t = time.strftime("%m-%d %H:%M:%S", time.gmtime())
    if oom:
        return [
            f"INFO {t} [gpu_model_runner.py:1843] Starting to load model {served}...",
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.",
        ]
    return [
        f"INFO {t} [api_server.py:1805] vLLM API server version 0.26.0",
        f"ERROR {t} [core.py:700] EngineCore failed to start.",
        "Traceback (most recent call last):",
        '  File "/workspace/vllm/inference_api.py", line 312, in <module>',
        "    main()",
        "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
    ]
