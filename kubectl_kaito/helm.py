"""install-provider: build helm argument lists (pure) and run helm without a shell.

The commands are those of KAITO's installation guide (research/kaito-facts.md §5):
repo `kaito`, chart `kaito/workspace`, release and namespace `kaito-workspace`.
Every command is an argument list; nothing here ever goes through a shell, so a
value such as `--set 'a=$(rm -rf ~)'` reaches helm verbatim.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from kubectl_kaito.errors import HelmFailedError, HelmNotFoundError, UsageError

REPO_NAME = "kaito"
REPO_URL = "https://kaito-project.github.io/kaito/charts/kaito"
CHART = "kaito/workspace"
RELEASE = "kaito-workspace"
NAMESPACE = "kaito-workspace"
HELM_INSTALL_URL = "https://helm.sh/docs/intro/install/"

# --take-ownership (adopt resources that exist but belong to no release) arrived in Helm 3.17.
TAKE_OWNERSHIP_SINCE = (3, 17)

# What --byo-nodes sets. In KAITO v0.11/v0.12 the operator derives the feature gate from
# --node-provisioner, which the chart always passes (default azure-gpu-provisioner), so the
# gate alone leaves node auto-provisioning on: both values are needed (kaito-facts §5).
BYO_VALUES = ("featureGates.disableNodeAutoProvisioning=true", "nodeProvisioner=byo")

# Helm's --set splits on unescaped commas; a key must not be empty and must not contain "=".
_SET_KEY = re.compile(r"^[A-Za-z0-9_.\-\[\]\\/]+$")
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")
# A cluster name becomes a value of the chart; keep it to what cloud providers allow.
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$")


@dataclass(frozen=True)
class InstallOptions:
    """Everything that shapes the install commands (the install-provider flags)."""

    chart_version: str | None = None
    namespace: str = NAMESPACE
    release: str = RELEASE
    cluster_name: str | None = None
    byo_nodes: bool = False
    set_values: tuple[str, ...] = ()
    values_files: tuple[str, ...] = ()
    kubeconfig: str | None = None
    kube_context: str | None = None
    take_ownership: bool = False
    wait: bool = True


@dataclass(frozen=True)
class HelmInfo:
    """Whether helm is on PATH, where, and which version it reports."""

    available: bool
    path: str | None = None
    version: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The seed-001 `/installation/helm/status` shape."""
        return {"available": self.available, "version": self.version}


# ---- pure: argument lists -----------------------------------------------------------


def kube_flags(kubeconfig: str | None, kube_context: str | None) -> list[str]:
    """Our global --kubeconfig/--context as helm spells them (helm's flag is --kube-context)."""
    flags: list[str] = []
    if kubeconfig:
        flags += ["--kubeconfig", kubeconfig]
    if kube_context:
        flags += ["--kube-context", kube_context]
    return flags


def repo_add_argv() -> list[str]:
    """`helm repo add kaito URL` (no --force-update: never repoint a user's existing `kaito` repo)."""
    return ["helm", "repo", "add", REPO_NAME, REPO_URL]


def repo_update_argv() -> list[str]:
    """`helm repo update kaito`: refresh only our repository, not every repo the user has."""
    return ["helm", "repo", "update", REPO_NAME]


def install_argv(opts: InstallOptions) -> list[str]:
    """`helm upgrade --install ...` for the given options, in a stable, documented order.

    Order: release and chart, namespace, chart version, our own values (clusterName, BYO),
    values files, the user's --set (last, so they win over ours), then --wait,
    --take-ownership and the kube flags.
    """
    argv = ["helm", "upgrade", "--install", opts.release, CHART, "--namespace", opts.namespace, "--create-namespace"]
    if opts.chart_version:
        argv += ["--version", opts.chart_version]
    if opts.cluster_name:
        # --set-string: a cluster name of digits must stay a string in the chart's values
        argv += ["--set-string", f"clusterName={opts.cluster_name}"]
    if opts.byo_nodes:
        for value in BYO_VALUES:
            argv += ["--set", value]
    for path in opts.values_files:
        argv += ["--values", path]
    for value in opts.set_values:
        argv += ["--set", value]
    if opts.wait:
        argv.append("--wait")
    if opts.take_ownership:
        argv.append("--take-ownership")
    return argv + kube_flags(opts.kubeconfig, opts.kube_context)


