"""The flag checks of every command, without typer: durations, timeouts, dry-run modes, output formats,
workspace names and namespaces, -v levels, and the other values a flag carries.

Every check here raises `UsageError` (exit 2) naming the flag, before any request is sent, and the
same mistake gives the same message in every command. flags.py re-exports all of it next to the
Typer declarations; the start-up fast path (fastpath.py) calls these directly, so it never imports
typer. Stdlib `re` and our errors only: no `typing` or `dataclasses` at run time (each costs
milliseconds of start-up).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from kubectl_kaito.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads the name)
if TYPE_CHECKING:
    from typing import Literal, overload

# ---- option names: declared here once, read by the Typer declarations and by the fast path ------------

#: The global options (cli.py), accepted before and after the command.
KUBECONFIG = ("--kubeconfig",)
CONTEXT = ("--context",)
NAMESPACE = ("--namespace", "-n")
#: --workspace-name (flags.py: the NAME argument's option form).
WORKSPACE_NAME = ("--workspace-name",)
#: get-endpoint's -o (commands/get_endpoint.py).
GET_ENDPOINT_OUTPUT = ("--output", "-o", "--format")

# ---- text ------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # how Python carries non-UTF-8 argv bytes (surrogateescape)


def _check_text(value: str, what: str, hint: str | None = None) -> None:
    """Refuse control characters and bytes that are not UTF-8; the message shows them escaped."""
    if _SURROGATE.search(value):
        raise UsageError(f"invalid {what} {value!r}: it is not valid UTF-8", hint=hint)
    if _CONTROL.search(value):
        raise UsageError(f"invalid {what} {value!r}: it contains a control character", hint=hint)


# ---- durations -------------------------------------------------------------------------------------

#: Go's largest time.Duration (2^63-1 ns, about 2562047h47m): kubectl refuses anything longer.
MAX_DURATION_SECONDS = (2**63 - 1) / 1e9
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})(ns|us|µs|μs|ms|s|m|h)")
_DURATION = re.compile(rf"[+-]?(?:{_NUMBER}(?:ns|us|µs|μs|ms|s|m|h))+")
_BARE = re.compile(rf"[+-]?{_NUMBER}")
DURATION_HINT = "use a duration such as 30s, 5m, 1h30m or 250ms (a bare number is seconds)"


def parse_duration(value: str, flag: str) -> float:
    """kubectl's duration syntax -> seconds: Go's time.ParseDuration (ns, us, µs, ms, s, m, h,
    combined as 1h30m, decimals as 1.5h), or a bare number of seconds (as --request-timeout takes).

    Refused with exit 2 naming `flag`: empty, malformed (inf, nan, 1e309), negative, longer than
    Go's maximum Duration, control characters, bytes that are not UTF-8.
    """
    what = f"{flag} value"
    _check_text(value, what, DURATION_HINT)
    text = value.strip()
    if not text:
        raise UsageError(f"invalid {what} {value!r}: it is empty", hint=DURATION_HINT)
    if _BARE.fullmatch(text):
        seconds = float(text)
    elif _DURATION.fullmatch(text):
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        if text.startswith("-"):
            seconds = -seconds
    else:
        raise UsageError(f"invalid {what} {value!r}: not a duration", hint=DURATION_HINT)
    if seconds < 0:
        raise UsageError(f"invalid {what} {value!r}: it must not be negative", hint=DURATION_HINT)
    if seconds > MAX_DURATION_SECONDS:
        raise UsageError(f"invalid {what} {value!r}: longer than the largest duration (2562047h)", hint=DURATION_HINT)
    return seconds


# ---- timeouts --------------------------------------------------------------------------------------

#: The one meaning of a zero timeout in every command, as kubectl's --request-timeout,
#: `rollout status --timeout` and `drain --timeout`: no limit (wait as long as it takes).
TIMEOUT_ZERO = "0 = no limit"
#: What a wait uses for "no limit": a year, so deadlines and socket timeouts stay finite numbers.
NO_LIMIT = 365 * 24 * 3600.0


def parse_timeout(value: str, flag: str = "--timeout") -> float | None:
    """A timeout flag -> seconds, or None for 0 (no limit). Same syntax as `parse_duration`."""
    seconds = parse_duration(value, flag)
    return None if seconds == 0 else seconds


# ---- dry run ---------------------------------------------------------------------------------------

DRY_RUN_MODES = ("none", "client", "server")


def dry_run_mode(value: str | None) -> str | None:
    """`--dry-run[=none|client|server]` -> "client", "server" or None (no dry run).

    A bare `--dry-run` arrives here as "client" (see `preprocess_argv`)."""
    if value is None:
        return None
    _check_text(value, "--dry-run value")
    mode = value.strip().lower()
    if mode not in DRY_RUN_MODES:
        raise UsageError(
            f"invalid --dry-run value {value!r}", hint="use --dry-run (client), --dry-run=client or --dry-run=server"
        )
    return None if mode == "none" else mode


def output_format(value: str | None, allowed: Sequence[str]) -> str | None:
    """`-o VALUE` -> the lower-cased format, case-insensitive in every command; None stays None."""
    if value is None:
        return None
    _check_text(value, "output format")
    if value.strip().lower().split("=", 1)[0] in TEMPLATE_FORMATS:  # jsonpath=..., custom-columns=...
        return template_format(value, allowed)
    fmt = value.strip().lower()
    if fmt not in allowed:
        raise UsageError(f"unknown output format {value!r}", hint="use " + ", ".join(f"-o {a}" for a in allowed))
    return fmt


# ---- workspace names and namespaces ----------------------------------------------------------------

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_MAX = 63
_LABEL_HINT = (
    "a {what} is a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, "
    "at most 63 characters"
)


def _dns_label(value: str, what: str) -> str:
    _check_text(value, what, _LABEL_HINT.format(what=what))
    if not value:
        raise UsageError(f"invalid {what} '': it is empty", hint=_LABEL_HINT.format(what=what))
    if len(value) > DNS1123_MAX:
        raise UsageError(
            f"invalid {what} {value!r}: it is {len(value)} characters long", hint=_LABEL_HINT.format(what=what)
        )
    if not _DNS1123_LABEL.fullmatch(value):
        raise UsageError(f"invalid {what} {value!r}: not a DNS-1123 label", hint=_LABEL_HINT.format(what=what))
    return value


def check_workspace_name(name: str) -> str:
    """A Workspace name, checked as a DNS-1123 label (the one name check of every command)."""
    return _dns_label(name, "workspace name")


def check_namespace(namespace: str | None) -> str | None:
    """-n/--namespace, checked as a DNS-1123 label (as the API server names namespaces); None stays None."""
    return None if namespace is None else _dns_label(namespace, "namespace")


if TYPE_CHECKING:

    @overload
    def workspace_name(name: str | None, option: str | None, *, required: Literal[True], example: str) -> str: ...
    @overload
    def workspace_name(name: str | None, option: str | None, *, required: bool, example: str) -> str | None: ...


def workspace_name(name: str | None, option: str | None, *, required: bool, example: str) -> str | None:
    """The NAME argument and --workspace-name merged into one checked name.

    Both given and different: the one "two different names" error. Neither and `required`: an
    error whose hint is `example` (e.g. "kubectl kaito logs NAME")."""
    if name is not None and option is not None and name != option:
        raise UsageError(
            f"two different workspace names given: {name!r} and --workspace-name {option!r}",
            hint="give the name once, as an argument or with --workspace-name",
        )
    value = name if name is not None else option
    if value is None:
        if required:
            hint = f"give it as NAME or with --workspace-name: {example}"
            raise UsageError("a workspace name is required", hint=hint)
        return None
    return check_workspace_name(value)


def workspace_names(names: Iterable[str] | None, options: Iterable[str] | None) -> list[str]:
    """Several names (arguments and repeated --workspace-name), each checked, in order, repeats dropped."""
    merged = list(dict.fromkeys([*(names or []), *(options or [])]))
    return [check_workspace_name(n) for n in merged]


def check_text(value: str, what: str, hint: str | None = None) -> str:
    """Refuse control characters and bytes that are not UTF-8 in any flag value (exit 2)."""
    _check_text(value, what, hint)
    return value


def positive_int(value: str, flag: str, maximum: int = 2**31 - 1) -> int:
    """A whole number from 1 to `maximum` (digits only: no inf, nan, 1e3, -1 or 0x10)."""
    check_text(value, f"{flag} value")
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise UsageError(f"invalid {flag} value {value!r}: not a whole number")
    if len(text) > len(str(maximum)) or int(text) < 1 or int(text) > maximum:
        raise UsageError(f"invalid {flag} value {value!r}: it must be from 1 to {maximum}")
    return int(text)


# ---- -v: kubectl's log levels ----------------------------------------------------------------------

#: A bare -v is level 6 (every request: client.V_REQUESTS), -vv 7, -vvv 8: this plugin's shorthand,
#: kept from before (kubectl itself requires a number). What each level shows: client.py.
V_BARE = 6
_V_MAX = 2**31 - 1  # klog's Level is an int32
_V_HINT = "give a log level such as -v=6 (requests), -v=7 (headers), -v=8 (bodies)"
_DIGITS = re.compile(r"\d+")


def verbosity_argv(args: list[str], *, stop_at_positional: bool, takes_value: set[str]) -> list[str]:
    """Rewrite every -v form to `--v=LEVEL` (or `--v=WORD` for a bad value, refused by `parse_verbosity`):

    `-v N`, `-v=N`, `-vN`, `--v N`, `--v=N` are kubectl's; a bare `-v` (not followed by a number) is 6,
    `-vv` 7, `-vvv` 8; `--verbose` is 6. So `status -v 3` is level 3, never a workspace named `3`.
    Values of other options and everything after `--` are left alone."""
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a == "--":
            out += args[i:]
            break
        if not a.startswith("-") or a == "-":
            if stop_at_positional:
                out += args[i:]
                break
            out.append(a)
        elif a in ("-v", "--v") and nxt is not None and _DIGITS.fullmatch(nxt):
            out.append(f"--v={nxt}")
            i += 1
        elif a == "--v" and nxt is not None and not nxt.startswith("-"):
            out.append(f"--v={nxt}")  # `--v abc`: refused with the value named
            i += 1
        elif a in ("-v", "--verbose"):
            out.append(f"--v={V_BARE}")
        elif re.fullmatch(r"-v+", a):
            out.append(f"--v={V_BARE + len(a) - 2}")
        elif a.startswith("-v=") or (a.startswith("-v") and not a.startswith("--")):
            out.append("--v=" + a[3:] if a.startswith("-v=") else "--v=" + a[2:])
        else:
            out.append(a)
            if a in takes_value and nxt is not None:  # the next word is this option's value
                out.append(nxt)
                i += 1
        i += 1
    return out


def parse_verbosity(value: str | int | None) -> int:
    """The `--v` value (after `verbosity_argv`) -> a log level 0..2^31-1; None is 0."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    _check_text(value, "-v value", _V_HINT)
    text = value.strip()
    if not _DIGITS.fullmatch(text):
        raise UsageError(f"invalid -v value {value!r}: not a log level (a whole number, 0 or more)", hint=_V_HINT)
    if len(text) > 10 or int(text) > _V_MAX:
        raise UsageError(f"invalid -v value {value!r}: larger than the largest log level ({_V_MAX})", hint=_V_HINT)
    return int(text)


