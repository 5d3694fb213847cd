"""Credentials and TLS for a resolved kubeconfig (`ClusterConfig`): what each request presents.

- credentials: token/tokenFile, username/password, client certificates; else an `exec` plugin
  (client.authentication.k8s.io/v1 and v1beta1), cached until its `expirationTimestamp` in memory
  and on disk; else a legacy `auth-provider`, handed to the `kubernetes` package (imported only then).
- TLS: the SSLContext for the API server (CA or system roots, client certificate loaded from
  memory, never left on disk).

Nothing here talks to the API server; `transport.py` and `client.py` do.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import threading
import time
from collections.abc import Mapping

from kubectl_kaito import files
from kubectl_kaito.errors import UnauthorizedError, UsageError
from kubectl_kaito.kubeconfig import EXEC_API_VERSIONS, EXEC_V1, EXEC_V1BETA1, ClusterConfig

# Start-up: hashlib, datetime and pathlib are imported by the exec-plugin code that needs them, and no
# dataclass here (`import dataclasses` costs ~7 ms): this module is on every cluster command's path.
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads the name)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

# An exec credential this close to its expiry is treated as expired, so a request
# does not leave with a token that dies in flight (tests set it to 0).
EXEC_EXPIRY_MARGIN = 5.0

_DOCS_EXEC = "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins"


# ---- TLS ---------------------------------------------------------------------------------------


def ssl_context(cfg: ClusterConfig, client_cert: tuple[bytes, bytes] | None = None) -> ssl.SSLContext:
    """The TLS context for the API server: the kubeconfig's CA (or system roots), or no verification
    when insecure; plus a client certificate (`client_cert` overrides the kubeconfig's, e.g. from exec)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # Go's client default
    if cfg.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif cfg.ca_pem:
        try:
            if b"-----BEGIN" in cfg.ca_pem:
                ctx.load_verify_locations(cadata=cfg.ca_pem.decode("ascii", "replace"))
            else:
                ctx.load_verify_locations(cadata=cfg.ca_pem)  # DER
        except (ssl.SSLError, ValueError):
            raise UsageError(
                f'the certificate-authority of cluster "{cfg.cluster_name}" is not a valid PEM certificate',
                hint=f"check certificate-authority(-data) in {cfg.source}",
            ) from None
    else:
        ctx.load_default_certs()
    pair = client_cert
    if pair is None and cfg.client_cert_pem and cfg.client_key_pem:
        pair = (cfg.client_cert_pem, cfg.client_key_pem)
    if pair is not None:
        load_cert_chain(ctx, pair[0], pair[1], what=f'user "{cfg.user}"')
    return ctx


def load_cert_chain(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes, *, what: str = "the user") -> None:
    """Load an in-memory client certificate and key into `ctx` without leaving key material on disk.

    OpenSSL (via the ssl module) only loads from a path: on Linux an anonymous memfd serves as that
    path; elsewhere a 0600 file in a private temp folder, removed right after loading.
    """
    data = cert_pem.rstrip(b"\r\n") + b"\n" + key_pem
    try:
        memfd_create = getattr(os, "memfd_create", None)
        if memfd_create is not None and os.path.isdir("/proc/self/fd"):
            fd = memfd_create("kaito-client-cert", getattr(os, "MFD_CLOEXEC", 0))
            try:
                _write_all(fd, data)
                ctx.load_cert_chain(f"/proc/self/fd/{fd}")
                return
            finally:
                os.close(fd)
        import tempfile  # noqa: PLC0415  (only without memfd; tempfile pulls in shutil, bz2, lzma)

        folder = tempfile.mkdtemp(prefix="kaito-")  # mode 0700
        path = os.path.join(folder, "client.pem")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            ctx.load_cert_chain(path)
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
            os.rmdir(folder)
    except ssl.SSLError:
        raise UsageError(
            f"the client certificate or key of {what} could not be loaded",
            hint="check client-certificate(-data) and client-key(-data): PEM, unencrypted, and a matching pair",
        ) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# ---- credentials -------------------------------------------------------------------------------


class ExecResult:
    """What an exec credential plugin returned (secrets kept out of repr: the default object repr)."""

    __slots__ = ("cert_pem", "expires", "key_pem", "token")

    def __init__(
        self,
        token: str | None = None,
        cert_pem: bytes | None = None,
        key_pem: bytes | None = None,
        expires: float | None = None,  # epoch seconds; None = valid for the life of the process
    ) -> None:
        self.token = token
        self.cert_pem = cert_pem
        self.key_pem = key_pem
        self.expires = expires

    def valid(self, now: float | None = None) -> bool:
        """Still usable: no expiry, or more than EXEC_EXPIRY_MARGIN seconds left."""
        if self.expires is None:
            return True
        return (now if now is not None else time.time()) < self.expires - EXEC_EXPIRY_MARGIN


# Exec results for this process, by cache key; shared by every Credentials object.
_EXEC_MEMORY: dict[str, ExecResult] = {}
_EXEC_LOCK = threading.Lock()


def clear_exec_memory_cache() -> None:
    """Forget exec credentials cached in this process (the disk cache stays)."""
    with _EXEC_LOCK:
        _EXEC_MEMORY.clear()


def exec_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$KUBECACHEDIR/kaito-exec`, else `~/.kube/cache/kaito-exec` (kubectl's cache folder)."""
    from pathlib import Path  # noqa: PLC0415  (start-up: see the imports)

    env = os.environ if env is None else env
    base = env.get("KUBECACHEDIR") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".kube", "cache")
    return Path(base) / "kaito-exec"


def parse_timestamp(value: str) -> float:
    """RFC 3339 ("2030-01-01T00:00:00Z", fractions, offsets) to epoch seconds."""
    from datetime import datetime, timezone  # noqa: PLC0415  (start-up: see the imports)

    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:  # Python 3.10 accepts only 3 or 6 fraction digits
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = head + "." + (digits + "000000")[:6] + rest[len(digits) :]
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class Credentials:
    """The credentials requests carry: static ones from the kubeconfig, or an exec plugin's, or an
    auth-provider's. Thread-safe; exec runs lazily on first use and again after `refresh()`."""

    def __init__(self, cfg: ClusterConfig, *, env: Mapping[str, str] | None = None) -> None:
        self.cfg = cfg
        self._env = os.environ if env is None else env
        self._lock = threading.Lock()
        self._provider_token: str | None = None
        self._exec_key: str | None = None

    # -- what a request needs ------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """token, token-file, basic, cert, exec, auth-provider or none."""
        return self.cfg.auth_kind

    @property
    def refreshable(self) -> bool:
        """True when a 401 may be cured by asking again (exec plugin, auth-provider, rotated token file)."""
        return self.kind in ("exec", "auth-provider", "token-file")

    def authorization(self) -> str | None:
        """The Authorization header value, current (tokenFile re-read, exec refreshed when expired)."""
        cfg = self.cfg
        if cfg.token_file:
            try:
                tok = files.read_text(cfg.token_file).strip()
                if tok:
                    return f"Bearer {tok}"
            except (OSError, UnicodeDecodeError) as e:
                if not cfg.token:
                    why = "not UTF-8 text" if isinstance(e, UnicodeDecodeError) else e.strerror or e
                    raise UnauthorizedError(
                        f"cannot read the token file {cfg.token_file}: {why}",
                        hint=f'check tokenFile of user "{cfg.user}" in {cfg.source}',
                    ) from None
            if cfg.token:
                return f"Bearer {cfg.token}"
        if cfg.token:
            return f"Bearer {cfg.token}"
        if cfg.username is not None or cfg.password is not None:
            raw = f"{cfg.username or ''}:{cfg.password or ''}".encode()
            return "Basic " + base64.b64encode(raw).decode("ascii")
        if cfg.client_cert_pem:
            return None  # client-go: a kubeconfig certificate means the exec plugin is not used
        if cfg.exec_config:
            res = self.exec_result()
            return f"Bearer {res.token}" if res.token else None
        if cfg.auth_provider:
            return self._auth_provider_authorization()
        return None

    def client_cert(self) -> tuple[bytes, bytes] | None:
        """The client certificate and key, from the kubeconfig or from the exec plugin."""
        cfg = self.cfg
        if cfg.client_cert_pem and cfg.client_key_pem:
            return cfg.client_cert_pem, cfg.client_key_pem
        if cfg.exec_config and self.kind == "exec":
            res = self.exec_result()
            if res.cert_pem and res.key_pem:
                return res.cert_pem, res.key_pem
        return None

    def refresh(self) -> bool:
        """After a 401: drop cached exec/auth-provider credentials so the next call gets new ones.
        Returns True when asking again may help."""
        kind = self.kind
        if kind == "exec":
            key = self._cache_key()
            with _EXEC_LOCK:
                _EXEC_MEMORY.pop(key, None)
            try:
                (exec_cache_dir(self._env) / f"{key}.json").unlink()
            except OSError:
                pass
            return True
        if kind == "auth-provider":
            with self._lock:
                self._provider_token = None
            return True
        return kind == "token-file"

    # -- exec plugins --------------------------------------------------------------------------

    def _cache_key(self) -> str:
        if self._exec_key is None:
            import hashlib  # noqa: PLC0415  (start-up: see the imports)

            cfg = self.cfg
            ex = cfg.exec_config or {}
            material = {
                "exec": {k: ex.get(k) for k in ("apiVersion", "command", "args", "env", "provideClusterInfo")},
                "server": cfg.server,
                "ca": hashlib.sha256(cfg.ca_pem).hexdigest() if cfg.ca_pem else None,
                "tls-server-name": cfg.tls_server_name,
                "cluster-config": cfg.exec_cluster_config,
            }
            blob = json.dumps(material, sort_keys=True, default=str).encode()
            self._exec_key = hashlib.sha256(blob).hexdigest()[:40]
        return self._exec_key

    def exec_result(self) -> ExecResult:
        """The exec plugin's credential: from memory, else the disk cache, else by running the plugin."""
        key = self._cache_key()
        with _EXEC_LOCK:
            res = _EXEC_MEMORY.get(key)
            if res is not None and res.valid():
                return res
            res = self._read_disk_cache(key)
            if res is None:
                res = self._run_exec()
                if res.expires is not None:
                    self._write_disk_cache(key, res)
            _EXEC_MEMORY[key] = res
            return res

    def _read_disk_cache(self, key: str) -> ExecResult | None:
        path = exec_cache_dir(self._env) / f"{key}.json"
        try:
            st = path.stat()
            if st.st_mode & 0o077 or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
                return None  # someone else could have written or read it: do not trust it
            data = json.loads(path.read_text(encoding="utf-8"))
            res = ExecResult(
                token=data.get("token"),
                cert_pem=data["cert"].encode() if data.get("cert") else None,
                key_pem=data["key"].encode() if data.get("key") else None,
                expires=float(data["expires"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return res if res.valid() and (res.token or (res.cert_pem and res.key_pem)) else None

    def _write_disk_cache(self, key: str, res: ExecResult) -> None:
        folder = exec_cache_dir(self._env)
        data = {
            "token": res.token,
            "cert": res.cert_pem.decode() if res.cert_pem else None,
            "key": res.key_pem.decode() if res.key_pem else None,
            "expires": res.expires,
        }
        tmp: Path | None = None
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = folder / f".tmp-{os.getpid()}-{os.urandom(6).hex()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, folder / f"{key}.json")  # atomic: a parallel reader sees old or new
            tmp = None
        except OSError:
            pass  # a cache that cannot be written only costs a plugin run next time
        finally:
            if tmp:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass

    def exec_info(self, interactive: bool) -> dict[str, Any]:
        """The KUBERNETES_EXEC_INFO object kubectl hands to the plugin."""
        cfg = self.cfg
        ex = cfg.exec_config or {}
        spec: dict[str, Any] = {"interactive": interactive}
        if ex.get("provideClusterInfo"):
            cluster: dict[str, Any] = {"server": cfg.server}
            if cfg.tls_server_name:
                cluster["tls-server-name"] = cfg.tls_server_name
            if cfg.insecure:
                cluster["insecure-skip-tls-verify"] = True
            if cfg.ca_pem:
                cluster["certificate-authority-data"] = base64.b64encode(cfg.ca_pem).decode("ascii")
            if cfg.proxy_url:
                cluster["proxy-url"] = cfg.proxy_url
            if cfg.exec_cluster_config is not None:
                cluster["config"] = cfg.exec_cluster_config
            spec["cluster"] = cluster
        return {"kind": "ExecCredential", "apiVersion": ex.get("apiVersion"), "spec": spec}

    def _run_exec(self) -> ExecResult:
        cfg = self.cfg
        ex = cfg.exec_config or {}
        who = f'user "{cfg.user}"'
        api = ex.get("apiVersion")
        if api not in EXEC_API_VERSIONS:
            raise UsageError(
                f"{who}: exec plugin apiVersion {api!r} is not supported",
                hint=f"use {EXEC_V1} or {EXEC_V1BETA1}",
            )
        command = str(ex.get("command"))
        name = os.path.basename(command)
        mode = ex.get("interactiveMode")
        if not mode:
            if api == EXEC_V1:
                raise UsageError(f"{who}: interactiveMode must be specified to use the v1 exec plugin {name}")
            mode = "IfAvailable"
        if mode not in ("Never", "IfAvailable", "Always"):
            raise UsageError(f"{who}: exec interactiveMode {mode!r} is not one of Never, IfAvailable, Always")
        stdin_tty = _stdin_is_terminal()  # the plugin inherits fd 0, not a Python stream
        if mode == "Always" and not stdin_tty:
            raise UnauthorizedError(
                f"the exec credential plugin {name} needs an interactive terminal, and standard input is not one",
                hint="run the command in a terminal once to log in",
            )
        interactive = stdin_tty and mode != "Never"

        exe = _which(command)  # Go looks the command up in our PATH, not in exec.env's
        if exe is None:
            hint = str(ex.get("installHint") or "").strip() or (
                f"install {name}, or fix users[].user.exec.command in {cfg.source}; see {_DOCS_EXEC}"
            )
            raise UnauthorizedError(
                f'the exec credential plugin "{command}" of {who} was not found', hint=hint, details={"plugin": name}
            )
        env = dict(os.environ)
        for item in ex.get("env") or []:
            if isinstance(item, dict) and "name" in item:
                env[str(item["name"])] = str(item.get("value", ""))
        env["KUBERNETES_EXEC_INFO"] = json.dumps(self.exec_info(interactive))
        args = [str(a) for a in ex.get("args") or []]
        import subprocess  # noqa: PLC0415  (only exec users pay for it)

        try:
            proc = subprocess.run(
                [exe, *args],
                env=env,
                stdin=None if interactive else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=None,  # the plugin talks to the user (device-code login, errors) on stderr
                check=False,
            )
        except OSError as e:
            raise UnauthorizedError(f"could not run the exec credential plugin {name}: {e.strerror or e}") from None
        if proc.returncode != 0:
            raise UnauthorizedError(
                f"the exec credential plugin {name} failed with exit code {proc.returncode}",
                hint="its own error output, if any, is shown above",
            )
        return _parse_exec_output(proc.stdout, api, name)

    # -- auth-provider (legacy) ----------------------------------------------------------------

    def _auth_provider_authorization(self) -> str:
        with self._lock:
            if self._provider_token is None:
                self._provider_token = _auth_provider_token(self.cfg)
            return self._provider_token


def _which(command: str) -> str | None:
    """shutil.which without importing shutil (which imports bz2 and lzma): a path is taken as is."""

    def runnable(path: str) -> bool:
        return os.path.isfile(path) and os.access(path, os.X_OK)

    if os.path.dirname(command):
        return command if runnable(command) else None
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", command)
        if runnable(candidate):
            return candidate
    return None


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(0)
    except OSError:  # fd 0 closed
        return False


def _parse_exec_output(stdout: bytes, api: str, name: str) -> ExecResult:
    """Validate an ExecCredential as client-go does; messages never echo the output (it holds secrets)."""
    bad = f"the exec credential plugin {name} returned an invalid ExecCredential"
    try:
        obj = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UnauthorizedError(f"{bad}: its output is not JSON") from None
    if not isinstance(obj, dict) or obj.get("kind") != "ExecCredential":
        raise UnauthorizedError(f"{bad}: kind is not ExecCredential")
    if obj.get("apiVersion") != api:
        raise UnauthorizedError(
            f"the exec credential plugin {name} is configured for {api} but returned {obj.get('apiVersion')!r}"
        )
    status = obj.get("status")
    if not isinstance(status, dict):
        raise UnauthorizedError(f"{bad}: it has no status")
    token = status.get("token") or None
    cert = status.get("clientCertificateData") or None
    key = status.get("clientKeyData") or None
    if bool(cert) != bool(key):
        raise UnauthorizedError(f"{bad}: clientCertificateData and clientKeyData must be returned together")
    if not token and not cert:
        raise UnauthorizedError(f"{bad}: it returned neither a token nor a client certificate")
    expires = None
    if status.get("expirationTimestamp"):
        try:
            expires = parse_timestamp(str(status["expirationTimestamp"]))
        except ValueError:
            raise UnauthorizedError(f"{bad}: expirationTimestamp is not an RFC 3339 time") from None
    return ExecResult(
        token=str(token) if token else None,
        cert_pem=str(cert).encode() if cert else None,
        key_pem=str(key).encode() if key else None,
        expires=expires,
    )


def _auth_provider_token(cfg: ClusterConfig) -> str:
    """Legacy auth-provider (gcp/oidc/azure): the `kubernetes` package is the authority, imported only here."""
    ap = cfg.auth_provider or {}
    name = str(ap.get("name") or "")
    hints = {
        "azure": "kubectl dropped this provider in 1.26; convert the kubeconfig with: kubelogin convert-kubeconfig",
        "gcp": "kubectl dropped this provider in 1.26; install gke-gcloud-auth-plugin and run: "
        "gcloud container clusters get-credentials CLUSTER",
    }
    try:
        from kubernetes.client import Configuration  # noqa: PLC0415  (0.5 s: only for auth-provider)
        from kubernetes.config.kube_config import KubeConfigLoader  # noqa: PLC0415
    except ImportError:
        raise UsageError(
            f'user "{cfg.user}" uses the legacy auth-provider "{name}", which needs the kubernetes package',
            hint="pip install 'kubectl-kaito[auth-provider]'  (or switch the kubeconfig to an exec plugin)",
        ) from None
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "clusters": [{"name": "c", "cluster": {"server": cfg.server}}],
        "users": [{"name": "u", "user": {"auth-provider": ap}}],
    }
    conf = Configuration()
    try:
        KubeConfigLoader(config_dict=doc, active_context="c").load_and_set(conf)
    except Exception as e:  # noqa: BLE001  (a foreign library: any failure means "no credentials")
        raise UnauthorizedError(
            f'could not get a token from the auth-provider "{name}" of user "{cfg.user}" ({type(e).__name__})',
            hint=hints.get(name),
        ) from None
    token = conf.api_key.get("BearerToken") or conf.api_key.get("authorization")
    if not token:
        raise UnauthorizedError(f'the auth-provider "{name}" of user "{cfg.user}" gave no token', hint=hints.get(name))
    return token if token.startswith(("Bearer ", "Basic ")) else f"Bearer {token}"
