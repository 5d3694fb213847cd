"""One flag vocabulary for every command: durations, timeouts, dry-run modes, output formats,
workspace names and namespaces, and kubectl's (pflag's) short-option syntax.

Every check here raises `UsageError` (exit 2) naming the flag, before any request is sent, and
the same mistake gives the same message in every command. Light on purpose: stdlib, typer (already
loaded by the CLI) and our errors; `waiting`, `logs` and the commands import it at module level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from kubectl_kaito import completers
from kubectl_kaito.errors import UsageError

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


def timeout_option(default: str, reason: str, what: str = "How long --wait waits") -> Any:
    """The `--timeout DURATION` option with its default, the reason for that default, and the
    one meaning of 0, all in the help text."""
    return Annotated[
        str,
        typer.Option(
            "--timeout",
            help=f"{what} (e.g. 90s, 10m, 1h; {TIMEOUT_ZERO}). Default {default}: {reason}.",
            metavar="DURATION",
            show_default=False,  # the help says it, with its reason
        ),
    ]


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


# ---- output formats --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formats:
    """Marks a command's `-o/--output` parameter and lists the formats it allows. The command
    wrapper (cli.py) finds it, checks the value with `output_format`, and puts it in Settings
    before the command runs."""

    allowed: tuple[str, ...]


def output_format(value: str | None, allowed: Sequence[str]) -> str | None:
    """`-o VALUE` -> the lower-cased format, case-insensitive in every command; None stays None."""
    if value is None:
        return None
    _check_text(value, "output format")
    fmt = value.strip().lower()
    if fmt not in allowed:
        raise UsageError(f"unknown output format {value!r}", hint="use " + ", ".join(f"-o {a}" for a in allowed))
    return fmt


def output_option(
    *allowed: str, help: str, decls: Sequence[str] = ("--output", "-o"), metavar: str | None = None
) -> Any:
    """The `-o/--output FORMAT` option of a command that allows `allowed`."""
    return Annotated[
        str | None,
        typer.Option(*decls, help=help, metavar=metavar or "|".join(allowed), show_default=False),
        Formats(tuple(allowed)),
    ]


def formats_of(annotation: Any) -> Formats | None:
    """The Formats marker in a parameter's Annotated metadata, if any."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, Formats):
            return meta
    return None


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


NameArg = Annotated[
    str | None,
    typer.Argument(
        autocompletion=completers.workspaces,
        help="The workspace (same as --workspace-name).",
        metavar="NAME",
        show_default=False,
    ),
]
WorkspaceNameOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace-name",
        autocompletion=completers.workspaces,
        help="The workspace (same as the NAME argument).",
        metavar="NAME",
        show_default=False,
    ),
]
NamesArg = Annotated[
    list[str] | None,
    typer.Argument(
        autocompletion=completers.workspaces,
        help="Workspaces (same as --workspace-name).",
        metavar="NAME...",
        show_default=False,
    ),
]
WorkspaceNamesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--workspace-name",
        autocompletion=completers.workspaces,
        help="A workspace (repeatable; same as a NAME argument).",
        metavar="NAME",
        show_default=False,
    ),
]


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


# ---- kubectl's (pflag's) short-option syntax -------------------------------------------------------


def preprocess_argv(params: Sequence[Any], args: list[str], *, stop_at_positional: bool = False) -> list[str]:
    """Rewrite argv so click reads it as pflag (kubectl) does, driven by the command's declared options:

    - `-x=value` is `-x value` for every short option that takes a value (click would keep the `=`;
      `-xvalue` and `-x value` click already reads as pflag does);
    - a bare `--dry-run` is `--dry-run=client` when the command's --dry-run takes a value, so
      `--dry-run my-llm` does not swallow the next word.

    A value given to an option (`-m -n=x`) is left as it is, and so is everything after `--`.
    `stop_at_positional` (the root group): stop at the first argument that is not an option (the
    subcommand's own argv is rewritten by the subcommand).
    """
    takes_value: set[str] = set()
    dry_run_value = False
    for p in params:
        if getattr(p, "param_type_name", "") != "option" or getattr(p, "is_flag", False) or getattr(p, "count", False):
            continue
        takes_value.update(p.opts)
        takes_value.update(p.secondary_opts)
        if "--dry-run" in p.opts:
            dry_run_value = True
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out += args[i:]
            break
        if not a.startswith("-") or a == "-":
            if stop_at_positional:
                out += args[i:]
                break
            out.append(a)
        elif a == "--dry-run" and dry_run_value:
            out.append("--dry-run=client")
        elif not a.startswith("--") and len(a) > 2 and a[2] == "=" and a[:2] in takes_value:
            out += [a[:2], a[3:]]
        else:
            out.append(a)
            if a in takes_value and i + 1 < len(args):  # `-m -n=x`: the next word is this option's value
                out.append(args[i + 1])
                i += 1
        i += 1
    return out


# ---- the command classes that apply it -----------------------------------------------------------


class KaitoCommand(TyperCommand):
    """Every command's class: argv is read as kubectl (pflag) reads it before click parses it
    (`-n=x`, and a bare `--dry-run` meaning `--dry-run=client`); see `preprocess_argv`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, preprocess_argv(self.params, args))


class KaitoGroup(TyperGroup):
    """The root and `models` groups: the same pflag reading for options given before the subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, preprocess_argv(self.params, args, stop_at_positional=True))


# ---- listening: connect's --port and --address ------------------------------------------------------


def port_option(help: str) -> Any:
    """`--port PORT`: a local TCP port, 0 = pick a free one (checked by `check_port`)."""
    return Annotated[int, typer.Option("--port", help=help, metavar="PORT")]


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
