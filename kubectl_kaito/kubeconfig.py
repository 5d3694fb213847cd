"""Kubeconfig loading with kubectl's semantics: files, merging, contexts -> one `ClusterConfig`.

What this module does, in kubectl's own terms:

- files: `--kubeconfig` (one file, must exist), else every file in `$KUBECONFIG`
  (os.pathsep separated, missing ones skipped), else `~/.kube/config`, else the
  in-cluster service account. Several files are merged in order: for clusters,
  users and contexts the first file that names an entry wins (whole entry), and
  the first file that sets `current-context` wins.
- relative paths (certificate-authority, client-certificate, client-key,
  tokenFile, and an exec `command` containing a "/") are resolved against the
  folder of the file that defined the entry.
- `-data` fields win over their file fields; a readable `tokenFile` wins over
  `token` (client-go re-reads it, so it can rotate).
- the user's credential fields are read into `ClusterConfig`; presenting them (tokens, exec
  plugins, client certificates, TLS) is `credentials.py`.

Nothing here talks to the API server; `client.py` does.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from kubectl_kaito import files, miniyaml
from kubectl_kaito.errors import ClusterUnavailableError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

# Where a pod finds its service account; a module constant so tests can point it elsewhere.
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

EXEC_V1 = "client.authentication.k8s.io/v1"
EXEC_V1BETA1 = "client.authentication.k8s.io/v1beta1"
EXEC_API_VERSIONS = (EXEC_V1, EXEC_V1BETA1)
# The cluster extension an exec plugin receives as spec.cluster.config (provideClusterInfo).
EXEC_EXTENSION_NAME = "client.authentication.k8s.io/exec"

# An exec credential this close to its expiry is treated as expired, so a request


class ClusterConfig:
    """Everything needed to reach and authenticate to one API server (secrets kept out of repr).

    A plain class, not a dataclass: `import dataclasses` costs ~7 ms of every cluster command's start
    (docs/design.md, start-up). Built once by `load`; read-only by convention."""

    def __init__(
        self,
        *,
        server: str,  # "https://host:port[/prefix]" without trailing slash
        namespace: str,  # resolved: -n, else the context's namespace, else "default"
        context: str | None,
        ca_pem: bytes | None = None,
        insecure: bool = False,
        tls_server_name: str | None = None,
        client_cert_pem: bytes | None = None,
        client_key_pem: bytes | None = None,
        token: str | None = None,
        token_file: str | None = None,  # re-read on each request (rotated tokens)
        username: str | None = None,
        password: str | None = None,
        exec_config: dict[str, Any] | None = None,  # command already resolved
        auth_provider: dict[str, Any] | None = None,
        proxy_url: str | None = None,  # may carry user:password
        source: str = "",  # which file(s), or "in-cluster", for messages
        user: str | None = None,  # the kubeconfig user name, for messages
        cluster_name: str | None = None,  # the kubeconfig cluster name, for messages
        exec_cluster_config: Any = None,  # cluster extension for provideClusterInfo
    ) -> None:
        self.server = server
        self.namespace = namespace
        self.context = context
        self.ca_pem = ca_pem
        self.insecure = insecure
        self.tls_server_name = tls_server_name
        self.client_cert_pem = client_cert_pem
        self.client_key_pem = client_key_pem
        self.token = token
        self.token_file = token_file
        self.username = username
        self.password = password
        self.exec_config = exec_config
        self.auth_provider = auth_provider
        self.proxy_url = proxy_url
        self.source = source
        self.user = user
        self.cluster_name = cluster_name
        self.exec_cluster_config = exec_cluster_config

    def __repr__(self) -> str:
        """The fields that hold no secret (no CA, key, token, password, exec or auth-provider config, proxy URL)."""
        shown = "server namespace context insecure tls_server_name token_file username source user cluster_name"
        return "ClusterConfig(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in shown.split()) + ")"

    @property
    def auth_kind(self) -> str:
        """Which credential the requests will carry: token, token-file, basic, cert, exec, auth-provider or none."""
        if self.token_file:
            return "token-file"
        if self.token:
            return "token"
        if self.username is not None or self.password is not None:
            return "basic"
        if self.client_cert_pem:
            return "cert"
        if self.exec_config:
            return "exec"
        if self.auth_provider:
            return "auth-provider"
        return "none"


# ---- loading ------------------------------------------------------------------------------------


class _Entry:
    """One named clusters/users/contexts entry and the folder of the file that defined it."""

    __slots__ = ("base", "value")

    def __init__(self, value: dict[str, Any], base: str) -> None:
        self.value = value
        self.base = base


def kubeconfig_paths(kubeconfig: str | None, env: Mapping[str, str] | None = None) -> tuple[list[str], bool]:
    """The candidate files in kubectl's order, and whether they were asked for explicitly."""
    env = os.environ if env is None else env
    if kubeconfig:
        return [os.path.expanduser(kubeconfig)], True
    raw = env.get("KUBECONFIG", "")
    if raw:
        seen: list[str] = []
        for part in raw.split(os.pathsep):
            if part and os.path.expanduser(part) not in seen:
                seen.append(os.path.expanduser(part))
        return seen, False
    home = env.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")], False