# ---- object output forms: -o name, -o jsonpath=..., -o custom-columns=... ------------------------

#: The -o formats that carry a template after `=`; the template is kept as typed (not lower-cased).
TEMPLATE_FORMATS = ("jsonpath", "custom-columns")
#: What a command that prints Kubernetes objects offers besides its own formats (kubectl's get).
OBJECT_FORMATS = ("name", *TEMPLATE_FORMATS)


def template_format(value: str, allowed: Sequence[str]) -> str:
    """`jsonpath=TEMPLATE` / `custom-columns=SPEC` -> the same, the kind lower-cased and the template
    checked once here (kubectl's JSONPath, see jsonpath.py): a bad one is exit 2 before any request."""
    from kubectl_kaito import jsonpath  # noqa: PLC0415  (only runs for these formats)

    kind, _, template = value.strip().partition("=")
    kind = kind.lower()
    if kind not in allowed:
        raise UsageError(f"unknown output format {value!r}", hint="use " + ", ".join(f"-o {a}" for a in allowed))
    hint = (
        "e.g. -o jsonpath='{.items[*].metadata.name}' or -o jsonpath='{range .items[*]}{.metadata.name}{\"\\n\"}{end}'"
        if kind == "jsonpath"
        else "e.g. -o custom-columns=NAME:.metadata.name,MODEL:.inference.preset.name"
    )
    if not template:
        raise UsageError(f"{kind} format specified but no template given", hint=hint)
    try:
        jsonpath.compile(template) if kind == "jsonpath" else jsonpath.columns(template)
    except jsonpath.JsonPathError as e:
        raise UsageError(str(e), hint=hint) from None
    return f"{kind}={template}"


