"""SimCluster: the public face of the simulator (used by all tests and by `kubectl-kaito-sim`)."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from . import certs
from . import objects as O
from .api import Api
from .controller import WS_KEY, KaitoController, Scheduler, SystemControllers
from .inferenceset import InferenceSetController, gateway_crds
from .logs import LogStore
from .openai import OpenAIStandIn, Response
from .resources import CRD_KEY, Registry, ResourceType, data_text, kaito_crds
from .server import ApiHandler, GatewayHandler, OpenAIHandler, SimHTTPServer, SimRequest, make_server_ssl_context
from .store import Store
from .util import deepcopy, new_uid, rfc3339
from .webhook import served_model_name, token_limit

KAITO_NS = "kaito-workspace"
SYSTEM_NODE = "aks-nodepool1-38225197-vmss000000"

__all__ = ["Response", "SimCluster", "SimRequest"]

INFERENCE_PARAMS = """\
vllm:
  cpu-offload-gb: 0
  gpu-memory-utilization: 0.84
  swap-space: 4
"""

TUNING_PARAMS = """\
training_config:
  ModelConfig:
    torch_dtype: "bfloat16"
    local_files_only: true
    device_map: "auto"
  QuantizationConfig:
    load_in_4bit: {q}
  LoraConfig:
    r: 8
    lora_alpha: 8
    lora_dropout: 0.0
  TrainingArguments:
    output_dir: "/mnt/results"
    num_train_epochs: 4
  DataCollator:
    mlm: true
  DatasetConfig:
    shuffle_dataset: true
    train_test_split: 1