def _parse(path: str, text: str) -> dict[str, Any]:
    """Parse one kubeconfig. JSON and the YAML that kubeconfig writers produce (miniyaml) skip the PyYAML import."""
    doc: Any
    stripped = text.lstrip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            return doc
    try:
        doc = miniyaml.load(text)  # exactly PyYAML's answer, or Unsure
    except Exception:  # noqa: BLE001  Unsure; or a fault in the fast reader (its tests allow only Unsure):
        pass  # then PyYAML decides, so a user's kubeconfig never meets a traceback
    else:
        if isinstance(doc, dict):
            return doc
    import yaml  # noqa: PLC0415  (~10 ms; only kubeconfigs miniyaml is unsure of, or not mappings, need it)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(text, Loader=loader)
    except yaml.YAMLError as e:
        # The YAML message quotes the offending line, which may hold a secret: keep only the position.
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise UsageError(f"cannot parse kubeconfig {path}: {problem}{where}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise UsageError(f"cannot parse kubeconfig {path}: the top level is not a mapping")
    return doc


def _read_files(paths: list[str], explicit: bool) -> list[tuple[str, dict[str, Any]]]:
    docs: list[tuple[str, dict[str, Any]]] = []
    for path in paths:
        try:
            text = files.read_text(path)  # at most 64 MiB: `--kubeconfig /dev/zero` is an error, not a hang
        except FileNotFoundError:
            if explicit:
                raise UsageError(
                    f"the kubeconfig file {path} does not exist", hint="check the --kubeconfig value"
                ) from None
            continue  # kubectl skips missing files listed in $KUBECONFIG
        except IsADirectoryError:
            raise UsageError(f"the kubeconfig path {path} is a directory, not a file") from None
        except OSError as e:
            raise UsageError(f"cannot read kubeconfig {path}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise UsageError(f"cannot read kubeconfig {path}: not UTF-8 text") from None
        docs.append((path, _parse(path, text)))
    return docs


def _merge(
    docs: list[tuple[str, dict[str, Any]]],
) -> tuple[dict[str, _Entry], dict[str, _Entry], dict[str, _Entry], str | None]:
    """kubectl's merge: per map key the first file wins; the first non-empty current-context wins."""
    maps: dict[str, dict[str, _Entry]] = {"clusters": {}, "users": {}, "contexts": {}}
    inner = {"clusters": "cluster", "users": "user", "contexts": "context"}
    current: str | None = None
    for path, doc in docs:
        base = os.path.abspath(os.path.dirname(path))
        for key, target in maps.items():
            entries = doc.get(key) or []
            if not isinstance(entries, list):
                raise UsageError(f"cannot parse kubeconfig {path}: {key} is not a list")
            for item in entries:
                if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                    raise UsageError(f"cannot parse kubeconfig {path}: an entry of {key} has no name")
                value = item.get(inner[key]) or {}
                if not isinstance(value, dict):
                    raise UsageError(f'cannot parse kubeconfig {path}: {key} entry "{item["name"]}" is not a mapping')
                target.setdefault(item["name"], _Entry(value, base))
        cc = doc.get("current-context")
        if current is None and isinstance(cc, str) and cc:
            current = cc
    return maps["clusters"], maps["users"], maps["contexts"], current


def _resolve(path: Any, base: str) -> str:
    p = os.path.expanduser(str(path))
    return p if os.path.isabs(p) else os.path.normpath(os.path.join(base, p))  # Go's filepath.Join cleans


def _read_bytes(path: str, what: str) -> bytes:
    try:
        return files.read_bytes(path)
    except OSError as e:
        raise UsageError(f"cannot read the {what} file {path}: {e.strerror or e}") from None


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=False)
    except (binascii.Error, ValueError):
        raise UsageError(f"{what} is not valid base64") from None


def _file_or_data(entry: _Entry, file_key: str, what: str) -> bytes | None:
    """kubectl's rule: `<key>-data` (base64) overrides `<key>` (a path, relative to the file)."""
    data = entry.value.get(file_key + "-data")
    if data:
        return _b64(data, f"{file_key}-data of {what}")
    path = entry.value.get(file_key)
    if path:
        return _read_bytes(_resolve(path, entry.base), f"{file_key} of {what}")
    return None


def check_proxy_url(url: str, cluster: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("socks5", "socks5h", "socks4", "socks"):
        raise UsageError(
            f'cluster "{cluster}": proxy-url {scheme}:// is not supported by kubectl-kaito',
            hint="use an http:// or https:// (CONNECT) proxy, or run the command where the API server is reachable",
        )
    if scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f'cluster "{cluster}": proxy-url must be an http:// or https:// URL with a host')
    return url


def _normalize_server(server: str, tls_hint: bool, cluster: str) -> str:
    """client-go's DefaultServerURL: a server without scheme is https when TLS is configured, else http."""
    server = server.strip()
    if "://" not in server:
        server = ("https://" if tls_hint else "http://") + server
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f'cluster "{cluster}" has an invalid server URL')
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise UsageError(f'cluster "{cluster}" has an invalid port in its server URL') from None
    return server.rstrip("/")


