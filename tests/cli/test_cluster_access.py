"""Cluster access against the simulated API server: every kubeconfig case, errors, watch, logs, proxy.

These use the resources layer directly (kubeconfig.load -> Client -> Resources), the way every command
does, and the client's generic verbs where the test is about the wire (pagination, error mapping).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kaito_sim import certs

from kubectl_kaito import credentials as cr
from kubectl_kaito import kubeconfig as kc
from kubectl_kaito.client import Client
from kubectl_kaito.errors import (
    ClusterUnavailableError,
    ConflictError,
    InvalidError,
    NotFoundError,
    NotReadyError,
    ProviderNotInstalledError,
    UnauthorizedError,
    WaitTimeoutError,
)
from kubectl_kaito.resources import Resources
from tests.fixtures.kube import ConnectProxy, b64, exec_user, kubeconfig, plugin_runs, write

WS = "/apis/kaito.sh/v1beta1/namespaces/default/workspaces"


@pytest.fixture(autouse=True)
def _fresh_exec_memory() -> None:
    cr.clear_exec_memory_cache()


def connect(
    path: Path | str | None = None, context: str | None = None, namespace: str | None = None, **kwargs: Any
) -> Resources:
    """What the CLI does: resolve the kubeconfig, then build the client and the resources layer."""
    return Resources(Client(kc.load(str(path) if path else None, context, namespace), **kwargs))


def works(cluster: Resources) -> None:
    """An authenticated round trip: discovery and a list."""
    assert cluster.workspace_version() == "v1beta1"
    assert cluster.workspace_listing(cluster.namespace)["kind"] == "WorkspaceList"


def sim_cluster(
    sim: Any,
    tmp_path: Path,
    *,
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    ca: bool = True,
    **kw: Any,
) -> dict[str, Any]:
    """A kubeconfig document for the sim with our own cluster/user stanzas."""
    cl = {"certificate-authority-data": b64(sim.ca_pem)} if ca else {}
    cl.update(cluster or {})
    return kubeconfig(sim.url, cluster=cl, user=user if user is not None else {"token": sim.token}, **kw)


def last_user(sim: Any) -> str | None:
    return sim.requests[-1].user


# ---- credentials -------------------------------------------------------------------------------


def test_token(sim: Any, tmp_path: Path) -> None:
    c = connect(sim.write_kubeconfig(tmp_path / "token.yaml", user_auth="token"))
    works(c)
    assert sim.requests[-1].headers.get("Authorization") == f"Bearer {sim.token}"


def test_client_certificate_data(sim: Any, tmp_path: Path) -> None:
    c = connect(sim.write_kubeconfig(tmp_path / "cert.yaml", user_auth="cert"))
    works(c)
    assert sim.requests[-1].headers.get("Authorization") is None
    assert last_user(sim) is not None


def test_client_certificate_files_and_ca_file_relative(sim: Any, tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    (folder / "pki").mkdir(parents=True)
    (folder / "pki" / "ca.crt").write_bytes(sim.ca_pem)
    (folder / "pki" / "client.crt").write_bytes(sim.client_cert_pem)
    (folder / "pki" / "client.key").write_bytes(sim.client_key_pem)
    doc = kubeconfig(
        sim.url,
        cluster={"certificate-authority": "pki/ca.crt"},
        user={"client-certificate": "pki/client.crt", "client-key": "pki/client.key"},
    )
    works(connect(write(folder / "config", doc)))
    assert sim.requests[-1].headers.get("Authorization") is None


def test_ca_data_and_ca_file_are_equivalent(sim: Any, tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(sim.ca_pem)
    works(connect(write(tmp_path / "data", sim_cluster(sim, tmp_path))))
    works(
        connect(
            write(tmp_path / "file", sim_cluster(sim, tmp_path, ca=False, cluster={"certificate-authority": "ca.pem"}))
        )
    )


def test_insecure_skip_tls_verify_without_ca(sim: Any, tmp_path: Path) -> None:
    doc = sim_cluster(sim, tmp_path, ca=False, cluster={"insecure-skip-tls-verify": True})
    works(connect(write(tmp_path / "kc", doc)))


def test_wrong_ca_is_a_cluster_error_with_a_tls_hint(sim: Any, tmp_path: Path) -> None:
    foreign = certs.ca_pair(foreign=True).cert_pem
    doc = sim_cluster(sim, tmp_path, ca=False, cluster={"certificate-authority-data": b64(foreign)})
    with pytest.raises(ClusterUnavailableError) as e:
        connect(write(tmp_path / "kc", doc)).workspace_version()
    assert e.value.exit_code == 5
    assert "certificate verification failed" in e.value.message and sim.url in e.value.message
    assert e.value.hint and "certificate-authority" in e.value.hint


def test_system_roots_do_not_trust_the_sim(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(ClusterUnavailableError, match="verification failed"):
        connect(write(tmp_path / "kc", sim_cluster(sim, tmp_path, ca=False))).workspace_version()


def test_tls_server_name(sim_factory: Any, tmp_path: Path) -> None:
    sim = sim_factory(extra_sans=("DNS:api.kaito.example",))
    good = sim_cluster(sim, tmp_path, cluster={"tls-server-name": "api.kaito.example"})
    works(connect(write(tmp_path / "good", good)))
    with connect(tmp_path / "good").http_client() as client:  # httpx gets the name as sni_hostname
        assert client.get("/apis/kaito.sh").status_code == 200
    bad = sim_cluster(sim, tmp_path, cluster={"tls-server-name": "other.example"})
    with pytest.raises(ClusterUnavailableError, match="verification failed") as e:
        connect(write(tmp_path / "bad", bad)).workspace_version()
    assert e.value.hint and "tls-server-name" in e.value.hint


def test_token_file(sim: Any, tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text(sim.token + "\n")
    doc = sim_cluster(sim, tmp_path, user={"tokenFile": "secrets/token"})
    works(connect(write(tmp_path / "kc", doc)))
    assert sim.requests[-1].headers.get("Authorization") == f"Bearer {sim.token}"


def test_a_token_file_that_is_not_text_is_one_error_line(sim: Any, tmp_path: Path) -> None:
    (tmp_path / "token").write_bytes(b"\xff\xfe not UTF-8")
    doc = sim_cluster(sim, tmp_path, user={"tokenFile": "token"})
    with pytest.raises(UnauthorizedError, match=r"cannot read the token file .*token: not UTF-8 text$"):
        connect(write(tmp_path / "kc", doc)).workspace_version()


def test_basic_auth_is_sent_and_refused_by_the_sim(sim: Any, tmp_path: Path) -> None:
    doc = sim_cluster(sim, tmp_path, user={"username": "admin", "password": "pw"})
    with pytest.raises(UnauthorizedError):
        connect(write(tmp_path / "kc", doc)).workspace_version()
    assert sim.requests[-1].headers.get("Authorization", "").startswith("Basic ")


def test_unauthorized(sim: Any, tmp_path: Path) -> None:
    doc = sim_cluster(sim, tmp_path, user={"token": "not-a-valid-token"})
    with pytest.raises(UnauthorizedError) as e:
        connect(write(tmp_path / "kc", doc)).workspace_version()
    assert e.value.exit_code == 5
    assert "not-a-valid-token" not in e.value.message + (e.value.hint or "")


# ---- exec plugins ------------------------------------------------------------------------------


def _exec_env(sim: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"EXEC_PLUGIN_LOG": str(tmp_path / "runs.log"), "EXEC_PLUGIN_TOKEN": sim.token, **extra}


@pytest.mark.parametrize("api", [kc.EXEC_V1, kc.EXEC_V1BETA1])
def test_exec_token_cached_until_expiry(sim: Any, tmp_path: Path, api: str) -> None:
    log = tmp_path / "runs.log"
    doc = sim_cluster(
        sim, tmp_path, user=exec_user(api, _exec_env(sim, tmp_path, EXEC_PLUGIN_TTL="3600"), provideClusterInfo=True)
    )
    path = write(tmp_path / "kc", doc)
    works(connect(path))
    assert len(plugin_runs(log)) == 1
    info = json.loads(plugin_runs(log)[0]["info"])
    assert info["apiVersion"] == api and info["spec"]["cluster"]["server"] == sim.url
    # The next `kubectl kaito` process: memory is gone, the 0600 disk cache answers.
    cr.clear_exec_memory_cache()
    works(connect(path))
    assert len(plugin_runs(log)) == 1
    (cached,) = (Path(os.environ["KUBECACHEDIR"]) / "kaito-exec").glob("*.json")
    assert cached.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("api", [kc.EXEC_V1, kc.EXEC_V1BETA1])
def test_exec_client_certificate(sim: Any, tmp_path: Path, api: str) -> None:
    (tmp_path / "c.pem").write_bytes(sim.client_cert_pem)
    (tmp_path / "k.pem").write_bytes(sim.client_key_pem)
    env = _exec_env(
        sim,
        tmp_path,
        EXEC_PLUGIN_MODE="cert",
        EXEC_PLUGIN_CERT_FILE=str(tmp_path / "c.pem"),
        EXEC_PLUGIN_KEY_FILE=str(tmp_path / "k.pem"),
        EXEC_PLUGIN_TTL="3600",
    )
    c = connect(write(tmp_path / "kc", sim_cluster(sim, tmp_path, user=exec_user(api, env))))
    works(c)
    assert sim.requests[-1].headers.get("Authorization") is None
    assert len(plugin_runs(tmp_path / "runs.log")) == 1


def test_exec_reruns_after_expiry(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cr, "EXEC_EXPIRY_MARGIN", 0.0)
    log = tmp_path / "runs.log"
    c = connect(
        write(
            tmp_path / "kc",
            sim_cluster(sim, tmp_path, user=exec_user(kc.EXEC_V1, _exec_env(sim, tmp_path, EXEC_PLUGIN_TTL="1"))),
        )
    )
    works(c)
    works(c)
    assert len(plugin_runs(log)) == 1
    time.sleep(1.1)
    works(c)
    assert len(plugin_runs(log)) == 2


def test_exec_reruns_once_on_401(sim: Any, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    # First run hands out a token the server refuses (revoked, though not expired); the second a good one.
    env = _exec_env(sim, tmp_path, EXEC_PLUGIN_TOKENS=f"revoked,{sim.token}", EXEC_PLUGIN_TTL="3600")
    c = connect(write(tmp_path / "kc", sim_cluster(sim, tmp_path, user=exec_user(kc.EXEC_V1, env))))
    works(c)
    assert len(plugin_runs(log)) == 2
    assert [r.headers.get("Authorization") for r in sim.requests[:2]] == ["Bearer revoked", f"Bearer {sim.token}"]


def test_exec_reruns_once_on_401_in_the_http_client(sim: Any, tmp_path: Path) -> None:
    env = _exec_env(sim, tmp_path, EXEC_PLUGIN_TOKENS=f"revoked,{sim.token}", EXEC_PLUGIN_TTL="3600")
    c = connect(write(tmp_path / "kc", sim_cluster(sim, tmp_path, user=exec_user(kc.EXEC_V1, env))))
    with c.http_client() as client:
        assert client.get("/apis/kaito.sh").status_code == 200
    assert len(plugin_runs(tmp_path / "runs.log")) == 2


def test_exec_401_twice_is_unauthorized(sim: Any, tmp_path: Path) -> None:
    env = _exec_env(sim, tmp_path, EXEC_PLUGIN_TOKEN="always-bad", EXEC_PLUGIN_TTL="3600")
    c = connect(write(tmp_path / "kc", sim_cluster(sim, tmp_path, user=exec_user(kc.EXEC_V1, env))))
    with pytest.raises(UnauthorizedError):
        c.workspace_version()
    assert len(plugin_runs(tmp_path / "runs.log")) == 2  # re-run once, not in a loop


def test_exec_install_hint_when_missing(sim: Any, tmp_path: Path) -> None:
    user = exec_user(
        kc.EXEC_V1,
        command="kubelogin-missing-for-test",
        installHint="kubelogin is not installed: run az aks install-cli",
    )
    with pytest.raises(UnauthorizedError) as e:
        connect(write(tmp_path / "kc", sim_cluster(sim, tmp_path, user=user))).workspace_version()
    assert e.value.exit_code == 5
    assert e.value.hint == "kubelogin is not installed: run az aks install-cli"
    assert sim.requests == []  # nothing was sent without credentials


# ---- files, contexts, namespaces, in-cluster ---------------------------------------------------------


def test_merged_kubeconfig_files(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clusters = sim_cluster(sim, tmp_path, namespace="team-a")
    clusters["users"] = []  # the user lives in the second file
    users = kubeconfig("https://unused.example", user={"token": sim.token}, current=False)
    users["clusters"], users["contexts"] = [], []
    a, b = write(tmp_path / "a" / "config", clusters), write(tmp_path / "b" / "config", users)
    monkeypatch.setenv("KUBECONFIG", f"{a}{os.pathsep}{tmp_path / 'missing'}{os.pathsep}{b}")
    c = connect()
    assert c.namespace == "team-a"
    works(c)


def test_context_flag_and_namespaces(sim: Any, tmp_path: Path) -> None:
    doc = sim_cluster(sim, tmp_path, name="broken")
    doc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    good = sim_cluster(sim, tmp_path, name="sim", namespace="ctx-ns")
    for key in ("clusters", "users", "contexts"):
        doc[key] += good[key]
    path = write(tmp_path / "kc", doc)
    with pytest.raises(ClusterUnavailableError):
        connect(path).workspace_version()  # current-context: the broken one
    c = connect(path, context="sim")
    assert c.namespace == "ctx-ns"
    with pytest.raises(NotFoundError) as e:
        c.get_workspace("nope")
    assert e.value.message == 'workspace "nope" not found in namespace "ctx-ns"'
    assert e.value.hint and "kubectl kaito status -n ctx-ns" in e.value.hint
    assert connect(path, context="sim", namespace="flag-ns").namespace == "flag-ns"


def test_in_cluster_service_account(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(sim.token)
    (sa / "ca.crt").write_bytes(sim.ca_pem)
    (sa / "namespace").write_text("in-pod")
    monkeypatch.setattr(kc, "SERVICE_ACCOUNT_DIR", str(sa))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    host, port = sim.url.removeprefix("https://").rsplit(":", 1)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    c = connect()
    assert c.namespace == "in-pod" and c.client.config.source == "in-cluster"
    works(c)
    assert sim.requests[-1].headers.get("Authorization") == f"Bearer {sim.token}"


# ---- proxies, unreachable servers -----------------------------------------------------------------


@pytest.mark.parametrize("proxy_tls", [False, True], ids=["http-proxy", "https-proxy"])
def test_proxy_url_connect_tunnel(sim: Any, tmp_path: Path, proxy_tls: bool) -> None:
    pair = certs.server_pair() if proxy_tls else None  # the proxy's certificate is signed by the sim CA, as Go wants
    proxy = ConnectProxy(tls_cert=pair.cert_pem if pair else None, tls_key=pair.key_pem if pair else None, auth="pu:pp")
    try:
        url = proxy.url.replace("://", "://pu:pp@")
        c = connect(write(tmp_path / "kc", sim_cluster(sim, tmp_path, cluster={"proxy-url": url})))
        works(c)
        target = sim.url.removeprefix("https://")
        assert proxy.connects == [f"CONNECT {target}"]  # one tunnel, kept alive for both requests
        with c.http_client() as client:
            assert client.get(f"/apis/kaito.sh/{c.workspace_version()}").status_code == 200
        assert proxy.connects == [f"CONNECT {target}"] * 2
    finally:
        proxy.close()


def test_proxy_refusing_the_tunnel(sim: Any, tmp_path: Path) -> None:
    proxy = ConnectProxy(auth="pu:pp")
    try:
        c = connect(write(tmp_path / "kc", sim_cluster(sim, tmp_path, cluster={"proxy-url": proxy.url})))
        with pytest.raises(ClusterUnavailableError, match="407") as e:
            c.workspace_version()
        assert "proxy" in (e.value.hint or "")
    finally:
        proxy.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_server_fails_fast(tmp_path: Path) -> None:
    doc = kubeconfig(f"https://127.0.0.1:{_closed_port()}", user={"token": "t"}, name="dead")
    t0 = time.monotonic()
    with pytest.raises(ClusterUnavailableError) as e:
        connect(write(tmp_path / "kc", doc)).workspace_version()
    assert time.monotonic() - t0 < 2
    assert e.value.exit_code == 5 and "connection refused" in e.value.message
    assert e.value.hint and "kubectl cluster-info --context dead" in e.value.hint


def test_unresolvable_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    def no_dns(*args: Any, **kwargs: Any) -> socket.socket:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_dns)  # the module transport uses
    doc = kubeconfig("https://api.gone.example:6443", user={"token": "t"}, name="gone")
    with pytest.raises(ClusterUnavailableError, match=re.escape("cannot resolve the host name api.gone.example")) as e:
        connect(write(tmp_path / "kc", doc)).workspace_version()
    assert e.value.details == {"server": "https://api.gone.example:6443"}


def test_server_that_never_answers_the_handshake(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts TCP (backlog) but never speaks TLS
    try:
        doc = kubeconfig(f"https://127.0.0.1:{listener.getsockname()[1]}", user={"token": "t"})
        t0 = time.monotonic()
        with pytest.raises(ClusterUnavailableError, match=re.escape("no answer within 0.5s")):
            connect(write(tmp_path / "kc", doc), timeout=0.5).workspace_version()
        assert time.monotonic() - t0 < 2
    finally:
        listener.close()


# ---- API behaviour ------------------------------------------------------------------------------------


def test_kaito_not_installed(sim_factory: Any, tmp_path: Path) -> None:
    sim = sim_factory(kaito=False)
    with pytest.raises(ProviderNotInstalledError) as e:
        connect(sim.write_kubeconfig(tmp_path / "kc")).workspace_version()
    assert e.value.message == "KAITO is not installed in this cluster (the workspaces.kaito.sh resource is not served)"
    assert e.value.hint == "install it with: kubectl kaito install-provider"


def test_v1alpha1_only_cluster(sim_factory: Any, tmp_path: Path) -> None:
    sim = sim_factory(served_versions=("v1alpha1",))
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    assert c.workspace_version() == "v1alpha1"
    c.workspace_version()
    assert sum(1 for r in sim.requests if r.path.startswith("/apis/kaito.sh/")) == 2  # cached for the process
    c.list_workspaces(all_namespaces=True)
    assert sim.requests[-1].path == "/apis/kaito.sh/v1alpha1/workspaces"


def test_workspace_requests_skip_discovery_until_a_404_needs_it(sim_factory: Any, tmp_path: Path) -> None:
    """The first Workspace request goes straight to v1beta1. A missing object is a plain 404 (no
    discovery); a version the server does not serve sends discovery and one retry on v1alpha1."""
    sim = sim_factory()
    sim.seed_workspace("ws")
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    with pytest.raises(NotFoundError):
        c.get_workspace("nope")
    assert c.get_workspace("ws")["metadata"]["name"] == "ws"
    assert [r.path for r in sim.requests if r.path.startswith("/apis/kaito.sh")] == [
        "/apis/kaito.sh/v1beta1/namespaces/default/workspaces/nope",
        "/apis/kaito.sh/v1beta1/namespaces/default/workspaces/ws",
    ]

    old = sim_factory(served_versions=("v1alpha1",))
    old.seed_workspace("ws", api_version="kaito.sh/v1alpha1")
    c = connect(old.write_kubeconfig(tmp_path / "kc-old"))
    assert c.get_workspace("ws")["apiVersion"] == "kaito.sh/v1alpha1"
    assert c.list_workspaces()[0]["metadata"]["name"] == "ws"  # the version is known from now on
    assert [r.path for r in old.requests if r.path.startswith("/apis/kaito.sh")] == [
        "/apis/kaito.sh/v1beta1/namespaces/default/workspaces/ws",  # 404, no object named: not served
        "/apis/kaito.sh/v1beta1",
        "/apis/kaito.sh/v1alpha1",
        "/apis/kaito.sh/v1alpha1/namespaces/default/workspaces/ws",
        "/apis/kaito.sh/v1alpha1/namespaces/default/workspaces",
    ]
    with pytest.raises(NotFoundError):  # a missing object on the old version is still just not found
        c.get_workspace("nope")

    none = sim_factory(kaito=False)
    c = connect(none.write_kubeconfig(tmp_path / "kc-none"))
    with pytest.raises(ProviderNotInstalledError):
        c.get_workspace("ws")
    with pytest.raises(ProviderNotInstalledError):
        c.list_workspaces()


def test_verbose_lines_and_keep_alive(sim: Any, tmp_path: Path) -> None:
    lines: list[str] = []
    c = connect(sim.write_kubeconfig(tmp_path / "kc"), verbose=7, log=lines.append)
    works(c)
    requests = [line for line in lines if not line.startswith("  ")]
    assert requests[0].startswith(f"GET {sim.url}/apis/kaito.sh/v1beta1 200 OK in ")
    assert requests[0].endswith(" milliseconds")
    assert "  Request header: Authorization: Bearer <masked>" in lines  # as kubectl 1.37.1 -v=7 masks it
    assert sim.token not in "\n".join(lines)


def test_list_pagination_and_create_dry_run(sim: Any, tmp_path: Path) -> None:
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    for i in range(5):
        c.client.create(
            "/api/v1/namespaces/default/configmaps",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm{i}"}, "data": {"i": str(i)}},
        )
    dry = c.client.create(
        "/api/v1/namespaces/default/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}},
        dry_run=True,
    )
    assert dry["metadata"]["name"] == "dry"
    listing = c.client.list("/api/v1/namespaces/default/configmaps", page_size=2)
    names = [i["metadata"]["name"] for i in listing["items"]]
    assert [n for n in names if n.startswith("cm")] == [f"cm{i}" for i in range(5)] and "dry" not in names
    assert listing["metadata"]["resourceVersion"]
    pages = [r for r in sim.requests if r.path == "/api/v1/namespaces/default/configmaps" and r.method == "GET"]
    assert len(pages) >= 3 and pages[0].query.get("limit") == "2"
    assert [r.query.get("dryRun") for r in sim.requests if r.method == "POST"][-1] == "All"


def _bump(sim: Any, name: str, times: int, every: float) -> threading.Thread:
    def run() -> None:
        for i in range(times):
            time.sleep(every)
            ws = sim.get("kaito.sh/v1beta1", "Workspace", name, namespace="default")
            ws.setdefault("metadata", {}).setdefault("labels", {})["bump"] = str(i)
            sim.apply(ws)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_watch_resumes_when_the_server_closes_the_stream(sim_factory: Any, tmp_path: Path) -> None:
    sim = sim_factory(watch_max_seconds=0.4)
    sim.seed_workspace("ws1")
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    bumper = _bump(sim, "ws1", times=4, every=0.3)
    events = list(c.watch_workspaces("default", timeout=2.0))
    bumper.join()
    labels = [e["object"]["metadata"].get("labels", {}).get("bump") for e in events if e["type"] == "MODIFIED"]
    assert events[0]["type"] == "ADDED"
    assert labels == ["0", "1", "2", "3"]  # each change once: resumed from the last resourceVersion
    watches = [r for r in sim.requests if r.query.get("watch") == "true"]
    assert len(watches) >= 3
    assert all(r.query.get("resourceVersion") for r in watches)
    assert all(e["type"] != "BOOKMARK" for e in events)


@pytest.mark.parametrize("mode", ["event", "http"])
def test_watch_410_relists_and_continues(sim_factory: Any, tmp_path: Path, mode: str) -> None:
    sim = sim_factory(event_window=2)  # the sim forgets old events quickly, like a compacted etcd
    sim.watch_expired_mode = mode  # "event": 200 + ERROR 410 (a real server); "http": a plain 410
    sim.seed_workspace("ws1")
    sim.seed_workspace("ws2")
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    old_rv = c.get_workspace("ws1")["metadata"]["resourceVersion"]
    _bump(sim, "ws1", times=6, every=0).join()
    sim.delete("kaito.sh/v1beta1", "Workspace", "ws2", namespace="default", force=True)
    bumper = _bump(sim, "ws1", times=1, every=0.5)  # after the re-list: the watch goes on
    events = list(c.watch_workspaces("default", resource_version=old_rv, timeout=1.5))
    bumper.join()
    names = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    # Re-list: ws1 is new to this watcher (ADDED, current state); ws2 is gone and was never seen.
    assert names[0] == ("ADDED", "ws1")
    assert ("ADDED", "ws2") not in names
    assert events[0]["object"]["metadata"]["labels"]["bump"] == "5"
    assert events[-1]["type"] == "MODIFIED" and events[-1]["object"]["metadata"]["labels"]["bump"] == "0"
    gets = [r for r in sim.requests if r.method == "GET" and r.path.endswith("/workspaces")]
    assert [r.query.get("watch") == "true" for r in gets][:3] == [True, False, True]  # watch, list, watch


def test_logs_stream_whole_lines(sim: Any, tmp_path: Path) -> None:
    sim.seed_workspace("ws1", ready=True)
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    pod = c.list_pods(label_selector="kaito.sh/workspace=ws1")[0]["metadata"]["name"]
    sim.append_logs("default", pod, ["first line", "second line"])
    got: list[bytes] = []

    def follow() -> None:
        for line in c.stream_logs("default", pod, follow=True):
            got.append(line)

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    time.sleep(0.3)
    sim.append_logs("default", pod, ["third line"])
    time.sleep(0.3)
    sim.close_logs("default", pod)
    t.join(5)
    assert not t.is_alive()
    assert got[-3:] == [b"first line\n", b"second line\n", b"third line\n"]
    tail = list(c.stream_logs("default", pod, tail_lines=1))
    assert tail == [b"third line\n"]


def test_logs_of_a_container_that_is_starting(sim: Any, tmp_path: Path) -> None:
    sim.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "starting", "namespace": "default"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "vllm"}]},
            "status": {
                "phase": "Pending",
                "containerStatuses": [{"name": "main", "state": {"waiting": {"reason": "ContainerCreating"}}}],
            },
        }
    )
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    with pytest.raises(NotReadyError, match='container "main" in pod "starting" is waiting to start') as e:
        list(c.stream_logs("default", "starting"))
    assert e.value.exit_code == 4


def test_service_proxy_through_http_client(sim: Any, tmp_path: Path) -> None:
    sim.seed_workspace("ws1", ready=True)
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    path = c.proxy_path("default", "ws1", 80, "/v1/models")
    assert path == "/api/v1/namespaces/default/services/ws1:80/proxy/v1/models"
    with c.http_client() as client:
        resp = client.get(path)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]
    assert sim.requests[-1].headers.get("Authorization") == f"Bearer {sim.token}"


def test_error_mapping(sim: Any, tmp_path: Path) -> None:
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    cms = "/api/v1/namespaces/default/configmaps"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}, "data": {"a": "1"}}
    c.client.create(cms, cm)
    with pytest.raises(ConflictError, match='configmaps "one" already exists') as conflict:
        c.client.create(cms, cm)
    assert conflict.value.exit_code == 1 and conflict.value.details["status"] == 409
    patched = c.client.patch(f"{cms}/one", {"data": {"b": "2"}})
    assert patched["data"] == {"a": "1", "b": "2"}
    c.client.delete(f"{cms}/one", dry_run=True)
    assert c.client.get(f"{cms}/one")["metadata"]["name"] == "one"
    c.client.delete(f"{cms}/one")
    with pytest.raises(NotFoundError, match='configmaps "one" not found') as missing:
        c.client.get(f"{cms}/one")
    assert missing.value.exit_code == 3
    bad_ws = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": "bad"},
        "resource": {"labelSelector": {"matchLabels": {"a": "b"}}},
    }  # neither inference nor tuning
    with pytest.raises(InvalidError) as invalid:
        c.create_workspace(bad_ws)
    assert invalid.value.message and invalid.value.exit_code == 1


def test_reused_connection_closed_by_the_server_is_retried(sim: Any, tmp_path: Path) -> None:
    c = connect(sim.write_kubeconfig(tmp_path / "kc"))
    works(c)
    sim._server.close_all_connections()  # what an idle timeout or a load balancer does
    works(c)


def test_request_timeout_bounds_reads_but_not_watches_or_follows(sim: Any, tmp_path: Path) -> None:
    sim.seed_workspace("ws1")
    c = connect(sim.write_kubeconfig(tmp_path / "kc"), timeout=0.3)
    t0 = time.monotonic()
    events = list(c.watch_workspaces("default", timeout=1.0))  # 1 s > 0.3 s: no WaitTimeoutError
    assert time.monotonic() - t0 >= 0.9 and events[0]["type"] == "ADDED"
    pod = c.list_pods(label_selector="kaito.sh/workspace=ws1")[0]["metadata"]["name"]
    closer = threading.Timer(0.8, sim.close_logs, args=("default", pod))
    closer.start()
    lines = list(c.stream_logs("default", pod, follow=True))  # outlives the request timeout
    closer.join()
    assert lines


def test_read_timeout_is_a_wait_timeout(tmp_path: Path) -> None:
    import ssl

    pair = certs.server_pair()
    (tmp_path / "srv.pem").write_bytes(pair.cert_pem + pair.key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tmp_path / "srv.pem"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    held: list[socket.socket] = []

    def accept_and_stall() -> None:  # completes TLS, reads the request, never answers
        conn, _ = listener.accept()
        tls = ctx.wrap_socket(conn, server_side=True)
        held.append(tls)
        tls.recv(65536)

    threading.Thread(target=accept_and_stall, daemon=True).start()
    doc = kubeconfig(
        f"https://127.0.0.1:{listener.getsockname()[1]}",
        cluster={"certificate-authority-data": b64(certs.ca_pair().cert_pem)},
        user={"token": "t"},
    )
    try:
        with pytest.raises(WaitTimeoutError, match=re.escape("timed out after 0.5s")) as e:
            connect(write(tmp_path / "kc", doc), timeout=0.5).server_version()
        assert e.value.exit_code == 4 and e.value.hint and "--request-timeout" in e.value.hint
    finally:
        listener.close()
        for s in held:
            s.close()
