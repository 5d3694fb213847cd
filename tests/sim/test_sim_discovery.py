"""Discovery, auth and TLS of the simulated API server."""

from __future__ import annotations

import ssl

import httpx
import pytest


def test_python_client_discovery_with_trailing_slash(sim, k8s):
    from kubernetes import client

    version = client.VersionApi(k8s).get_code()
    assert version.git_version.startswith("v1.")
    core = client.CoreApi(k8s).get_api_versions()
    assert core.versions == ["v1"]
    groups = {g.name: g for g in client.ApisApi(k8s).get_api_versions().groups}
    assert groups["kaito.sh"].preferred_version.version == "v1beta1"
    assert [v.version for v in groups["kaito.sh"].versions] == ["v1beta1", "v1alpha1"]
    # the Python client asks with a trailing slash
    assert any(r.path == "/api/" for r in sim.requests)
    assert any(r.path == "/apis/" for r in sim.requests)


@pytest.mark.parametrize(
    "path",
    [
        "/version",
        "/version/",
        "/api",
        "/api/",
        "/apis",
        "/apis/",
        "/api/v1",
        "/api/v1/",
        "/apis/kaito.sh",
        "/apis/kaito.sh/",
        "/apis/kaito.sh/v1beta1",
        "/apis/kaito.sh/v1beta1/",
        "/apis/apps/v1",
    ],
)
def test_discovery_paths_answer(http, path):
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")


def test_resource_lists_are_kubectl_friendly(http):
    core = http.get("/api/v1").json()
    assert core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["services"]["shortNames"] == ["svc"]
    assert by_name["pods"]["shortNames"] == ["po"]
    assert by_name["nodes"]["namespaced"] is False
    for short in ("no", "ev", "cm", "ns"):
        assert any(short in r.get("shortNames", []) for r in core["resources"]), short
    assert "services/proxy" in by_name and "pods/log" in by_name
    for r in core["resources"]:
        if "/" in r["name"]:
            assert "shortNames" not in r, r["name"]
    kaito = http.get("/apis/kaito.sh/v1beta1").json()
    ws = next(r for r in kaito["resources"] if r["name"] == "workspaces")
    assert ws["kind"] == "Workspace" and ws["shortNames"] == ["wk", "wks"] and ws["namespaced"] is True
    assert set(ws["verbs"]) >= {"create", "get", "list", "watch", "patch", "update", "delete"}
    assert {
        "name": "workspaces/status",
        "singularName": "",
        "namespaced": True,
        "kind": "Workspace",
        "verbs": ["get", "patch", "update"],
    } in kaito["resources"]
    apps = {r["name"]: r for r in http.get("/apis/apps/v1").json()["resources"]}
    assert apps["deployments"]["shortNames"] == ["deploy"] and apps["statefulsets"]["shortNames"] == ["sts"]
    ing = {r["name"]: r for r in http.get("/apis/networking.k8s.io/v1").json()["resources"]}
    assert ing["ingresses"]["shortNames"] == ["ing"]
    crd = {r["name"]: r for r in http.get("/apis/apiextensions.k8s.io/v1").json()["resources"]}
    assert "crd" in crd["customresourcedefinitions"]["shortNames"]
    api = http.get("/api").json()
    assert api["serverAddressByClientCIDRs"]


def test_unknown_paths_are_404_status(http):
    r = http.get("/apis/nope.example.com/v1")
    assert r.status_code == 404 and r.json()["kind"] == "Status"
    r = http.get("/api/v1/namespaces/default/widgets")
    assert r.status_code == 404 and r.json()["reason"] == "NotFound"


