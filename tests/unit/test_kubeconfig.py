"""kubeconfig.py: kubectl's file/merge/context rules, credentials, exec plugins, TLS material.

The last part compares our resolution with the `kubernetes` package's (kubernetes.config) for the
cases that package supports.
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from kaito_sim import certs

from kubectl_kaito import credentials as cr
from kubectl_kaito import kubeconfig as kc
from kubectl_kaito.errors import ClusterUnavailableError, UnauthorizedError, UsageError
from kubectl_kaito.transport import proxy_for
from tests.fixtures.kube import b64, exec_user, kubeconfig, plugin_runs, write

SERVER = "https://127.0.0.1:6443"


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No KUBECONFIG, no proxies, no pod; HOME and the cache under tmp_path."""
    for var in (
        "KUBECONFIG",
        "KUBERNETES_SERVICE_HOST",
        "KUBERNETES_SERVICE_PORT",
        "POD_NAMESPACE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "cache"))
    monkeypatch.setattr(kc, "SERVICE_ACCOUNT_DIR", str(tmp_path / "no-serviceaccount"))
    cr.clear_exec_memory_cache()
    return tmp_path


@pytest.fixture(scope="module")
def pki() -> dict[str, bytes]:
    ca = certs.ca_pair()
    client = certs.client_pair()
    return {"ca": ca.cert_pem, "cert": client.cert_pem, "key": client.key_pem}


# ---- files, merging, contexts ------------------------------------------------------------------


def test_default_is_home_kube_config(clean_env: Path) -> None:
    write(clean_env / "home" / ".kube" / "config", kubeconfig(SERVER, user={"token": "t"}))
    cfg = kc.load()
    assert cfg.server == SERVER
    assert cfg.source == str(clean_env / "home" / ".kube" / "config")
    assert cfg.namespace == "default" and cfg.context == "c"


def test_kubeconfig_flag_overrides_env(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = write(clean_env / "a.yaml", kubeconfig("https://a.example:6443"))
    b = write(clean_env / "b.yaml", kubeconfig("https://b.example:6443"))
    monkeypatch.setenv("KUBECONFIG", str(a))
    assert kc.load().server == "https://a.example:6443"
    assert kc.load(str(b)).server == "https://b.example:6443"


def test_explicit_missing_kubeconfig_is_a_usage_error(clean_env: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        kc.load(str(clean_env / "nope"))


def test_no_kubeconfig_and_not_in_a_pod(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ClusterUnavailableError) as e:
        kc.load()
    assert e.value.hint and "--kubeconfig" in e.value.hint
    monkeypatch.setenv("KUBECONFIG", str(clean_env / "missing1") + os.pathsep + str(clean_env / "missing2"))
    with pytest.raises(ClusterUnavailableError, match="KUBECONFIG="):
        kc.load()


def test_merge_first_file_wins_per_key_and_for_current_context(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = kubeconfig("https://first:1", user={"token": "first-token"}, name="shared")
    first["clusters"].append({"name": "only-first", "cluster": {"server": "https://only-first:1"}})
    second = kubeconfig("https://second:2", user={"token": "second-token"}, name="shared")
    second["current-context"] = "other"
    second["contexts"].append({"name": "other", "context": {"cluster": "only-second", "user": "shared"}})
    second["clusters"].append({"name": "only-second", "cluster": {"server": "https://only-second:2"}})
    a = write(clean_env / "a" / "config", first)
    b = write(clean_env / "b" / "config", second)
    missing = clean_env / "missing"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(a), str(missing), str(b)]))

    cfg = kc.load()
    assert cfg.context == "shared"  # the first file's current-context
    assert cfg.server == "https://first:1"  # cluster "shared" from the first file, whole entry
    assert cfg.token == "first-token"
    assert cfg.source == os.pathsep.join([str(a), str(b)])

    other = kc.load(context="other")  # a context only the second file has, using the first file's user
    assert other.server == "https://only-second:2" and other.token == "first-token"


def test_current_context_comes_from_the_first_file_that_sets_one(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = write(clean_env / "a", kubeconfig("https://a:1", name="a", current=False))
    b = write(clean_env / "b", kubeconfig("https://b:1", name="b"))
    monkeypatch.setenv("KUBECONFIG", f"{a}{os.pathsep}{b}")
    assert kc.load().context == "b"


def test_context_flag_unknown_context_and_no_current_context(clean_env: Path) -> None:
    doc = kubeconfig(SERVER, current=False)
    path = write(clean_env / "kc", doc)
    with pytest.raises(ClusterUnavailableError, match="no current context"):
        kc.load(str(path))
    assert kc.load(str(path), context="c").context == "c"
    with pytest.raises(UsageError, match='context "nope"') as e:
        kc.load(str(path), context="nope")
    assert e.value.hint == "known contexts: c"


def test_context_pointing_at_missing_cluster_or_user(clean_env: Path) -> None:
    doc = kubeconfig(SERVER)
    doc["contexts"][0]["context"]["user"] = "ghost"
    with pytest.raises(UsageError, match='user "ghost"'):
        kc.load(str(write(clean_env / "kc", doc)))
    doc = kubeconfig(SERVER)
    doc["contexts"][0]["context"]["cluster"] = "ghost"
    with pytest.raises(UsageError, match='cluster "ghost"'):
        kc.load(str(write(clean_env / "kc", doc)))


def test_namespace_flag_over_context_over_default(clean_env: Path) -> None:
    with_ns = write(clean_env / "ns", kubeconfig(SERVER, namespace="team-a"))
    without = write(clean_env / "plain", kubeconfig(SERVER))
    assert kc.load(str(with_ns)).namespace == "team-a"
    assert kc.load(str(with_ns), namespace="team-b").namespace == "team-b"
    assert kc.load(str(without)).namespace == "default"


def test_json_kubeconfig_and_empty_entries(clean_env: Path) -> None:
    path = write(clean_env / "kc.json", kubeconfig(SERVER, user={"token": "t"}), as_yaml=False)
    assert kc.load(str(path)).token == "t"
    empty = clean_env / "empty"
    empty.write_text("")
    with pytest.raises(ClusterUnavailableError):
        kc.load(str(empty))  # an empty file has no context


def test_yaml_errors_do_not_echo_the_file(clean_env: Path) -> None:
    path = clean_env / "bad"
    path.write_text("users:\n- name: u\n  user:\n    token: s3cr3t-token\n  bad: [unclosed\n")
    with pytest.raises(UsageError) as e:
        kc.load(str(path))
    assert "s3cr3t" not in e.value.message and "line" in e.value.message


def test_server_url_defaults_and_trailing_slash(clean_env: Path) -> None:
    assert kc.load(str(write(clean_env / "a", kubeconfig("https://h:1/")))).server == "https://h:1"
    plain = kc.load(str(write(clean_env / "b", kubeconfig("h:8080"))))
    assert plain.server == "http://h:8080"  # no TLS settings: client-go assumes http
    tls = kc.load(str(write(clean_env / "c", kubeconfig("h:6443", cluster={"insecure-skip-tls-verify": True}))))
    assert tls.server == "https://h:6443"
    prefixed = kc.load(str(write(clean_env / "d", kubeconfig("https://rancher/k8s/clusters/c-1/"))))
    assert prefixed.server == "https://rancher/k8s/clusters/c-1"
    with pytest.raises(UsageError, match="no server"):
        kc.load(str(write(clean_env / "e", kubeconfig(""))))


def test_relative_paths_resolve_against_the_defining_file(
    clean_env: Path, pki: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cluster comes from dir1/config, the user from dir2/config: each resolves against its own folder.
    d1, d2 = clean_env / "dir1", clean_env / "dir2"
    (d1 / "pki").mkdir(parents=True)
    (d2 / "creds" / "bin").mkdir(parents=True)
    (d1 / "pki" / "ca.crt").write_bytes(pki["ca"])
    (d2 / "creds" / "client.crt").write_bytes(pki["cert"])
    (d2 / "creds" / "client.key").write_bytes(pki["key"])
    (d2 / "creds" / "token").write_text("file-token\n")
    doc1 = kubeconfig(SERVER, cluster={"certificate-authority": "pki/ca.crt"})
    doc1["users"] = []
    doc2 = kubeconfig("https://ignored:1", name="c")
    doc2["clusters"] = []
    doc2["users"][0]["user"] = {
        "client-certificate": "creds/client.crt",
        "client-key": "creds/client.key",
        "tokenFile": "creds/token",
    }
    monkeypatch.setenv("KUBECONFIG", f"{write(d1 / 'config', doc1)}{os.pathsep}{write(d2 / 'config', doc2)}")
    cfg = kc.load()
    assert cfg.ca_pem == pki["ca"]
    assert cfg.client_cert_pem == pki["cert"] and cfg.client_key_pem == pki["key"]
    assert cfg.token_file == str(d2 / "creds" / "token")
    assert cr.Credentials(cfg).authorization() == "Bearer file-token"

    doc2["users"][0]["user"] = exec_user(command="./creds/bin/login")
    doc2["users"][0]["user"]["exec"]["args"] = []
    write(d2 / "config", doc2)
    exec_config = kc.load().exec_config
    assert exec_config is not None
    assert exec_config["command"] == str(d2 / "creds" / "bin" / "login")
    doc2["users"][0]["user"] = exec_user(command="kubelogin")  # a PATH name stays as it is
    write(d2 / "config", doc2)
    exec_config = kc.load().exec_config
    assert exec_config is not None
    assert exec_config["command"] == "kubelogin"


def test_data_fields_win_over_file_fields(clean_env: Path, pki: dict[str, bytes]) -> None:
    doc = kubeconfig(
        SERVER,
        cluster={"certificate-authority": "does-not-exist", "certificate-authority-data": b64(pki["ca"])},
        user={
            "client-certificate": "nope.crt",
            "client-certificate-data": b64(pki["cert"]),
            "client-key": "nope.key",
            "client-key-data": b64(pki["key"]),
        },
    )
    cfg = kc.load(str(write(clean_env / "kc", doc)))
    assert (cfg.ca_pem, cfg.client_cert_pem, cfg.client_key_pem) == (pki["ca"], pki["cert"], pki["key"])


def test_broken_tls_settings(clean_env: Path, pki: dict[str, bytes]) -> None:
    both = kubeconfig(SERVER, cluster={"certificate-authority-data": b64(pki["ca"]), "insecure-skip-tls-verify": True})
    with pytest.raises(UsageError, match="insecure"):
        kc.load(str(write(clean_env / "a", both)))
    half = kubeconfig(SERVER, user={"client-certificate-data": b64(pki["cert"])})
    with pytest.raises(UsageError, match="client-key"):
        kc.load(str(write(clean_env / "b", half)))
    missing = kubeconfig(SERVER, cluster={"certificate-authority": "nope.crt"})
    with pytest.raises(UsageError, match=re.escape("nope.crt")):
        kc.load(str(write(clean_env / "c", missing)))
    token_and_basic = kubeconfig(SERVER, user={"token": "t", "username": "u", "password": "p"})
    with pytest.raises(UsageError, match="not both"):
        kc.load(str(write(clean_env / "d", token_and_basic)))


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_socks_proxy_is_a_clear_usage_error(clean_env: Path, scheme: str) -> None:
    doc = kubeconfig(SERVER, cluster={"proxy-url": f"{scheme}://127.0.0.1:1080"})
    with pytest.raises(UsageError, match="not supported") as e:
        kc.load(str(write(clean_env / "kc", doc)))
    assert e.value.hint and "CONNECT" in e.value.hint


def test_repr_never_shows_secrets(clean_env: Path, pki: dict[str, bytes]) -> None:
    doc = kubeconfig(
        SERVER,
        cluster={"proxy-url": "http://pu:proxypass@127.0.0.1:3128"},
        user={"token": "tok-SECRET", "client-certificate-data": b64(pki["cert"]), "client-key-data": b64(pki["key"])},
    )
    text = repr(kc.load(str(write(clean_env / "kc", doc))))
    assert "tok-SECRET" not in text and "PRIVATE KEY" not in text and "proxypass" not in text


# ---- in-cluster ----------------------------------------------------------------------------------


def _service_account(folder: Path, pki: dict[str, bytes], namespace: str = "kaito-ns") -> Path:
    folder.mkdir(parents=True)
    (folder / "token").write_text("sa-token\n")
    (folder / "ca.crt").write_bytes(pki["ca"])
    (folder / "namespace").write_text(namespace)
    return folder


def test_in_cluster_config(clean_env: Path, pki: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    sa = _service_account(clean_env / "sa", pki)
    monkeypatch.setattr(kc, "SERVICE_ACCOUNT_DIR", str(sa))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    cfg = kc.load()
    assert (cfg.server, cfg.namespace, cfg.source, cfg.ca_pem) == (
        "https://10.0.0.1:443",
        "kaito-ns",
        "in-cluster",
        pki["ca"],
    )
    creds = cr.Credentials(cfg)
    assert creds.authorization() == "Bearer sa-token"
    (sa / "token").write_text("rotated")  # projected tokens rotate: re-read per request
    assert creds.authorization() == "Bearer rotated"
    assert kc.load(namespace="x").namespace == "x"
    monkeypatch.setenv("POD_NAMESPACE", "from-env")
    assert kc.load().namespace == "from-env"
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    assert kc.load().server == "https://[fd00::1]:443"
    # A kubeconfig, when there is one, wins over the pod's service account.
    write(clean_env / "home" / ".kube" / "config", kubeconfig(SERVER))
    assert kc.load().server == SERVER


def test_in_cluster_needs_env_and_token(
    clean_env: Path, pki: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    sa = _service_account(clean_env / "sa", pki)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    with pytest.raises(ClusterUnavailableError):
        kc.load()  # SERVICE_ACCOUNT_DIR points nowhere
    cfg = kc.load(service_account_dir=str(sa))
    assert cfg.token_file == str(sa / "token")


# ---- credentials -------------------------------------------------------------------------------


def _creds(clean_env: Path, user: dict[str, Any], **cluster: Any) -> cr.Credentials:
    return cr.Credentials(kc.load(str(write(clean_env / "kc", kubeconfig(SERVER, user=user, cluster=cluster)))))


def test_static_credentials(clean_env: Path) -> None:
    assert _creds(clean_env, {"token": "abc"}).authorization() == "Bearer abc"
    basic = _creds(clean_env, {"username": "admin", "password": "pw"}).authorization()
    assert basic == "Basic " + base64.b64encode(b"admin:pw").decode()
    assert _creds(clean_env, {}).authorization() is None
    tf = clean_env / "tok"
    tf.write_text("from-file")
    both = _creds(clean_env, {"token": "inline", "tokenFile": str(tf)})
    assert both.authorization() == "Bearer from-file"  # client-go: a readable tokenFile wins
    tf.unlink()
    assert both.authorization() == "Bearer inline"  # ... and the inline token is the fallback
    with pytest.raises(UnauthorizedError, match="token file"):
        _creds(clean_env, {"tokenFile": str(tf)}).authorization()


def _exec_env(clean_env: Path, **extra: str) -> dict[str, str]:
    return {"EXEC_PLUGIN_LOG": str(clean_env / "runs.log"), "EXEC_PLUGIN_TOKEN": "exec-token", **extra}


@pytest.mark.parametrize("api", [kc.EXEC_V1, kc.EXEC_V1BETA1])
def test_exec_plugin_token_and_exec_info(clean_env: Path, pki: dict[str, bytes], api: str) -> None:
    user = exec_user(api, _exec_env(clean_env), provideClusterInfo=True)
    user["exec"]["args"].append("--flag=1")
    creds = _creds(
        clean_env,
        user,
        **{
            "certificate-authority-data": b64(pki["ca"]),
            "tls-server-name": "api.example",
            "extensions": [{"name": kc.EXEC_EXTENSION_NAME, "extension": {"audience": "aks"}}],
        },
    )
    assert creds.kind == "exec" and creds.refreshable
    assert creds.authorization() == "Bearer exec-token"
    runs = plugin_runs(clean_env / "runs.log")
    assert len(runs) == 1 and runs[0]["argv"] == ["--flag=1"]
    info = json.loads(runs[0]["info"])
    assert info["apiVersion"] == api and info["kind"] == "ExecCredential"
    assert info["spec"]["interactive"] is False  # stdin is not a terminal under pytest
    cluster = info["spec"]["cluster"]
    assert cluster["server"] == SERVER and cluster["tls-server-name"] == "api.example"
    assert base64.b64decode(cluster["certificate-authority-data"]) == pki["ca"]
    assert cluster["config"] == {"audience": "aks"}
    assert runs[0]["stdin_tty"] is False


def test_exec_without_provide_cluster_info_sends_no_cluster(clean_env: Path) -> None:
    creds = _creds(clean_env, exec_user(kc.EXEC_V1BETA1, _exec_env(clean_env)))  # v1beta1: interactiveMode optional
    creds.authorization()
    assert "cluster" not in json.loads(plugin_runs(clean_env / "runs.log")[0]["info"])["spec"]


def test_exec_cached_in_memory_and_on_disk_until_expiry(clean_env: Path) -> None:
    log = clean_env / "runs.log"
    user = exec_user(kc.EXEC_V1, _exec_env(clean_env, EXEC_PLUGIN_TTL="3600"))
    creds = _creds(clean_env, user)
    assert creds.authorization() == "Bearer exec-token"
    assert creds.authorization() == "Bearer exec-token"
    assert len(plugin_runs(log)) == 1
    cr.clear_exec_memory_cache()  # a new `kubectl kaito` process: the disk cache answers
    assert _creds(clean_env, user).authorization() == "Bearer exec-token"
    assert len(plugin_runs(log)) == 1
    folder = clean_env / "cache" / "kaito-exec"
    files = list(folder.glob("*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # A different exec config (other args) is another key: the plugin runs again.
    other = exec_user(kc.EXEC_V1, _exec_env(clean_env, EXEC_PLUGIN_TTL="3600"))
    other["exec"]["args"].append("--other")
    _creds(clean_env, other).authorization()
    assert len(plugin_runs(log)) == 2
    # refresh() (after a 401) forgets both caches.
    assert creds.refresh() is True
    assert not files[0].exists()
    creds.authorization()
    assert len(plugin_runs(log)) == 3


def test_exec_expired_credentials_rerun_and_no_expiry_is_memory_only(clean_env: Path) -> None:
    log = clean_env / "runs.log"
    expired = _creds(clean_env, exec_user(kc.EXEC_V1, _exec_env(clean_env, EXEC_PLUGIN_TTL="-10")))
    expired.authorization()
    expired.authorization()
    assert len(plugin_runs(log)) == 2
    log.unlink()
    cr.clear_exec_memory_cache()
    forever = _creds(clean_env, exec_user(kc.EXEC_V1, _exec_env(clean_env)))
    forever.authorization()
    forever.authorization()
    assert len(plugin_runs(log)) == 1
    cr.clear_exec_memory_cache()
    forever.authorization()  # no expirationTimestamp: nothing was written to disk
    assert len(plugin_runs(log)) == 2


def test_exec_expiry_margin(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = clean_env / "runs.log"
    creds = _creds(clean_env, exec_user(kc.EXEC_V1, _exec_env(clean_env, EXEC_PLUGIN_TTL="3")))
    creds.authorization()
    creds.authorization()  # 3 s left, inside the 5 s margin: treated as expired
    assert len(plugin_runs(log)) == 2
    monkeypatch.setattr(cr, "EXEC_EXPIRY_MARGIN", 0.0)
    creds.authorization()  # without the margin the same credential is still good
    creds.authorization()
    assert len(plugin_runs(log)) == 2


def test_exec_disk_cache_with_loose_permissions_is_ignored(clean_env: Path) -> None:
    log = clean_env / "runs.log"
    user = exec_user(kc.EXEC_V1, _exec_env(clean_env, EXEC_PLUGIN_TTL="3600"))
    _creds(clean_env, user).authorization()
    (cached,) = (clean_env / "cache" / "kaito-exec").glob("*.json")
    cached.chmod(0o644)
    cr.clear_exec_memory_cache()
    _creds(clean_env, user).authorization()
    assert len(plugin_runs(log)) == 2


def test_exec_client_certificate_result(clean_env: Path, pki: dict[str, bytes]) -> None:
    (clean_env / "c.pem").write_bytes(pki["cert"])
    (clean_env / "k.pem").write_bytes(pki["key"])
    env = _exec_env(
        clean_env,
        EXEC_PLUGIN_MODE="cert",
        EXEC_PLUGIN_CERT_FILE=str(clean_env / "c.pem"),
        EXEC_PLUGIN_KEY_FILE=str(clean_env / "k.pem"),
        EXEC_PLUGIN_TTL="3600",
    )
    creds = _creds(clean_env, exec_user(kc.EXEC_V1BETA1, env))
    assert creds.authorization() is None
    assert creds.client_cert() == (pki["cert"], pki["key"])
    cr.clear_exec_memory_cache()
    assert _creds(clean_env, exec_user(kc.EXEC_V1BETA1, env)).client_cert() == (pki["cert"], pki["key"])
    assert len(plugin_runs(clean_env / "runs.log")) == 1  # the certificate came from the disk cache


def test_static_credentials_win_over_exec(clean_env: Path) -> None:
    user = exec_user(kc.EXEC_V1, _exec_env(clean_env))
    user["token"] = "static"
    assert _creds(clean_env, user).authorization() == "Bearer static"
    assert plugin_runs(clean_env / "runs.log") == []


def test_exec_missing_command_shows_install_hint(clean_env: Path) -> None:
    user = exec_user(kc.EXEC_V1, command="kubelogin-not-installed", installHint="install kubelogin: az aks install-cli")
    with pytest.raises(UnauthorizedError, match="kubelogin-not-installed") as e:
        _creds(clean_env, user).authorization()
    assert e.value.hint == "install kubelogin: az aks install-cli"
    assert e.value.exit_code == 5
    no_hint = exec_user(kc.EXEC_V1, command="/nowhere/kubelogin")
    with pytest.raises(UnauthorizedError) as e:
        _creds(clean_env, no_hint).authorization()
    assert e.value.hint and "client-go-credential-plugins" in e.value.hint


@pytest.mark.parametrize(
    ("mode", "match"),
    [("fail", "exit code 3"), ("garbage", "not JSON"), ("wrong-version", "v1alpha1"), ("nothing", "neither")],
)
def test_exec_plugin_failures(clean_env: Path, capfd: pytest.CaptureFixture[str], mode: str, match: str) -> None:
    creds = _creds(clean_env, exec_user(kc.EXEC_V1, _exec_env(clean_env, EXEC_PLUGIN_MODE=mode, EXEC_PLUGIN_TOKEN="x")))
    with pytest.raises(UnauthorizedError, match=match):
        creds.authorization()
    if mode == "fail":
        assert "login failed (test)" in capfd.readouterr().err  # the plugin's stderr reaches the user


def test_exec_config_errors(clean_env: Path) -> None:
    v1_without_mode = exec_user(kc.EXEC_V1, _exec_env(clean_env))
    del v1_without_mode["exec"]["interactiveMode"]
    with pytest.raises(UsageError, match="interactiveMode"):
        _creds(clean_env, v1_without_mode).authorization()
    old = exec_user("client.authentication.k8s.io/v1alpha1", _exec_env(clean_env))
    with pytest.raises(UsageError, match="not supported"):
        _creds(clean_env, old).authorization()
    always = exec_user(kc.EXEC_V1, _exec_env(clean_env), interactiveMode="Always")
    with pytest.raises(UnauthorizedError, match="interactive terminal"):
        _creds(clean_env, always).authorization()
    assert plugin_runs(clean_env / "runs.log") == []


def test_parse_timestamp() -> None:
    assert cr.parse_timestamp("2030-01-01T00:00:00Z") == 1893456000.0
    assert cr.parse_timestamp("2030-01-01T01:00:00+01:00") == 1893456000.0
    assert cr.parse_timestamp("2030-01-01T00:00:00.123456789Z") == pytest.approx(1893456000.123456)
    with pytest.raises(ValueError):
        cr.parse_timestamp("tomorrow")


# ---- TLS material ------------------------------------------------------------------------------


def _no_new_temp_files(before: set[str]) -> bool:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("kaito-")} <= before


@pytest.mark.parametrize("memfd", [True, False])
def test_client_key_never_stays_on_disk(
    clean_env: Path, pki: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, memfd: bool
) -> None:
    if not memfd:
        monkeypatch.delattr(os, "memfd_create", raising=False)
    written: list[str] = []
    real_open = os.open

    def spy_open(path: Any, *args: Any, **kwargs: Any) -> int:
        written.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_open)
    before = {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("kaito-")}
    doc = kubeconfig(
        SERVER,
        cluster={"certificate-authority-data": b64(pki["ca"])},
        user={"client-certificate-data": b64(pki["cert"]), "client-key-data": b64(pki["key"])},
    )
    ctx = cr.ssl_context(kc.load(str(write(clean_env / "kc", doc))))
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert _no_new_temp_files(before)
    for path in written:  # whatever was written for OpenSSL is gone again
        assert not os.path.exists(path)


def test_ssl_context_variants(clean_env: Path, pki: dict[str, bytes]) -> None:
    insecure = kc.load(str(write(clean_env / "a", kubeconfig(SERVER, cluster={"insecure-skip-tls-verify": True}))))
    ctx = cr.ssl_context(insecure)
    assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
    system = cr.ssl_context(kc.load(str(write(clean_env / "b", kubeconfig(SERVER)))))
    assert system.verify_mode == ssl.CERT_REQUIRED
    bad_ca = kubeconfig(SERVER, cluster={"certificate-authority-data": b64(b"-----BEGIN CERTIFICATE-----\nnope\n")})
    with pytest.raises(UsageError, match="certificate-authority"):
        cr.ssl_context(kc.load(str(write(clean_env / "c", bad_ca))))
    other_key = certs.client_pair("someone-else").key_pem
    mismatched = kubeconfig(
        SERVER, user={"client-certificate-data": b64(pki["cert"]), "client-key-data": b64(other_key)}
    )
    with pytest.raises(UsageError, match="client certificate or key"):
        cr.ssl_context(kc.load(str(write(clean_env / "d", mismatched))))


# ---- proxies -----------------------------------------------------------------------------------


def test_proxy_url_and_environment_proxies(clean_env: Path) -> None:
    def cfg(server: str, **cluster: Any) -> kc.ClusterConfig:
        return kc.load(str(write(clean_env / "kc", kubeconfig(server, cluster=cluster))))

    env = {"HTTPS_PROXY": "proxy.corp:3128", "NO_PROXY": ".internal,10.0.0.0/8,exact.example:6443"}
    assert proxy_for(cfg("https://api.example:6443", **{"proxy-url": "http://p:1"}), env) == "http://p:1"
    assert proxy_for(cfg("https://api.example:6443"), env) == "http://proxy.corp:3128"
    assert proxy_for(cfg("https://a.b.internal:6443"), env) is None
    assert proxy_for(cfg("https://10.1.2.3:6443"), env) is None
    assert proxy_for(cfg("https://exact.example:6443"), env) is None
    assert proxy_for(cfg("https://exact.example:443"), env) == "http://proxy.corp:3128"
    assert proxy_for(cfg("https://127.0.0.1:6443"), env) is None  # Go never proxies loopback
    assert proxy_for(cfg("https://localhost:6443"), env) is None
    assert proxy_for(cfg("https://api.example:6443"), {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}) is None
    assert proxy_for(cfg("https://api.example:6443"), {"HTTP_PROXY": "http://p:1"}) is None  # https wants HTTPS_PROXY
    assert proxy_for(cfg("https://api.example:6443"), {"NO_PROXY": "example"}) is None
    assert kc.proxy_display("http://user:pw@p.example:3128") == "http://p.example:3128"
    assert kc.proxy_credentials("http://us%40er:p%3Aw@p:1") == base64.b64encode(b"us@er:p:w").decode()


# ---- the kubernetes package as the reference ----------------------------------------------------


def _reference(path: str, context: str | None) -> dict[str, Any]:
    """What kubernetes.config resolves for the same kubeconfig."""
    from kubernetes import client as kclient
    from kubernetes import config as kconfig

    conf = kclient.Configuration()
    kconfig.load_kube_config(config_file=path, context=context, client_configuration=conf, persist_config=False)
    _, active = kconfig.list_kube_config_contexts(config_file=path)
    if context:
        contexts, _ = kconfig.list_kube_config_contexts(config_file=path)
        active = next(c for c in contexts if c["name"] == context)

    def read(p: str | None) -> bytes | None:
        return Path(p).read_bytes() if p else None

    return {
        "server": conf.host,
        "ca": read(conf.ssl_ca_cert),
        "cert": read(conf.cert_file),
        "key": read(conf.key_file),
        "authorization": conf.api_key.get("BearerToken"),
        "insecure": not conf.verify_ssl,
        "tls_server_name": conf.tls_server_name,
        "proxy": conf.proxy,
        "namespace": active["context"].get("namespace") or "default",
    }


def _ours(path: str | None, context: str | None) -> dict[str, Any]:
    cfg = kc.load(path, context)
    creds = cr.Credentials(cfg)
    pair = creds.client_cert()
    return {
        "server": cfg.server,
        "ca": cfg.ca_pem,
        "cert": pair[0] if pair else None,
        "key": pair[1] if pair else None,
        "authorization": creds.authorization(),
        "insecure": cfg.insecure,
        "tls_server_name": cfg.tls_server_name,
        "proxy": cfg.proxy_url,
        "namespace": cfg.namespace,
    }


def _comparison_cases(base: Path, pki: dict[str, bytes]) -> dict[str, tuple[list[dict[str, Any]], str | None]]:
    (base / "pki").mkdir(exist_ok=True)
    (base / "pki" / "ca.crt").write_bytes(pki["ca"])
    (base / "pki" / "client.crt").write_bytes(pki["cert"])
    (base / "pki" / "client.key").write_bytes(pki["key"])
    (base / "pki" / "token").write_text("file-token")
    (base / "pki" / "exec-cert.pem").write_bytes(pki["cert"])
    (base / "pki" / "exec-key.pem").write_bytes(pki["key"])
    ca_data = {"certificate-authority-data": b64(pki["ca"])}
    exec_env = {"EXEC_PLUGIN_TOKEN": "exec-token", "EXEC_PLUGIN_LOG": str(base / "ref-runs.log")}
    cert_env = {
        **exec_env,
        "EXEC_PLUGIN_MODE": "cert",
        "EXEC_PLUGIN_CERT_FILE": str(base / "pki" / "exec-cert.pem"),
        "EXEC_PLUGIN_KEY_FILE": str(base / "pki" / "exec-key.pem"),
    }
    second = kubeconfig(
        "https://second.example:6443/", cluster=ca_data, user={"token": "second"}, name="two", namespace="ns-two"
    )
    return {
        "token+ca-data+namespace": (
            [kubeconfig(SERVER, cluster=ca_data, user={"token": "tok"}, namespace="team")],
            None,
        ),
        "ca-file+cert-files (relative)": (
            [
                kubeconfig(
                    SERVER,
                    cluster={"certificate-authority": "pki/ca.crt"},
                    user={"client-certificate": "pki/client.crt", "client-key": "pki/client.key"},
                )
            ],
            None,
        ),
        "cert-data": (
            [
                kubeconfig(
                    SERVER,
                    cluster=ca_data,
                    user={"client-certificate-data": b64(pki["cert"]), "client-key-data": b64(pki["key"])},
                )
            ],
            None,
        ),
        "tokenFile (relative)": ([kubeconfig(SERVER, cluster=ca_data, user={"tokenFile": "pki/token"})], None),
        "basic": ([kubeconfig(SERVER, cluster=ca_data, user={"username": "admin", "password": "pw"})], None),
        "insecure, no CA": (
            [kubeconfig(SERVER, cluster={"insecure-skip-tls-verify": True}, user={"token": "t"})],
            None,
        ),
        "tls-server-name": ([kubeconfig(SERVER, cluster={**ca_data, "tls-server-name": "kubernetes"})], None),
        "proxy-url": ([kubeconfig(SERVER, cluster={**ca_data, "proxy-url": "http://127.0.0.1:3128"})], None),
        "merged files, --context from the second": ([kubeconfig(SERVER, cluster=ca_data), second], "two"),
        "exec v1beta1 token": ([kubeconfig(SERVER, cluster=ca_data, user=exec_user(kc.EXEC_V1BETA1, exec_env))], None),
        "exec v1 client certificate": (
            [kubeconfig(SERVER, cluster=ca_data, user=exec_user(kc.EXEC_V1, cert_env))],
            None,
        ),
    }


def test_same_resolution_as_the_kubernetes_package(
    clean_env: Path, pki: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where kubernetes.config supports a case, it must resolve exactly what we resolve.

    Known differences, deliberately not compared (kubectl is our authority):
    - token + tokenFile both set: kubernetes.config prefers `token`; kubectl prefers a readable tokenFile.
    - merged files: kubernetes.config takes current-context from the LAST file that sets it, kubectl from
      the first; the merged case here therefore passes --context.
    - no current-context in the first file / KUBECONFIG with missing files: compared in the tests above only.
    - in-cluster config (kubernetes.config.load_incluster_config reads fixed /var/run paths).
    - exec plugins: kubernetes.config neither caches nor re-runs them, and sends the raw cluster entry in
      KUBERNETES_EXEC_INFO (kubectl, and we, send server/certificate-authority-data/...); only results compared.
    - socks5 proxy-url: kubernetes.config hands it to urllib3 (needs PySocks); we refuse it with a UsageError.
    - auth-provider: we delegate to kubernetes.config itself, so there is nothing to compare.
    """
    import kubernetes  # noqa: F401  (the reference; a test dependency)

    for name, (docs, context) in _comparison_cases(clean_env, pki).items():
        paths = [write(clean_env / f"cfg{i}.yaml", doc) for i, doc in enumerate(docs)]
        joined = os.pathsep.join(str(p) for p in paths)
        cr.clear_exec_memory_cache()
        if len(paths) == 1:
            ours = _ours(joined, context)  # --kubeconfig
        else:
            monkeypatch.setenv("KUBECONFIG", joined)
            ours = _ours(None, context)
            monkeypatch.delenv("KUBECONFIG")
        ref = _reference(joined, context)
        assert ours == ref, name


# ---- auth-provider, import hygiene ------------------------------------------------------------------


def _jwt(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


def test_auth_provider_is_delegated_to_the_kubernetes_package(clean_env: Path) -> None:
    token = _jwt({"exp": 4102444800, "sub": "me"})  # 2100-01-01: no refresh needed
    oidc = {"auth-provider": {"name": "oidc", "config": {"id-token": token, "idp-issuer-url": "https://idp"}}}
    creds = _creds(clean_env, oidc)
    assert creds.kind == "auth-provider"
    assert creds.authorization() == f"Bearer {token}"
    azure = {"auth-provider": {"name": "azure", "config": {"access-token": "x"}}}
    with pytest.raises(UnauthorizedError) as e:
        _creds(clean_env, azure).authorization()
    assert e.value.hint and "kubelogin convert-kubeconfig" in e.value.hint


def test_cluster_module_stays_import_light() -> None:
    import subprocess

    code = (
        "import sys, kubectl_kaito.resources, kubectl_kaito.client, kubectl_kaito.transport\n"
        "import kubectl_kaito.credentials, kubectl_kaito.kubeconfig\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('kubernetes', 'httpx', 'yaml', 'rich', 'typer', 'shutil', 'tempfile', 'subprocess'))\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_file_is_refused_after_64_mib_not_read_until_memory_runs_out(clean_env: Path) -> None:
    with pytest.raises(UsageError, match="larger than 64 MiB"):
        kc.load("/dev/zero")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("cluster", "user"),
    [({"certificate-authority": "/dev/zero"}, {"token": "t"}), ({}, {"client-certificate": "/dev/zero"})],
)
def test_an_endless_file_named_in_the_kubeconfig_is_refused_too(
    clean_env: Path, cluster: dict[str, str], user: dict[str, str]
) -> None:
    with pytest.raises(UsageError, match=r"/dev/zero: larger than 64 MiB$"):
        kc.load(str(write(clean_env / "kc", kubeconfig(SERVER, cluster=cluster, user=user))))


def test_a_kubeconfig_from_a_pipe_is_read(clean_env: Path) -> None:
    # `--kubeconfig <(cat config)`: a pipe, not a regular file
    text = json.dumps(kubeconfig(SERVER, user={"token": "t"}))
    r, w = os.pipe()
    os.write(w, text.encode())
    os.close(w)
    try:
        assert kc.load(f"/dev/fd/{r}").server == SERVER
    finally:
        os.close(r)