def install_commands(opts: InstallOptions) -> list[list[str]]:
    """The three commands an install runs, in order."""
    return [repo_add_argv(), repo_update_argv(), install_argv(opts)]


def uninstall_argv(
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    kubeconfig: str | None = None,
    kube_context: str | None = None,
) -> list[str]:
    """`helm uninstall kaito-workspace --namespace kaito-workspace [kube flags]`."""
    return ["helm", "uninstall", release, "--namespace", namespace, *kube_flags(kubeconfig, kube_context)]


def subcommand(argv: Sequence[str]) -> str:
    """`repo add`, `repo update`, `upgrade`, `uninstall`... of a helm argv (for messages)."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    if not words:
        return ""
    return " ".join(words[:2]) if words[0] == "repo" else words[0]


def format_command(argv: Sequence[str]) -> str:
    """One command as a line that pastes correctly into a POSIX shell."""
    return shlex.join(argv)


def format_commands(commands: Sequence[Sequence[str]]) -> str:
    """Commands one per line, shell-quoted (the --dry-run output)."""
    return "\n".join(format_command(c) for c in commands)


# ---- pure: validation and parsing -----------------------------------------------------


def validate_set(value: str, flag: str = "--set") -> str:
    """Check a `--set key=value` argument; helm's own message for a bad one is cryptic."""
    key, sep, _ = value.partition("=")
    if not sep or not key:
        raise UsageError(
            f"invalid {flag} value {value!r}: expected key=value", hint=f"for example {flag} replicaCount=2"
        )
    if not _SET_KEY.match(key):
        raise UsageError(
            f"invalid {flag} key {key!r}",
            hint="keys are dotted paths such as featureGates.vLLM or tolerations[0].key",
        )
    return value


def validate_cluster_name(name: str) -> str:
    """A cluster name is letters, digits, '-', '_' and '.', at most 63 characters."""
    if not _CLUSTER_NAME.match(name):
        raise UsageError(
            f"invalid --cluster-name {name!r}",
            hint="use the cluster's name as your cloud shows it: letters, digits, '-', '_' or '.', up to 63",
        )
    return name