def load(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    service_account_dir: str | None = None,
) -> ClusterConfig:
    """Resolve the kubeconfig the way kubectl does (no network; exec plugins run later, on first use).

    Raises UsageError for unknown contexts and broken files, ClusterUnavailableError when there is
    no kubeconfig at all and we are not in a pod.
    """
    env = os.environ if env is None else env
    paths, explicit = kubeconfig_paths(kubeconfig, env)
    docs = _read_files(paths, explicit)
    if not docs:
        in_cluster = _load_in_cluster(namespace, env, service_account_dir or SERVICE_ACCOUNT_DIR)
        if in_cluster is not None:
            return in_cluster
        where = f"KUBECONFIG={env['KUBECONFIG']}" if not explicit and env.get("KUBECONFIG") else paths[0]
        raise ClusterUnavailableError(
            f"no kubeconfig found ({where} does not exist) and not running inside a cluster",
            hint="point --kubeconfig or KUBECONFIG at your cluster's kubeconfig "
            "(e.g. after: az aks get-credentials -g GROUP -n CLUSTER)",
        )
    source = os.pathsep.join(p for p, _ in docs)
    clusters, users, contexts, current = _merge(docs)

    ctx_name = context or current
    if not ctx_name:
        raise ClusterUnavailableError(
            f"no current context is set in {source}",
            hint="pass --context NAME, or run: kubectl config use-context NAME",
        )
    ctx_entry = contexts.get(ctx_name)
    if ctx_entry is None:
        known = ", ".join(sorted(contexts)) or "none"
        flag = "--context" if context else "current-context"
        raise UsageError(
            f'context "{ctx_name}" ({flag}) not found in {source}',
            hint=f"known contexts: {known}",
        )
    ctx = ctx_entry.value
    cluster_name = ctx.get("cluster")
    if not cluster_name or cluster_name not in clusters:
        raise UsageError(f'context "{ctx_name}" refers to cluster "{cluster_name}", which is not in {source}')
    cl = clusters[cluster_name]
    user_name = ctx.get("user") or None
    if user_name and user_name not in users:
        raise UsageError(f'context "{ctx_name}" refers to user "{user_name}", which is not in {source}')
    us = users[user_name] if user_name else _Entry({}, cl.base)

    what_c = f'cluster "{cluster_name}"'
    what_u = f'user "{user_name}"'
    ca_pem = _file_or_data(cl, "certificate-authority", what_c)
    insecure = bool(cl.value.get("insecure-skip-tls-verify"))
    if insecure and ca_pem:
        # Same refusal as kubectl: an insecure cluster entry must not also pin a CA.
        raise UsageError(
            f"{what_c}: specifying a root certificates file with the insecure flag is not allowed",
            hint="remove certificate-authority(-data) or insecure-skip-tls-verify from the kubeconfig",
        )
    tls_server_name = cl.value.get("tls-server-name") or None
    proxy_url = cl.value.get("proxy-url") or None
    if proxy_url:
        proxy_url = check_proxy_url(str(proxy_url), str(cluster_name))

    u = us.value
    cert = _file_or_data(us, "client-certificate", what_u)
    key = _file_or_data(us, "client-key", what_u)
    if bool(cert) != bool(key):
        missing = "client-key" if cert else "client-certificate"
        raise UsageError(f"{what_u}: {missing}(-data) must be set too, to use client certificate authentication")

    token = u.get("token") or None
    token_file = _resolve(u["tokenFile"], us.base) if u.get("tokenFile") else None
    username = u.get("username")
    password = u.get("password")
    if (token or token_file) and (username or password):
        raise UsageError(f"{what_u}: username/password or bearer token may be set, but not both")

    exec_config = None
    if isinstance(u.get("exec"), dict):
        exec_config = dict(u["exec"])
        command = str(exec_config.get("command") or "")
        if not command:
            raise UsageError(f"{what_u}: exec.command is empty")
        if "/" in command or (os.sep != "/" and os.sep in command):
            exec_config["command"] = _resolve(command, us.base)  # client-go: only paths, not PATH names
    auth_provider = u.get("auth-provider") if isinstance(u.get("auth-provider"), dict) else None

    tls_hint = bool(ca_pem or cert or insecure or tls_server_name)
    server = cl.value.get("server")
    if not server:
        raise UsageError(f"{what_c} has no server", hint=f"set clusters[].cluster.server in {source}")
    server = _normalize_server(str(server), tls_hint, str(cluster_name))

    ext = None
    for item in cl.value.get("extensions") or []:
        if isinstance(item, dict) and item.get("name") == EXEC_EXTENSION_NAME:
            ext = item.get("extension")

    return ClusterConfig(
        server=server,
        namespace=namespace or ctx.get("namespace") or "default",
        context=ctx_name,
        ca_pem=ca_pem,
        insecure=insecure,
        tls_server_name=str(tls_server_name) if tls_server_name else None,
        client_cert_pem=cert,
        client_key_pem=key,
        token=str(token) if token else None,
        token_file=token_file,
        username=str(username) if username is not None else None,
        password=str(password) if password is not None else None,
        exec_config=exec_config,
        auth_provider=auth_provider,
        proxy_url=proxy_url,
        source=source,
        user=user_name,
        cluster_name=str(cluster_name),
        exec_cluster_config=ext,
    )