def test_requires_credentials(sim):
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    with httpx.Client(base_url=sim.url, verify=ctx) as c:
        r = c.get("/api/v1/namespaces")
        assert r.status_code == 401
        assert r.json() == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        }
        assert c.get("/apis", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/version").status_code == 200  # public, like a real cluster


def test_client_certificate_auth(sim, tmp_path):
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    (tmp_path / "c.crt").write_bytes(sim.client_cert_pem)
    (tmp_path / "c.key").write_bytes(sim.client_key_pem)
    ctx.load_cert_chain(str(tmp_path / "c.crt"), str(tmp_path / "c.key"))
    with httpx.Client(base_url=sim.url, verify=ctx) as c:
        assert c.get("/api/v1/namespaces").status_code == 200
    assert sim.requests[-1].user == "kaito-sim-admin"
    # a certificate from another CA is refused during the handshake
    cert, key = sim.mint_client_cert("mallory", foreign=True)
    (tmp_path / "f.crt").write_bytes(cert)
    (tmp_path / "f.key").write_bytes(key)
    bad = ssl.create_default_context(cadata=sim.ca_pem.decode())
    bad.load_cert_chain(str(tmp_path / "f.crt"), str(tmp_path / "f.key"))
    with httpx.Client(base_url=sim.url, verify=bad) as c:
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            c.get("/api/v1/namespaces")


def test_cert_kubeconfig_with_python_client(sim, tmp_path):
    from kubernetes import client, config

    path = sim.write_kubeconfig(tmp_path / "cert-kubeconfig", user_auth="cert", namespace="kaito-workspace")
    api = config.new_client_from_config(config_file=str(path))
    try:
        cms = client.CoreV1Api(api).list_namespaced_config_map("kaito-workspace")
        assert "kaito-supported-models" in [c.metadata.name for c in cms.items]
    finally:
        api.close()
    assert "Authorization" not in sim.requests[-1].headers


def test_server_certificate_sans(sim_factory):
    from cryptography import x509

    s = sim_factory(extra_sans=("DNS:sim.example.com", "IP:10.1.2.3"), env=False)
    pem = ssl.get_server_certificate(("127.0.0.1", s.port), ca_certs=None)
    cert = x509.load_pem_x509_certificate(pem.encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert "sim.example.com" in san.get_values_for_type(x509.DNSName)
    ips = [str(i) for i in san.get_values_for_type(x509.IPAddress)]
    assert "127.0.0.1" in ips and "10.1.2.3" in ips


def test_without_kaito(sim_factory):
    s = sim_factory(kaito=False, env=False)
    ctx = ssl.create_default_context(cadata=s.ca_pem.decode())
    with httpx.Client(base_url=s.url, verify=ctx, headers={"Authorization": f"Bearer {s.token}"}) as c:
        assert "kaito.sh" not in [g["name"] for g in c.get("/apis").json()["groups"]]
        assert c.get("/apis/kaito.sh/v1beta1").status_code == 404
        assert c.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").json()["items"] == []
        assert c.get("/api/v1/namespaces/kaito-workspace").status_code == 404
    s.set_kaito_installed(True)
    assert s.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "workspaces.kaito.sh") is not None
    assert s.get("apps/v1", "Deployment", "kaito-workspace", "kaito-workspace") is not None


def test_kaito_installed_state(sim, http):
    dep = sim.get("apps/v1", "Deployment", "kaito-workspace", "kaito-workspace")
    labels = dep["metadata"]["labels"]
    assert labels["helm.sh/chart"] == "workspace-0.12.0"
    assert labels["app.kubernetes.io/version"] == "0.12.0"
    assert labels["app.kubernetes.io/name"] == "workspace"
    assert dep["status"]["readyReplicas"] == 1
    cm = sim.get("v1", "ConfigMap", "kaito-supported-models", "kaito-workspace")
    assert "phi-4-mini-instruct" in cm["data"]["SupportedModels"]
    crds = http.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").json()["items"]
    names = {c["metadata"]["name"] for c in crds}
    assert {"workspaces.kaito.sh", "inferencesets.kaito.sh"} <= names
    ws_crd = next(c for c in crds if c["metadata"]["name"] == "workspaces.kaito.sh")
    assert [v["name"] for v in ws_crd["spec"]["versions"]] == ["v1alpha1", "v1beta1"]


def test_crd_without_operator(sim_factory):
    s = sim_factory(operator=False, env=False)
    assert s.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "workspaces.kaito.sh") is not None
    assert s.get("apps/v1", "Deployment", "kaito-workspace", "kaito-workspace") is None
    s.set_operator(True)
    assert s.get("apps/v1", "Deployment", "kaito-workspace", "kaito-workspace") is not None
    s.set_operator(False)
    assert s.get("apps/v1", "Deployment", "kaito-workspace", "kaito-workspace") is None


def test_only_v1alpha1_served(sim_factory):
    s = sim_factory(served_versions=("v1alpha1",), env=False)
    ctx = ssl.create_default_context(cadata=s.ca_pem.decode())
    with httpx.Client(base_url=s.url, verify=ctx, headers={"Authorization": f"Bearer {s.token}"}) as c:
        group = c.get("/apis/kaito.sh").json()
        assert [v["version"] for v in group["versions"]] == ["v1alpha1"]
        assert c.get("/apis/kaito.sh/v1beta1").status_code == 404
        assert c.get("/apis/kaito.sh/v1alpha1/namespaces/default/workspaces").status_code == 200


def test_openapi_v3_index(http):
    idx = http.get("/openapi/v3").json()["paths"]
    assert "apis/kaito.sh/v1beta1" in idx and "api/v1" in idx
    doc = http.get(idx["apis/kaito.sh/v1beta1"]["serverRelativeURL"]).json()
    patch = doc["paths"]["/apis/kaito.sh/v1beta1/namespaces/{namespace}/workspaces/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "kaito.sh", "version": "v1beta1", "kind": "Workspace"}
    assert any(p["name"] == "fieldValidation" for p in patch["parameters"])
    assert http.get("/openapi/v2").status_code == 404
