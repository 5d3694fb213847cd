"""Settings resolved once per invocation, and the per-run application context."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:  # the cluster client is heavy-ish; import it only when a command needs it
    from collections.abc import Mapping
    from typing import Any

    from kubectl_kaito.console import Console
    from kubectl_kaito.kubeconfig import ClusterConfig
    from kubectl_kaito.resources import Resources


# Plain classes, not dataclasses: `import dataclasses` costs ~7 ms of every start (docs/design.md, start-up).


class Settings:
    """What the global flags said; None means "not given" (kubeconfig decides). Read-only by convention."""

    __slots__ = ("context", "kubeconfig", "namespace", "output", "request_timeout", "verbose")

    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        request_timeout: float | None = None,
        verbose: int = 0,
        output: str | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.namespace = namespace
        self.request_timeout = request_timeout
        self.verbose = verbose
        self.output = output


def resolve(given: Mapping[str, Any], output: str | None) -> Settings:
    """The run's Settings from the global flags' values (None: not given), checked here (exit 2):
    -n as a namespace, --request-timeout as a duration, -v as a log level. The Typer command
    wrapper (cli.py) and the start-up fast path (fastpath.py) both resolve them here, once."""
    from kubectl_kaito import flagcheck  # noqa: PLC0415

    timeout = given.get("request_timeout")
    return Settings(
        kubeconfig=given.get("kubeconfig"),
        context=given.get("context"),
        namespace=flagcheck.check_namespace(given.get("namespace")),
        request_timeout=flagcheck.parse_timeout(timeout, "--request-timeout") if isinstance(timeout, str) else timeout,
        verbose=flagcheck.parse_verbosity(given.get("verbose")),
        output=output,
    )


class Invocation:
    """One run of the CLI, handed to click as `obj=`: `main` creates it with its console, the command
    wrapper stores the resolved Settings (with the checked `-o`) before the command runs, and `main`
    reads them to decide whether an error also goes out as JSON."""

    __slots__ = ("console", "settings")

    def __init__(self, console: Console, settings: Settings | None = None) -> None:
        self.console = console
        self.settings = settings


class AppContext:
    """Per-invocation state handed to every command: settings, the console and a lazily built cluster."""

    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self._resources: Resources | None = None
        self._config: ClusterConfig | None = None

    @property
    def wants_json(self) -> bool:
        """True when the user asked for JSON output (errors then also go out as JSON)."""
        return self.settings.output == "json"

    def config(self) -> ClusterConfig:
        """The resolved kubeconfig (read once; no network)."""
        if self._config is None:
            from kubectl_kaito.kubeconfig import load  # noqa: PLC0415

            s = self.settings
            self._config = load(s.kubeconfig, s.context, s.namespace)
        return self._config

    def resources(self, *, default_timeout: float | None = None) -> Resources:
        """The resources layer (typed API calls), built on first use from the kubeconfig.
        `default_timeout` applies when --request-timeout was not given (e.g. models: a dead
        cluster must not hang a listing); the first call decides."""
        if self._resources is None:
            from kubectl_kaito.resources import Resources  # noqa: PLC0415

            s = self.settings
            timeout = s.request_timeout or default_timeout
            self._resources = Resources.connect(
                self.config(), timeout=timeout, verbose=s.verbose, log=self.console.info
            )
        return self._resources

    @property
    def namespace(self) -> str:
        """The namespace to use: -n, else the kubeconfig context's, else "default"."""
        if self.settings.namespace:
            return self.settings.namespace
        return self.config().namespace

    def namespace_offline(self) -> str:
        """The namespace for commands that must work without any cluster (--dry-run)."""
        from kubectl_kaito.errors import ClusterUnavailableError  # noqa: PLC0415

        try:
            return self.namespace
        except ClusterUnavailableError:  # no kubeconfig at all: kubectl also falls back to "default"
            return "default"