def label_selector(value: str | None) -> str | None:
    """`-l/--selector`: handed to the API server's LIST as it is (kubectl 1.37.1 does not parse it
    either; a malformed selector is the server's 400, exit 1). Only hostile text is refused here,
    with exit 2: control characters (a newline) and bytes that are not UTF-8. Empty means none."""
    if value is None:
        return None
    _check_text(value, "label selector", "e.g. -l app=my-llm or -l 'tier in (gpu,cpu),!test'")
    return value.strip() or None


# ---- URL paths ---------------------------------------------------------------------------------------


def url_path(value: str, flag: str = "--path") -> str:
    """An API path given on the command line (get-endpoint --path): control characters (a newline would
    make the one-line URL two) and non-UTF-8 bytes are usage errors; encoding is endpoints.normalize_path's."""
    _check_text(value, f"{flag} value", hint="give a URL path such as /v1/chat/completions (spaces are encoded)")
    return value


# ---- kubectl's --pod-running-timeout -----------------------------------------------------------------

POD_RUNNING_TIMEOUT = "20s"  # kubectl 1.37.1's default for `kubectl logs --pod-running-timeout`


def parse_pod_running_timeout(value: str) -> float:
    """`--pod-running-timeout` -> seconds; as kubectl, it must be more than zero."""
    seconds = parse_duration(value, "--pod-running-timeout")
    if seconds <= 0:
        raise UsageError(
            f"invalid --pod-running-timeout value {value!r}: it must be more than zero", hint=DURATION_HINT
        )
    return seconds