def validate_chart_version(version: str) -> str:
    """A chart version (semver or a range helm understands); refuse what cannot be one."""
    if not version.strip() or any(c.isspace() for c in version):
        raise UsageError(f"invalid --version {version!r}", hint="give a chart version, for example --version 0.12.0")
    return version


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """`v3.17.3+g1234` or a BuildInfo line -> (3, 17, 3); None when there is no version in it."""
    if not text:
        return None
    m = _VERSION.search(text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def short_version(text: str | None) -> str | None:
    """`v3.17.3+ge4da497` -> `v3.17.3` (the build metadata is noise in a report)."""
    if not text:
        return None
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    m = re.search(r'Version:"([^"]+)"', first)  # `helm version` (long form)
    token = m.group(1) if m else first.split()[0] if first else ""
    return token.split("+", 1)[0] or None


def supports_take_ownership(version: str | None) -> bool:
    """True for Helm >= 3.17 (and any Helm 4); unknown versions get no --take-ownership."""
    parsed = parse_version(version)
    return parsed is not None and parsed[:2] >= TAKE_OWNERSHIP_SINCE


def missing_helm_error(commands: Sequence[Sequence[str]]) -> HelmNotFoundError:
    """The error for a missing helm: how to get it, and the commands to run by hand."""
    text = format_commands(commands)
    return HelmNotFoundError(
        "helm is not installed or not on PATH",
        hint=f"install helm ({HELM_INSTALL_URL}), or run these commands yourself:\n{text}",
        details={"commands": [format_command(c) for c in commands], "installHelp": HELM_INSTALL_URL},
    )


# ---- running helm -------------------------------------------------------------------


def find_helm() -> str | None:
    """The helm executable on PATH, or None."""
    return shutil.which("helm", path=os.environ.get("PATH"))


def helm_info(helm: str | None = None, timeout: float = 20.0) -> HelmInfo:
    """Run `helm version --short` (local only, no cluster); a missing helm is not an error here."""
    path = helm or find_helm()
    if path is None:
        return HelmInfo(available=False)
    try:
        proc = subprocess.run(
            [path, "version", "--short"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return HelmInfo(available=True, path=path)  # there, but it would not tell us its version
    version = short_version(proc.stdout) if proc.returncode == 0 else None
    return HelmInfo(available=True, path=path, version=version)


def list_argv(opts: InstallOptions) -> list[str]:
    """`helm list` for our release only, as JSON."""
    return [
        "list",
        "--namespace",
        opts.namespace,
        "--filter",
        f"^{opts.release}$",
        "--output",
        "json",
        *kube_flags(opts.kubeconfig, opts.kube_context),
    ]


def release_status(helm: str, opts: InstallOptions, timeout: float = 60.0) -> tuple[str | None, str | None]:
    """(chart version, release status) of our release from `helm list -o json`; (None, None) when
    helm cannot say (not installed, helm failed, or its output is not the JSON list it should be)."""
    import json  # noqa: PLC0415

    try:
        proc = subprocess.run(
            [helm, *list_argv(opts)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
        releases = json.loads(proc.stdout) if proc.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None, None
    for rel in releases if isinstance(releases, list) else []:
        if isinstance(rel, dict) and rel.get("name") == opts.release:
            chart = str(rel.get("chart") or "")
            prefix = "workspace-"
            version = chart[len(prefix) :] if chart.startswith(prefix) else (rel.get("app_version") or None)
            return version, rel.get("status")
    return None, None


def _pump(stream: IO[str], sink: Callable[[str], None], keep: list[str] | None) -> None:
    for line in stream:
        line = line.rstrip("\n")
        if keep is not None:
            keep.append(line)
        sink(line)


def run(
    helm: str,
    argv: Sequence[str],
    *,
    on_stdout: Callable[[str], None],
    on_stderr: Callable[[str], None],
) -> None:
    """Run one helm command (argv[0] is "helm", replaced by the resolved path), never via a shell.

    helm's stdout and stderr are both forwarded line by line as they come (install-provider sends
    both to our stderr: our stdout is for results). A non-zero exit raises HelmFailedError naming the
    command and carrying helm's exit code and stderr in its details.
    """
    args = [helm, *argv[1:]]
    stderr_lines: list[str] = []
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None and proc.stderr is not None
    # A thread per pipe: reading one pipe while helm blocks writing the other would deadlock.
    err_thread = threading.Thread(target=_pump, args=(proc.stderr, on_stderr, stderr_lines), daemon=True)
    err_thread.start()
    try:
        _pump(proc.stdout, on_stdout, None)
        code = proc.wait()
    finally:
        if proc.poll() is None:  # interrupted (Ctrl-C): do not leave helm running behind us
            proc.kill()
            proc.wait()
        err_thread.join(timeout=5)
    if code != 0:
        name = "helm " + subcommand(argv)
        last = next((line for line in reversed(stderr_lines) if line.strip()), "")
        raise HelmFailedError(
            f"{name} failed with exit code {code}" + (f": {last.strip()}" if last else ""),
            hint="helm's output is above; fix the cause and run the command again",
            details={"command": format_command(argv), "exitCode": code, "stderr": "\n".join(stderr_lines)},
        )