"""


class LogFlood:
    """A background thread appending many log lines (see SimCluster.start_log_flood)."""

    def __init__(self, target: Callable[[LogFlood], None]) -> None:
        self.done = threading.Event()
        self.stopped = threading.Event()
        self.lines_written = 0
        self._thread = threading.Thread(target=self._run, args=(target,), daemon=True, name="kaito-sim-log-flood")

    def _run(self, target) -> None:
        try:
            target(self)
        finally:
            self.done.set()

    def start(self) -> LogFlood:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def stop(self) -> None:
        self.stopped.set()
        self.done.wait(5)


class SimCluster:
    """A simulated Kubernetes API server with KAITO installed. See docs/simulator.md."""

    def __init__(
        self,
        ready_after: float = 0.3,
        kaito: bool = True,
        served_versions: tuple[str, ...] = ("v1alpha1", "v1beta1"),
        operator: bool = True,
        webhook: bool = True,
        lb_pending: bool = False,
        extra_sans: Iterable[str] = (),
        watch_max_seconds: float | None = None,
        *,
        port: int = 0,
        openai_port: int = 0,
        event_window: int = 10000,
        gc_delay: float = 0.05,
        lb_delay: float | None = None,
        bookmark_interval: float = 1.0,
        debug: bool = False,
        ttft: float | None = None,
        tokens_per_second: float | None = None,
        max_num_seqs: int | None = None,
        node_provisioner: str = "azure-gpu-provisioner",
        legacy_conditions: bool = False,
        cleanup: str = "fast",
        cleanup_delay: float = 1.0,
        feature_gates: dict[str, bool] | None = None,
        gateway: bool = False,
        inferenceset_versions: tuple[str, ...] | None = None,
    ) -> None:
        # True: the gatewayAPIInferenceExtension gate on, plus a Gateway (inferenceset.py)
        self.gateway = bool(gateway)
        self.gateway_port = 0
        # the versions InferenceSets are served at: None = as Workspaces; () = not at all (KAITO < v0.8)
        self.inferenceset_versions = None if inferenceset_versions is None else tuple(inferenceset_versions)
        self.ready_after = float(ready_after)
        # KAITO's chart value nodeProvisioner (charts/kaito/workspace/values.yaml:57, v0.12.0):
        # "azure-gpu-provisioner" (default), "karpenter" or "byo" (bring your own nodes)
        if node_provisioner not in ("azure-gpu-provisioner", "karpenter", "byo"):
            raise ValueError(f"unknown node_provisioner {node_provisioner!r}")
        self.node_provisioner = node_provisioner
        # True: a KAITO v0.1-v0.3.0 controller (WorkspaceReady instead of WorkspaceSucceeded, no state)
        self.legacy_conditions = bool(legacy_conditions)
        # deletion: "fast" (v0.12: finalizer removed at once), "slow" (held cleanup_delay s with
        # WorkspaceDeleting), "failing" (held for ever, WorkspaceDeleting with the last reconcile error)
        if cleanup not in ("fast", "slow", "failing"):
            raise ValueError(f"unknown cleanup {cleanup!r}")
        self.cleanup = cleanup
        self.cleanup_delay = float(cleanup_delay)
        # the workspace controller's --feature-gates (enableMIG, enableAccelerator, ...)
        self.feature_gates = dict(feature_gates or {})
        self._kaito = bool(kaito)
        self.served_versions = tuple(served_versions)
        self._operator = bool(operator)
        self.webhook = bool(webhook)
        # True: the webhook configuration exists but nothing serves it (operator pods gone), so every
        # Workspace create/update fails with the real 500 "failed calling webhook" error
        self.webhook_down = False
        self._lb_pending = bool(lb_pending)
        self.extra_sans = tuple(extra_sans)
        self.watch_max_seconds = watch_max_seconds
        self.watch_expired_mode = "event"  # "event": 200 + ERROR event (real); "http": HTTP 410
        self.gc_delay = gc_delay
        self.lb_delay = lb_delay if lb_delay is not None else min(0.2, max(0.02, self.ready_after / 3))
        self.bookmark_interval = bookmark_interval
        self.debug = debug
        self._want_port = port
        self._want_openai_port = openai_port

        self.store = Store(event_window)
        self.registry = Registry()
        self.logs = LogStore()
        self.openai = OpenAIStandIn()
        self.openai.set_speed(ttft, tokens_per_second, max_num_seqs)  # all None: the stand-in's defaults
        self.api = Api(self)
        self.requests: list[SimRequest] = []
        self._req_lock = threading.Lock()
        self.proxy_handlers: dict[tuple[str, str], Callable[[str, str, dict, bytes], Response]] = {}
        self.stopping = threading.Event()
        self.token = secrets.token_hex(24)
        self.tokens: dict[str, str] = {self.token: "kaito-sim-admin"}
        self._sched = Scheduler()
        self.system = SystemControllers(self, self._sched)
        self.controller = KaitoController(self, self._sched)
        self.iset_controller = InferenceSetController(self, self._sched)
        self.store.add_listener(self._on_store_event)

        self._server: SimHTTPServer | None = None
        self._openai_server: SimHTTPServer | None = None
        self._gateway_server: SimHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._tmp: str | None = None
        self._started = False
        self.port = 0
        self.openai_port = 0
        ca = certs.ca_pair()
        self.ca_pem: bytes = ca.cert_pem
        client = certs.client_pair()
        self.client_cert_pem: bytes = client.cert_pem
        self.client_key_pem: bytes = client.key_pem
        self._event_index: dict[tuple[str, str, str], tuple[str, str]] = {}
        self.kubeconfig_path: Path | None = None  # the last one written by write_kubeconfig

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SimCluster:
        if self._started:
            return self
        # Not "kaito-": that is the plugin's prefix for key files, which a test checks never stay in /tmp
        # (a simulator started meanwhile by another test run would look like a leak).
        self._tmp = tempfile.mkdtemp(prefix="kaito_sim-")
        server = certs.server_pair(self.extra_sans)
        cert_file = os.path.join(self._tmp, "server.crt")
        key_file = os.path.join(self._tmp, "server.key")
        ca_file = os.path.join(self._tmp, "ca.crt")
        Path(cert_file).write_bytes(server.cert_pem)
        Path(key_file).write_bytes(server.key_pem)
        Path(ca_file).write_bytes(self.ca_pem)
        ctx = make_server_ssl_context(cert_file, key_file, ca_file)
        self._server = SimHTTPServer(("127.0.0.1", self._want_port), ApiHandler, self, ctx)
        self.port = self._server.server_address[1]
        self._openai_server = SimHTTPServer(("127.0.0.1", self._want_openai_port), OpenAIHandler, None, None)
        self._openai_server.standin = self.openai  # type: ignore[attr-defined]  # set on SimHTTPServer for the OpenAI handler
        self.openai_port = self._openai_server.server_address[1]
        servers = [(self._server, "kaito-sim-api"), (self._openai_server, "kaito-sim-openai")]
        if self.gateway:
            self._gateway_server = SimHTTPServer(("127.0.0.1", 0), GatewayHandler, self, None)
            self.gateway_port = self._gateway_server.server_address[1]
            servers.append((self._gateway_server, "kaito-sim-gateway"))
        self._bootstrap()
        self._sched.start()
        for srv, name in servers:
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True, name=name)
            t.start()
            self._threads.append(t)
        self._started = True
        return self

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self.stopping.set()
        self.openai.stop_event.set()
        self.logs.close_all()
        self.store.wake_all()
        for srv in (self._server, self._openai_server, self._gateway_server):
            if srv is not None:
                srv.fast_shutdown()
                srv.close_all_connections()
                srv.server_close()
        self._sched.stop()
        for t in self._threads:
            t.join(timeout=5)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> SimCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.openai_port}"

    @property
    def controller_errors(self) -> list[str]:
        """Tracebacks from controller callbacks (should stay empty)."""
        return self._sched.errors

    # ------------------------------------------------------------------ kubeconfig
    def kubeconfig(self, *, namespace: str = "default", context: str = "kaito-sim", user_auth: str = "token") -> dict:
        user: dict[str, Any] = {}
        if user_auth in ("token", "both"):
            user["token"] = self.token
        if user_auth in ("cert", "both"):
            user["client-certificate-data"] = base64.b64encode(self.client_cert_pem).decode()
            user["client-key-data"] = base64.b64encode(self.client_key_pem).decode()
        if user_auth not in ("token", "cert", "both"):
            raise ValueError("user_auth must be 'token', 'cert' or 'both'")
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [
                {
                    "name": context,
                    "cluster": {
                        "server": self.url,
                        "certificate-authority-data": base64.b64encode(self.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": f"{context}-admin", "user": user}],
            "contexts": [
                {"name": context, "context": {"cluster": context, "user": f"{context}-admin", "namespace": namespace}}
            ],
            "current-context": context,
        }

    def write_kubeconfig(
        self,
        path: str | os.PathLike,
        *,
        namespace: str = "default",
        context: str = "kaito-sim",
        user_auth: str = "token",
    ) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(
            yaml.safe_dump(self.kubeconfig(namespace=namespace, context=context, user_auth=user_auth), sort_keys=False)
        )
        try:
            p.chmod(0o600)
        except OSError:
            pass
        self.kubeconfig_path = p
        return p

    def mint_client_cert(
        self, common_name: str = "test-user", groups: tuple[str, ...] = (), foreign: bool = False
    ) -> tuple[bytes, bytes]:
        """A client (cert_pem, key_pem); `foreign=True` signs it with a CA the server does not trust."""
        pair = certs.client_pair(common_name, groups, foreign=foreign)
        return pair.cert_pem, pair.key_pem

    # ------------------------------------------------------------------ state switches
    def operator_active(self) -> bool:
        return self._kaito and self._operator

    def webhook_active(self) -> bool:
        return self.webhook and self.operator_active()

    @property
    def lb_pending(self) -> bool:
        return self._lb_pending

    @lb_pending.setter
    def lb_pending(self, value: bool) -> None:
        self._lb_pending = bool(value)
        if not value and self._started:
            self.system.assign_pending_lbs()

    def set_kaito_installed(self, installed: bool) -> None:
        """Install (CRDs, namespace, operator when enabled) or uninstall KAITO (which, like
        `helm uninstall`, deletes the CRDs and with them every Workspace)."""
        self._kaito = bool(installed)
        if installed:
            self._install_kaito()
            if self._operator:
                self._sched.call_later(0, self.controller.resync)
                self._sched.call_later(0, self.iset_controller.resync)
        else:
            self._uninstall_kaito()

    def set_operator(self, running: bool) -> None:
        """Start/stop the operator: its Deployment, the controller and the webhook."""
        self._operator = bool(running)
        if not self._kaito:
            return
        if running:
            self._install_operator()
            self._sched.call_later(0, self.controller.resync)
            self._sched.call_later(0, self.iset_controller.resync)
        else:
            self._remove_operator()

    # ------------------------------------------------------------------ bootstrap
    def _bootstrap(self) -> None:
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.internal_create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.internal_create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": "10.0.0.1",
                    "clusterIPs": ["10.0.0.1"],
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}],
                    "sessionAffinity": "None",
                },
            }
        )
        self.internal_create(
            O.node(
                SYSTEM_NODE,
                internal_ip="10.224.0.4",
                gpu=False,
                instance_type="Standard_D4ds_v5",
                labels={"kubernetes.azure.com/agentpool": "nodepool1", "kubernetes.azure.com/mode": "system"},
            )
        )
        if self._kaito:
            self._install_kaito()

    def _install_kaito(self) -> None:
        crds = kaito_crds(self.served_versions)
        if self.inferenceset_versions is not None:
            iset = [c for c in kaito_crds(self.inferenceset_versions) if c["spec"]["names"]["kind"] == "InferenceSet"]
            crds = [c for c in crds if c["spec"]["names"]["kind"] != "InferenceSet"] + iset
        if self.gateway:
            crds += gateway_crds()
        for crd in crds:
            if self.store.get(CRD_KEY, "", crd["metadata"]["name"]) is None:
                self.internal_create(crd)
        self.ensure_namespace(KAITO_NS, labels={"app.kubernetes.io/managed-by": "Helm"})
        helm = self._helm_labels()
        cms = {
            "kaito-supported-models": {"SupportedModels": data_text("supported_models.yaml")},
            "inference-params-template": {"inference_config.yaml": INFERENCE_PARAMS},
            "lora-params-template": {"training_config.yaml": TUNING_PARAMS.format(q="false")},
            "qlora-params-template": {"training_config.yaml": TUNING_PARAMS.format(q="true")},
        }
        for name, data in cms.items():
            if self.store.get("/configmaps", KAITO_NS, name) is None:
                self.internal_create(
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": name, "namespace": KAITO_NS, "labels": dict(helm)},
                        "data": data,
                    }
                )
        if self._operator:
            self._install_operator()

    def _helm_labels(self) -> dict:
        return {
            "app.kubernetes.io/managed-by": "Helm",
            "app.kubernetes.io/instance": "kaito-workspace",
            "app.kubernetes.io/name": "workspace",
            "app.kubernetes.io/version": O.KAITO_VERSION,
            "helm.sh/chart": f"workspace-{O.KAITO_VERSION}",
        }

    def _install_operator(self) -> None:
        if self.store.get("apps/deployments", KAITO_NS, "kaito-workspace") is not None:
            return
        labels = self._helm_labels()
        sel = {"app.kubernetes.io/instance": "kaito-workspace", "app.kubernetes.io/name": "workspace"}
        image = f"mcr.microsoft.com/aks/kaito/workspace:{O.KAITO_VERSION}"
        container = {
            "name": "workspace",
            "image": image,
            "args": [
                "--feature-gates=vLLM=true,enableInferenceSetController=true",
                "--node-provisioner=azure-gpu-provisioner",
            ],
            "ports": [{"name": "http-metrics", "containerPort": 8080}, {"name": "webhook", "containerPort": 9443}],
        }
        dep = self.internal_create(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": "kaito-workspace",
                    "namespace": KAITO_NS,
                    "labels": labels,
                    "annotations": {
                        "deployment.kubernetes.io/revision": "1",
                        "meta.helm.sh/release-name": "kaito-workspace",
                        "meta.helm.sh/release-namespace": KAITO_NS,
                    },
                },
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": sel},
                    "template": {"metadata": {"labels": dict(sel)}, "spec": {"containers": [container]}},
                },
                "status": {
                    "observedGeneration": 1,
                    "replicas": 1,
                    "updatedReplicas": 1,
                    "readyReplicas": 1,
                    "availableReplicas": 1,
                    "conditions": [
                        {
                            "type": "Available",
                            "status": "True",
                            "reason": "MinimumReplicasAvailable",
                            "message": "Deployment has minimum availability.",
                            "lastTransitionTime": rfc3339(),
                            "lastUpdateTime": rfc3339(),
                        },
                        {
                            "type": "Progressing",
                            "status": "True",
                            "reason": "NewReplicaSetAvailable",
                            "message": 'ReplicaSet "kaito-workspace-7d9c6b5f8" has successfully progressed.',
                            "lastTransitionTime": rfc3339(),
                            "lastUpdateTime": rfc3339(),
                        },
                    ],
                },
            }
        )
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "kaito-workspace-7d9c6b5f8-x2k4q",
                "namespace": KAITO_NS,
                "labels": dict(sel, **{"pod-template-hash": "7d9c6b5f8"}),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "kaito-workspace",
                        "uid": dep["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {"containers": [container], "nodeName": SYSTEM_NODE},
        }
        pod = self.internal_create(pod)
        pod = self.store.put(
            "/pods",
            dict(
                pod, status=O.pod_status(pod, phase="Running", ready=True, node_ip="10.224.0.4", pod_ip="10.244.0.12")
            ),
        )
        self.append_logs(
            KAITO_NS,
            pod["metadata"]["name"],
            [
                'I1123 09:00:00.000000       1 main.go:120] "Starting workspace controller" version="0.12.0"',
                'I1123 09:00:00.100000       1 webhook.go:85] "Serving webhook" port=9443',
            ],
        )
        self.internal_create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "kaito-workspace-svc", "namespace": KAITO_NS, "labels": labels},
                "spec": {
                    "type": "ClusterIP",
                    "selector": sel,
                    "ports": [
                        {"name": "http-metrics", "port": 8080, "protocol": "TCP", "targetPort": 8080},
                        {"name": "webhook-server", "port": 9443, "protocol": "TCP", "targetPort": 9443},
                    ],
                },
            }
        )

    def _remove_operator(self) -> None:
        for key, name in (("apps/deployments", "kaito-workspace"), ("/services", "kaito-workspace-svc")):
            self.store.remove(key, KAITO_NS, name)
        for p in self.store.list("/pods", KAITO_NS):
            if (p["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "workspace":
                self.store.remove("/pods", KAITO_NS, p["metadata"]["name"])

    def _uninstall_kaito(self) -> None:
        for crd in list(self.store.list(CRD_KEY)):
            if (crd.get("spec") or {}).get("group") != "kaito.sh":
                continue
            spec = crd["spec"]
            key = f"kaito.sh/{spec['names']['plural']}"
            for obj in self.store.list(key):
                m = obj["metadata"]
                self.store.remove(key, m.get("namespace", ""), m["name"])
            self.store.remove(CRD_KEY, "", crd["metadata"]["name"])
        self._remove_operator()
        for rt in self.registry.all_types():
            if rt.namespaced:
                for obj in self.store.list(rt.key, KAITO_NS):
                    self.store.remove(rt.key, KAITO_NS, obj["metadata"]["name"])
        self.store.remove("/namespaces", "", KAITO_NS)

    # ------------------------------------------------------------------ hooks from Api / store
    def _on_store_event(self, ev) -> None:
        if ev.key == CRD_KEY:
            self.registry.set_crds(self.store.list(CRD_KEY))
        self._sched.push(ev)

    def after_write(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        pass

    def after_delete(self, rt: ResourceType, obj: dict, propagation: str) -> None:
        pass

    def _record(self, rec: SimRequest) -> None:
        with self._req_lock:
            self.requests.append(rec)
            if len(self.requests) > 50_000:  # keep long-running `serve` sessions bounded
                del self.requests[:25_000]

    def version_info(self) -> dict:
        return {
            "major": "1",
            "minor": "36",
            "emulationMajor": "1",
            "emulationMinor": "36",
            "minCompatibilityMajor": "1",
            "minCompatibilityMinor": "35",
            "gitVersion": "v1.36.2",
            "gitCommit": "80779bd6ff08b451e1c165a338a7b69351e9b0b8",
            "gitTreeState": "clean",
            "buildDate": "2026-07-15T18:06:15Z",
            "goVersion": "go1.26.4",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    # ------------------------------------------------------------------ internal object helpers
    def _type_for(self, obj: dict) -> ResourceType:
        rt = self.registry.by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        if rt is None:
            raise ValueError(f"unsupported object {obj.get('apiVersion')}/{obj.get('kind')}")
        return rt

    def _type_of(self, api_version: str, kind: str) -> ResourceType | None:
        """None when the API group is not served at all (e.g. KAITO uninstalled); ValueError for
        kinds the simulator does not know in a served group (most likely a typo)."""
        rt = self.registry.by_kind(api_version, kind)
        if rt is None:
            group = api_version.rpartition("/")[0]
            if group and group not in self.registry.group_versions():
                return None
            raise ValueError(f"unsupported type {api_version} {kind}")
        return rt

    def ensure_namespace(self, name: str, labels: dict | None = None) -> dict:
        ns = self.store.get("/namespaces", "", name)
        if ns is not None:
            return ns
        return self.internal_create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels or {})}}
        )

    def internal_create(self, obj: dict) -> dict:
        """Store an object as a controller would (no admission); fills metadata, keeps status."""
        rt = self._type_for(obj)
        obj = dict(obj)
        meta = dict(obj.get("metadata") or {})
        if rt.namespaced:
            meta.setdefault("namespace", "default")
            if rt.key != "/namespaces" and meta["namespace"] != "":
                if self.store.get("/namespaces", "", meta["namespace"]) is None:
                    self.ensure_namespace(meta["namespace"])
        else:
            meta.pop("namespace", None)
        if rt.custom or rt.group in ("apps", "batch", "networking.k8s.io", "apiextensions.k8s.io"):
            meta.setdefault("generation", 1)
        obj["metadata"] = meta
        if rt.custom:
            from .schema import defaults_only

            version = obj["apiVersion"].rpartition("/")[2]
            status = obj.pop("status", None)
            obj = defaults_only(obj, rt.schema(version))
            if status is not None:  # stored once: status follows the storage version's schema
                obj["status"] = defaults_only({"status": status}, rt.schema(rt.storage_version)).get("status", status)
            obj["apiVersion"] = rt.api_version(rt.storage_version)
        obj = self.api._builtin_defaults(rt, obj, self.store.get(rt.key, meta.get("namespace", ""), meta["name"]))
        return self.store.put(rt.key, obj)

    def internal_delete(self, key: str, ns: str, name: str, force: bool = False) -> None:
        with self.store.lock:
            obj = self.store.get(key, ns, name)
            if obj is None:
                return
            meta = obj["metadata"]
            if meta.get("finalizers") and not force:
                if not meta.get("deletionTimestamp"):
                    self.store.put(
                        key, dict(obj, metadata=dict(meta, deletionTimestamp=rfc3339(), deletionGracePeriodSeconds=0))
                    )
                return
            self.store.remove(key, ns, name)

    def remove_finalizer(self, key: str, ns: str, name: str, finalizer: str) -> None:
        """Drop one finalizer; an object being deleted goes away with its last finalizer."""
        with self.store.lock:
            obj = self.store.get(key, ns, name)
            if obj is None:
                return
            meta = dict(obj["metadata"])
            fins = [f for f in meta.get("finalizers") or [] if f != finalizer]
            if fins:
                meta["finalizers"] = fins
            else:
                meta.pop("finalizers", None)
            self.store.put(key, dict(obj, metadata=meta))
            if not fins and meta.get("deletionTimestamp"):
                self.store.remove(key, ns, name)

    def record_event(self, obj: dict, etype: str, reason: str, message: str, component: str) -> dict:
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace") or "default"
        dedupe = (meta.get("uid", ""), reason, message)
        now = rfc3339()
        with self.store.lock:
            prev = self._event_index.get(dedupe)
            if prev is not None:
                ev = self.store.get("/events", prev[0], prev[1])
                if ev is not None:
                    return self.store.put("/events", dict(ev, count=int(ev.get("count") or 1) + 1, lastTimestamp=now))
            name = f"{meta.get('name', 'unknown')}.{secrets.token_hex(8)}"
            ev = self.internal_create(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": name, "namespace": ns},
                    "involvedObject": {
                        "kind": obj.get("kind"),
                        "namespace": meta.get("namespace"),
                        "name": meta.get("name"),
                        "uid": meta.get("uid"),
                        "apiVersion": obj.get("apiVersion"),
                        "resourceVersion": meta.get("resourceVersion"),
                    },
                    "reason": reason,
                    "message": message,
                    "type": etype,
                    "source": {"component": component},
                    "firstTimestamp": now,
                    "lastTimestamp": now,
                    "count": 1,
                    "eventTime": None,
                    "reportingComponent": component,
                    "reportingInstance": "",
                }
            )
            self._event_index[dedupe] = (ns, name)
            return ev

    # ------------------------------------------------------------------ workspace helpers (proxy)
    def workspace_for_service(self, svc: dict) -> dict | None:
        meta = svc.get("metadata") or {}
        ns = meta.get("namespace", "default")
        for o in meta.get("ownerReferences") or []:
            if o.get("kind") == "Workspace":
                ws = self.store.get(WS_KEY, ns, o.get("name", ""))
                if ws is not None:
                    return ws
        name = (meta.get("labels") or {}).get(O.WS_LABEL)
        if name:
            return self.store.get(WS_KEY, ns, name)
        return None

    @staticmethod
    def workspace_serving(ws: dict) -> bool:
        if (ws.get("metadata") or {}).get("deletionTimestamp"):
            return False
        conds = {c.get("type"): c.get("status") for c in (ws.get("status") or {}).get("conditions") or []}
        return conds.get("InferenceReady") == "True"

    @staticmethod
    def workspace_preset(ws: dict) -> str | None:
        return O.workspace_preset(ws)

    def served_model(self, ws: dict) -> str:
        iset = ((ws.get("metadata") or {}).get("labels") or {}).get("inferenceset.kaito.sh/created-by")
        if iset:
            return iset
        preset = O.workspace_preset(ws)
        return served_model_name(preset) if preset else ws["metadata"]["name"]

    def model_max_len(self, ws: dict) -> int:
        preset = O.workspace_preset(ws)
        return (token_limit(preset) if preset else None) or 131072

    # ------------------------------------------------------------------ public object API
    def apply(self, obj: dict) -> dict:
        """Create or replace any supported object, bypassing admission. Fills metadata
        (uid, creationTimestamp, resourceVersion); namespaced objects default to 'default'."""
        obj = deepcopy(obj)
        rt = self._type_for(obj)
        stored = self.internal_create(obj)
        return self.api.present(rt, obj["apiVersion"].rpartition("/")[2], deepcopy(stored))

    def _lookup(self, api_version: str, kind: str, name: str, namespace: str | None) -> tuple[Any, str, dict | None]:
        """(resource type, namespace key, stored object); the object is None when the type is not
        served or nothing has that name. A namespaced kind defaults to "default"."""
        rt = self._type_of(api_version, kind)
        if rt is None:
            return None, "", None
        ns = (namespace or "default") if rt.namespaced else ""
        return rt, ns, self.store.get(rt.key, ns, name)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        rt, _, obj = self._lookup(api_version, kind, name, namespace)
        if obj is None:
            return None
        return deepcopy(self.api.present(rt, api_version.rpartition("/")[2], obj))

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | dict | None = None
    ) -> list[dict]:
        rt = self._type_of(api_version, kind)
        if rt is None:
            return []
        objs = self.store.list(rt.key, namespace if rt.namespaced else None)
        if label_selector:
            from .selectors import label_selector_from_dict, parse_label_selector

            pred = (
                label_selector_from_dict({"matchLabels": label_selector})
                if isinstance(label_selector, dict)
                else parse_label_selector(label_selector)
            )
            objs = [o for o in objs if pred((o.get("metadata") or {}).get("labels") or {})]
        version = api_version.rpartition("/")[2]
        return [deepcopy(self.api.present(rt, version, o)) for o in objs]

    def delete(
        self, api_version: str, kind: str, name: str, namespace: str | None = None, *, force: bool = False
    ) -> dict | None:
        """Delete like the API does (finalizers respected: deletionTimestamp first), or
        immediately with force=True. Dependents are garbage-collected. Returns the object or None."""
        rt, ns, obj = self._lookup(api_version, kind, name, namespace)
        if obj is None:
            return None
        self.internal_delete(rt.key, ns, name, force=force)
        return deepcopy(obj)

    def add_node(
        self,
        name: str,
        internal_ip: str = "10.0.0.5",
        external_ip: str | None = None,
        ready: bool = True,
        labels: dict | None = None,
        *,
        gpu: bool = True,
        instance_type: str | None = None,
    ) -> dict:
        return deepcopy(
            self.internal_create(
                O.node(
                    name,
                    internal_ip=internal_ip,
                    external_ip=external_ip,
                    ready=ready,
                    labels=labels,
                    gpu=gpu,
                    instance_type=instance_type,
                )
            )
        )

    # ------------------------------------------------------------------ logs
    def _container_of(self, namespace: str, pod: str, container: str | None) -> str:
        if container:
            return container
        p = self.store.get("/pods", namespace, pod)
        if p is not None:
            cs = (p.get("spec") or {}).get("containers") or []
            if cs:
                return cs[0].get("name", "")
        return ""

    def append_logs(
        self, namespace: str, pod: str, lines: str | Iterable[str], container: str | None = None, previous: bool = False
    ) -> None:
        if isinstance(lines, str):
            lines = lines.splitlines()
        buf = self.logs.buffer(namespace, pod, self._container_of(namespace, pod, container), previous)
        buf.append(lines)

    def close_logs(self, namespace: str, pod: str, container: str | None = None) -> None:
        """End the pod's (current) log: followers finish their stream."""
        if container is None:
            p = self.store.get("/pods", namespace, pod)
            names = [c.get("name", "") for c in ((p or {}).get("spec") or {}).get("containers") or []] or [""]
        else:
            names = [container]
        for n in names:
            self.logs.buffer(namespace, pod, n).close()

    def cut_logs(self, namespace: str, pod: str, container: str | None = None) -> None:
        """Fault: the pod's (current) log streams break off: the connection drops after the lines sent so far,
        without the chunked terminator (what a client sees when the API server or kubelet connection dies)."""
        self.logs.buffer(namespace, pod, self._container_of(namespace, pod, container)).cut_off()

    def start_log_flood(
        self,
        namespace: str,
        pods: Iterable[str],
        lines_per_pod: int,
        *,
        container: str | None = None,
        rate: float | None = None,
        batch: int = 2000,
        close: bool = True,
        line_bytes: int = 120,
    ) -> LogFlood:
        """Append `lines_per_pod` numbered lines to each pod's log from a background thread,
        `rate` lines/s per pod (None = as fast as possible), then close the logs (close=True).
        Returns a LogFlood (join()/stop())."""
        pods = list(pods)
        bufs = [(p, self.logs.buffer(namespace, p, self._container_of(namespace, p, container))) for p in pods]
        pad = "x" * max(0, line_bytes - 60)

        def run(flood: LogFlood) -> None:
            start = time.time()
            written = 0
            while written < lines_per_pod and not flood.stopped.is_set() and not self.stopping.is_set():
                n = min(batch, lines_per_pod - written)
                for pname, buf in bufs:
                    buf.append([f"INFO flood {pname} line={i:09d} {pad}" for i in range(written, written + n)])
                written += n
                flood.lines_written = written * len(bufs)
                if rate:
                    due = start + written / rate
                    delay = due - time.time()
                    if delay > 0:
                        flood.stopped.wait(delay)
                else:
                    time.sleep(0)
            if close:
                for _, buf in bufs:
                    buf.close()

        return LogFlood(run).start()

    # ------------------------------------------------------------------ seeding
    def seed_workspace(
        self,
        name: str,
        namespace: str = "default",
        model: str = "phi-4-mini-instruct",
        ready: bool = True,
        service_type: str = "ClusterIP",
        *,
        instance_type: str = "Standard_NC24ads_A100_v4",
        count: int = 1,
        labels: dict | None = None,
        annotations: dict | None = None,
        api_version: str | None = None,
        tuning: bool = False,
        logs: bool = True,
        template: dict | None = None,
    ) -> dict:
        """Create a Workspace and everything KAITO would have made for it, immediately.
        ready=True: conditions True, state Ready, pods Running+ready (or Succeeded for tuning).
        ready=False: nodes and pods exist, the model is still loading (state Pending); the
        controller leaves it so until `sim.controller.make_ready(name, namespace)`."""
        self.ensure_namespace(namespace)
        api_version = api_version or (
            "kaito.sh/v1beta1" if "v1beta1" in self.served_versions else f"kaito.sh/{self.served_versions[0]}"
        )
        ann = dict(annotations or {})
        if service_type == "LoadBalancer":
            ann["kaito.sh/enablelb"] = "True"
        ann.setdefault("workspace.kaito.io/hash", O.ws_hash(namespace, name, 64))
        ann.setdefault("workspace.kaito.io/revision", "1")
        ws: dict[str, Any] = {
            "apiVersion": api_version,
            "kind": "Workspace",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": dict(labels or {}),
                "annotations": ann,
                "finalizers": [O.FINALIZER],
                "uid": new_uid(),
            },
            "resource": {
                "instanceType": instance_type,
                "count": count,
                "labelSelector": {"matchLabels": {"apps": name}},
            },
        }
        if tuning:
            ws["tuning"] = {
                "preset": {"name": model},
                "method": "qlora",
                "input": {
                    "urls": [
                        "https://huggingface.co/datasets/philschmid/dolly-15k-oai-style/"
                        "resolve/main/data/train-00000-of-00001-54e3756291ca09c6.parquet"
                    ]
                },
                "output": {
                    "image": f"myregistry.azurecr.io/adapters/{name}:0.0.1",
                    "imagePushSecret": "acr-push-secret",
                },
            }
        elif template is not None:
            ws["inference"] = {"template": template}
        else:
            ws["inference"] = {"preset": {"name": model}}
        nodes = O.node_names(ws)
        # the texts KAITO v0.12.0 writes (see controller.py)
        conds = [
            O.condition("NodeClaimReady", True, "NodeClaimsReady", "Enough NodeClaims are ready"),
            O.condition("NodesReady", True, "NodesReady", "Enough Nodes are ready"),
            O.condition("ResourceReady", True, "workspaceResourceStatusSuccess", "workspace resource is ready"),
        ]
        if tuning:
            conds.append(O.condition("JobStarted", True, "WorkspaceTuningJobStatusStarted", "Tuning job has started"))
            conds.append(
                O.condition(
                    "WorkspaceSucceeded",
                    ready,
                    "workspaceSucceeded" if ready else "workspacePending",
                    "workspace succeeds" if ready else "workspace has not completed yet, tuning job is running",
                )
            )
            state = "Succeeded" if ready else "Running"
        else:
            conds.append(
                O.condition(
                    "InferenceReady",
                    ready,
                    "WorkspaceInferenceStatusSuccess" if ready else "WorkspaceInferenceStatusPending",
                    "Inference has been deployed successfully" if ready else "Inference workload is not ready",
                )
            )
            conds.append(
                O.condition(
                    "WorkspaceSucceeded",
                    ready,
                    "workspaceSucceeded" if ready else "workspacePending",
                    "workspace succeeds" if ready else "workspace is waiting for inference workload readiness",
                )
            )
            state = "Ready" if ready else "Pending"
        ws["status"] = {"conditions": conds, "workerNodes": sorted(nodes), "targetNodeCount": count, "state": state}
        self._seed_like_this_release(ws, ready)
        match = {"apps": name, O.WS_LABEL: name, O.WS_NS_LABEL: namespace}
        for n in nodes:
            if self.store.get("/nodes", "", n) is None:
                self.internal_create(
                    O.node(n, internal_ip=O.ip_for(n, "10.224"), labels=match, instance_type=instance_type)
                )
        stored = self.internal_create(ws)
        served = self.served_model(stored)
        if tuning:
            job = O.job(stored)
            if ready:
                job["status"] = {
                    "succeeded": 1,
                    "startTime": rfc3339(),
                    "completionTime": rfc3339(),
                    "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": rfc3339()}],
                }
            job = self.internal_create(job)
            p = self.internal_create(O.pod(stored, 0, nodes[0], self.controller._owner(job), job_pod=True))
            st = O.pod_status(
                p,
                phase="Succeeded" if ready else "Running",
                ready=not ready,
                terminated={"exitCode": 0, "reason": "Completed", "startedAt": rfc3339(), "finishedAt": rfc3339()}
                if ready
                else None,
                node_ip=O.ip_for(nodes[0], "10.224"),
                pod_ip=O.ip_for(p["metadata"]["name"], "10.244"),
            )
            self.store.put("/pods", dict(p, status=st))
            if logs:
                self.append_logs(namespace, p["metadata"]["name"], ["INFO:root:Loading base model for fine-tuning"])
                if ready:
                    self.close_logs(namespace, p["metadata"]["name"])
            return self.get(api_version, "Workspace", name, namespace)  # type: ignore[return-value]  # just written: it is there
        lb = service_type == "LoadBalancer"
        svc = O.service(stored, self.api.allocate_cluster_ip(), lb)
        if lb:
            for port in svc["spec"]["ports"]:
                port["nodePort"] = self.api.allocate_node_port()
            if not self.lb_pending:
                svc["status"] = {
                    "loadBalancer": {"ingress": [{"ip": O.ip_for(f"lb/{namespace}/{name}", "20.120"), "ipMode": "VIP"}]}
                }
        self.internal_create(svc)
        self.internal_create(O.headless_service(stored))
        sts = O.statefulset(stored, count, served)
        sts["status"].update({"readyReplicas": count if ready else 0, "availableReplicas": count if ready else 0})
        sts = self.internal_create(sts)
        loading, serving = O.vllm_startup_lines(served, O.workspace_preset(stored))
        for i, n in enumerate(nodes):
            p = self.internal_create(O.pod(stored, i, n, self.controller._owner(sts, "StatefulSet"), served=served))
            st = O.pod_status(
                p,
                phase="Running",
                ready=ready,
                node_ip=O.ip_for(n, "10.224"),
                pod_ip=O.ip_for(p["metadata"]["name"] + namespace, "10.244"),
            )
            self.store.put("/pods", dict(p, status=st))
            if logs:
                self.append_logs(namespace, p["metadata"]["name"], loading + (serving if ready else []))
        self.record_event(
            stored,
            "Normal",
            "InferenceReady" if ready else "WorkspaceCreated",
            f"Inference service for {served} is ready" if ready else "Workspace created",
            "workspace-controller",
        )
        return self.get(api_version, "Workspace", name, namespace)  # type: ignore[return-value]  # just written: it is there

    # ------------------------------------------------------------------ waiting
    def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
        """Poll `predicate` until it returns something truthy; raise TimeoutError otherwise."""
        deadline = time.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.time() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(interval)

    def wait_workspace_ready(self, name: str, namespace: str = "default", timeout: float = 5.0) -> dict:
        def ready():
            ws = self.get("kaito.sh/" + self.served_versions[-1], "Workspace", name, namespace)
            return ws if ws and self.workspace_serving(ws) else None

        return self.wait_until(ready, timeout)

    def _seed_like_this_release(self, ws: dict, ready: bool) -> None:
        """Adjust a seeded status to the simulated KAITO: BYO has no NodeClaimReady, a ready vLLM preset carries
        the benchmark (v0.12), and a legacy (v0.1-v0.3.0) controller writes WorkspaceReady and no state."""
        st = ws["status"]
        if self.node_provisioner == "byo":
            st["conditions"] = [c for c in st["conditions"] if c["type"] != "NodeClaimReady"]
        if self.legacy_conditions:
            conds = []
            for c in st["conditions"]:
                if c["type"] == "NodesReady":
                    continue
                if c["type"] == "WorkspaceSucceeded":
                    c = O.condition(
                        "WorkspaceReady",
                        ready,
                        "workspaceReady" if ready else "workspacePending",
                        "workspace is ready" if ready else c["message"],
                    )
                conds.append(c)
            st["conditions"] = conds
            st.pop("state", None)
            st.pop("targetNodeCount", None)
            return
        if ready and self.controller.benchmark_applies(ws):
            st["conditions"].insert(
                -1, O.condition("BenchmarkCompleted", True, "BenchmarkCompleted", "benchmark result has been recorded")
            )
            st["performance"] = {
                "metrics": {
                    "peakTokensPerMinute": {
                        "description": "stress/high-concurrency",
                        "value": "412000",
                        "unit": "tokens/min",
                        "config": {
                            "durationSec": "60",
                            "inputTokens": "2048",
                            "outputTokens": "256",
                            "maxConcurrency": "32",
                            "engine": "vllm",
                            "engineVersion": "0.25.1",
                            "quantization": "",
                        },
                    }
                }
            }
