"""One error hierarchy for the whole plugin, each class carrying its exit code.

`cli.main` is the only place that catches these and turns them into
`error: ...` / `hint: ...` lines (and a JSON object when JSON output was asked).
"""

from __future__ import annotations

from enum import IntEnum

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any


class ExitCode(IntEnum):
    """Documented exit codes (README, `--help`)."""

    OK = 0
    ERROR = 1  # the server refused: invalid, conflict, internal
    USAGE = 2  # bad flags or values, caught before contacting the cluster
    NOT_FOUND = 3
    NOT_READY = 4  # not ready, or timed out waiting
    CLUSTER = 5  # cannot reach or authenticate to the cluster
    INTERRUPTED = 130


class KaitoError(Exception):
    """Base of every error the user should see as one `error:` line."""

    exit_code: ExitCode = ExitCode.ERROR
    code: str = "ERROR"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The seed-001 error object: `{"error", "code", "details"}`."""
        details = dict(self.details)
        if self.hint:
            details.setdefault("hint", self.hint)
        return {"error": self.message, "code": self.code, "details": details}


class UsageError(KaitoError):
    """A flag or value is wrong; nothing was sent to the cluster."""

    exit_code = ExitCode.USAGE
    code = "VALIDATION_ERROR"


class InvalidError(KaitoError):
    """The server refused the object (422, 400, webhook denial)."""

    code = "VALIDATION_ERROR"


class ConflictError(KaitoError):
    """The object already exists, or was changed underneath us (409)."""

    code = "CONFLICT"


class ServerError(KaitoError):
    """Any other refusal or failure reported by the API server (5xx, ...)."""

    code = "SERVER_ERROR"


class ProviderNotInstalledError(KaitoError):
    """The workspaces.kaito.sh resource is not served: KAITO is not installed."""

    code = "PROVIDER_NOT_INSTALLED"


class NotFoundError(KaitoError):
    """The named object does not exist (404)."""

    exit_code = ExitCode.NOT_FOUND
    code = "NOT_FOUND"


class NotReadyError(KaitoError):
    """The workspace (or endpoint) is not ready."""

    exit_code = ExitCode.NOT_READY
    code = "NOT_READY"


class WaitTimeoutError(KaitoError):
    """A wait or a request ran out of time."""

    exit_code = ExitCode.NOT_READY
    code = "TIMEOUT"


class ClusterUnavailableError(KaitoError):
    """The API server cannot be reached (refused, DNS, TLS, no kubeconfig)."""

    exit_code = ExitCode.CLUSTER
    code = "CLUSTER_UNAVAILABLE"


class UnauthorizedError(KaitoError):
    """The API server did not accept our credentials (401)."""

    exit_code = ExitCode.CLUSTER
    code = "UNAUTHORIZED"


class ForbiddenError(KaitoError):
    """The credentials are valid but not allowed to do this (403)."""

    exit_code = ExitCode.CLUSTER
    code = "FORBIDDEN"


class WorkspaceFailedError(KaitoError):
    """The workspace reported a failure while deploy --wait watched it (exit 1)."""

    code = "WORKSPACE_FAILED"


class ProviderStatusNotInstalledError(NotFoundError):
    """`install-provider --status`: the workspaces.kaito.sh CRD is not there (exit 3, as a status
    report of something absent; every other command uses ProviderNotInstalledError, exit 1)."""

    code = "PROVIDER_NOT_INSTALLED"


class OperatorNotReadyError(NotReadyError):
    """The CRD is served but the operator Deployment is missing or not ready (exit 4)."""

    code = "OPERATOR_NOT_READY"


class HelmNotFoundError(KaitoError):
    """helm is not on PATH; the hint carries the commands to run by hand (exit 1)."""

    code = "HELM_NOT_FOUND"


class HelmFailedError(KaitoError):
    """A helm command exited non-zero; its stderr was shown as it came (exit 1)."""

    code = "HELM_FAILED"


class StreamCutError(ServerError):
    """A log stream that broke off mid-body: the connection ended without the chunked terminator
    (kubectl 1.37.1 says `error: unexpected EOF` and exits 1). Exit 1, code STREAM_CUT."""

    code = "STREAM_CUT"