# ---- listening: connect's --port and --address ------------------------------------------------------


def check_port(value: int, flag: str = "--port") -> int:
    """1-65535, or 0 for a free port chosen by the system; UsageError (exit 2) otherwise."""
    if not 0 <= value <= 65535:
        raise UsageError(f"invalid {flag} {value}: must be between 1 and 65535 (0 = pick a free port)")
    return value


def listen_address(value: str, flag: str = "--address") -> str:
    """An IP address to listen on (`localhost` means 127.0.0.1), as kubectl port-forward's --address
    takes them; a host name or anything else is a UsageError (exit 2)."""
    import ipaddress  # noqa: PLC0415

    _check_text(value, flag)
    text = value.strip()
    if text.lower() == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise UsageError(
            f"invalid {flag} {value!r}: not an IP address",
            hint="for example --address 127.0.0.1 (the default), ::1, or 0.0.0.0 for every interface",
        ) from None


def replica_count(value: str, flag: str = "--replicas", *, allow_zero: bool = True, maximum: int = 1000) -> int:
    """A replica count: a whole number from 0 (or 1) to `maximum` (digits only: no inf, nan, 1e3, -1)."""
    check_text(value, f"{flag} value")
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise UsageError(f"invalid {flag} value {value!r}: not a whole number")
    low = 0 if allow_zero else 1
    if len(text) > len(str(maximum)) or not low <= int(text) <= maximum:
        raise UsageError(f"invalid {flag} value {value!r}: it must be from {low} to {maximum}")
    return int(text)


# ---- refresh intervals (top) -------------------------------------------------------------------------

MIN_INTERVAL_SECONDS = 0.1  # as watch(1): a smaller refresh only loads the API server


def parse_interval(value: str, flag: str = "--interval") -> float:
    """A refresh interval -> seconds: `parse_duration`'s syntax, at least 0.1s (0 is no interval)."""
    seconds = parse_duration(value, flag)
    if seconds < MIN_INTERVAL_SECONDS:
        raise UsageError(f"invalid {flag} value {value!r}: it must be at least 100ms", hint=DURATION_HINT)
    return seconds