def _load_in_cluster(namespace: str | None, env: Mapping[str, str], sa_dir: str) -> ClusterConfig | None:
    """client-go's InClusterConfig: needs KUBERNETES_SERVICE_HOST/PORT and the service-account token."""
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    token_file = os.path.join(sa_dir, "token")
    if not host or not port or not os.path.isfile(token_file):
        return None
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    ca: bytes | None = None
    try:
        with open(os.path.join(sa_dir, "ca.crt"), "rb") as f:
            ca = f.read() or None
    except OSError:
        ca = None  # client-go logs and goes on with the system roots
    ns = namespace or env.get("POD_NAMESPACE")
    if not ns:
        try:
            with open(os.path.join(sa_dir, "namespace"), encoding="utf-8") as f:
                ns = f.read().strip()
        except OSError:
            ns = None
    return ClusterConfig(
        server=f"https://{hostport}",
        namespace=ns or "default",
        context=None,
        ca_pem=ca,
        token_file=token_file,
        source="in-cluster",
        user="serviceaccount",
        cluster_name="in-cluster",
    )


def proxy_display(url: str) -> str:
    """A proxy URL for messages: scheme://host:port, never the user:password part."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def proxy_credentials(url: str) -> str | None:
    """The Basic credentials of a proxy URL's user:password part, for Proxy-Authorization."""
    parts = urlsplit(url)
    if parts.username is None:
        return None
    raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return base64.b64encode(raw).decode("ascii")


def context_names(kubeconfig: str | None = None, *, env: Mapping[str, str] | None = None) -> list[str]:
    """The context names of the merged kubeconfig (for `--context <TAB>`); no network, no exec plugin."""
    env = os.environ if env is None else env
    paths, explicit = kubeconfig_paths(kubeconfig, env)
    _, _, contexts, _ = _merge(_read_files(paths, explicit))
    return sorted(contexts)
