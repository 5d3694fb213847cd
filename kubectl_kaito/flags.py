"""One flag vocabulary for every command: durations, timeouts, dry-run modes, output formats,
workspace names and namespaces, and kubectl's (pflag's) short-option syntax.

Every check here raises `UsageError` (exit 2) naming the flag, before any request is sent, and
the same mistake gives the same message in every command. Light on purpose: stdlib, typer (already
loaded by the CLI) and our errors; `waiting`, `logs` and the commands import it at module level.
"""

# No `from __future__ import annotations` here: it would bind the name `annotations`, which is
# also the --annotation parser below (mypy: no-redef). The annotations here all evaluate on 3.10.

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, overload

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import OptionInfo

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


def timeout_option(default: str, reason: str, what: str = "How long --wait waits") -> OptionInfo:
    """The `--timeout DURATION` option with its default, the reason for that default, and the
    one meaning of 0, all in the help text: `timeout: Annotated[str, flags.timeout_option(...)] = "5m"`.

    (The option, not a whole `Annotated` type: a call is no type to mypy, an `Annotated` with a call
    in its metadata is.)"""
    option: OptionInfo = typer.Option(  # typer.Option is typed as Any, to serve as any default
        "--timeout",
        help=f"{what} (e.g. 90s, 10m, 1h; {TIMEOUT_ZERO}). Default {default}: {reason}.",
        metavar="DURATION",
        show_default=False,  # the help says it, with its reason
    )
    return option


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
    if value.strip().lower().split("=", 1)[0] in TEMPLATE_FORMATS:  # jsonpath=..., custom-columns=...
        return template_format(value, allowed)
    fmt = value.strip().lower()
    if fmt not in allowed:
        raise UsageError(f"unknown output format {value!r}", hint="use " + ", ".join(f"-o {a}" for a in allowed))
    return fmt


class OutputOption(OptionInfo):
    """A command's `-o/--output` option, carrying the formats it allows (`allowed_formats`); the command
    wrapper (cli.py) finds it in the parameter's `Annotated` metadata."""

    def __init__(self, formats: Formats, **option: Any) -> None:
        super().__init__(**option)
        self.allowed_formats = formats  # not `formats`: OptionInfo has that (datetime formats)


def output_option(
    *allowed: str, help: str, decls: Sequence[str] = ("--output", "-o"), metavar: str | None = None
) -> OutputOption:
    """The `-o/--output FORMAT` option of a command that allows `allowed`; TAB offers the same values
    (a template format as `jsonpath=`, as kubectl 1.37.1 completes it).
    Use: `fmt: Annotated[str | None, flags.output_option("json", "yaml", help=...)] = None`."""
    offered = tuple(f"{a}=" if a in TEMPLATE_FORMATS else a for a in allowed)
    return OutputOption(
        Formats(tuple(allowed)),
        default=...,  # as typer.Option: the default is the parameter's `= None`
        param_decls=tuple(decls),
        help=help,
        metavar=metavar or "|".join(allowed),
        show_default=False,
        autocompletion=completers.choices(offered),
    )


def formats_of(annotation: Any) -> Formats | None:
    """The formats of the `output_option` in a parameter's Annotated metadata, if any."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, OutputOption):
            return meta.allowed_formats
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
    args = verbosity_argv(args, stop_at_positional=stop_at_positional, takes_value=takes_value)
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

    def format_help(self, ctx: Any, formatter: Any) -> None:
        kubectl_help_params(self.params)
        super().format_help(ctx, formatter)

    def format_help_text(self, ctx: Any, formatter: Any) -> None:
        kubectl_format_help_text(self, ctx, formatter)


class KaitoGroup(TyperGroup):
    """The root and `models` groups: the same pflag reading for options given before the subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, preprocess_argv(self.params, args, stop_at_positional=True))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        kubectl_help_params(self.params)
        super().format_help(ctx, formatter)

    def format_help_text(self, ctx: Any, formatter: Any) -> None:
        kubectl_format_help_text(self, ctx, formatter)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        kubectl_format_commands(self, ctx, formatter)


# ---- key=value flags (deploy's --label, --annotation, --partition) ---------------------------------

_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
KEY_HINT = "a key is [prefix/]name: a DNS subdomain prefix, then at most 63 letters, digits, '-', '_', '.'"
#: Kubernetes' limit on all of an object's annotations together (TotalAnnotationSizeLimitB).
ANNOTATIONS_MAX_BYTES = 256 * 1024


def check_text(value: str, what: str, hint: str | None = None) -> str:
    """Refuse control characters and bytes that are not UTF-8 in any flag value (exit 2)."""
    _check_text(value, what, hint)
    return value


def qualified_name(key: str) -> bool:
    """A Kubernetes label or annotation key: optional DNS-subdomain prefix, then a name of at most 63."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_QUALIFIED_NAME.fullmatch(name))


def key_value(item: str, flag: str, example: str) -> tuple[str, str]:
    """`KEY=VALUE` -> (key, value); the key is a qualified name. The value is kept as given."""
    check_text(item, f"{flag} value")
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"invalid {flag} {item!r}: expected KEY=VALUE", hint=f"for example {flag} {example}")
    if not qualified_name(key):
        raise UsageError(f"invalid {flag} key {key!r}", hint=KEY_HINT)
    return key, value


def labels(values: Iterable[str] | None, flag: str = "--label") -> dict[str, str]:
    """`--label K=V` (repeatable, comma-separated: a label value has no comma) -> a label map."""
    out: dict[str, str] = {}
    for raw in values or ():
        for item in (p.strip() for p in str(raw).split(",")):
            if not item:
                continue
            key, value = key_value(item, flag, "team=nlp")
            value = value.strip()
            if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
                raise UsageError(
                    f"invalid {flag} value {value!r} for {key}",
                    hint="a label value is at most 63 letters, digits, '-', '_', '.', starting and ending with a "
                    "letter or digit",
                )
            if key in out and out[key] != value:
                raise UsageError(f"{flag} sets {key} twice ({out[key]!r} and {value!r})")
            out[key] = value
    return out


def annotations(values: Iterable[str] | None, flag: str = "--annotation") -> dict[str, str]:
    """`--annotation K=V` (repeatable; not split at commas, an annotation value may hold one) -> a map."""
    out: dict[str, str] = {}
    for item in values or ():
        key, value = key_value(str(item), flag, "example.com/owner=team-a")
        if key in out and out[key] != value:
            raise UsageError(f"{flag} sets {key} twice ({out[key]!r} and {value!r})")
        out[key] = value
    if sum(len(k.encode()) + len(v.encode()) for k, v in out.items()) > ANNOTATIONS_MAX_BYTES:
        raise UsageError(f"{flag}: the annotations are larger than Kubernetes allows (256 KiB in all)")
    return out


def key_values(value: str, flag: str, keys: Sequence[str], example: str) -> dict[str, str]:
    """`a=1,b=2` with only the given keys, each at most once (e.g. --partition mode=mig,profile=1g.10gb)."""
    check_text(value, f"{flag} value")
    out: dict[str, str] = {}
    hint = f"for example {flag} {example} (keys: {', '.join(keys)})"
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        k, sep, v = part.partition("=")
        k, v = k.strip().lower(), v.strip()
        if not sep or not k or not v:
            raise UsageError(f"invalid {flag} {value!r}: {part!r} is not KEY=VALUE", hint=hint)
        if k not in keys:
            raise UsageError(f"invalid {flag} {value!r}: unknown key {k!r}", hint=hint)
        if k in out:
            raise UsageError(f"invalid {flag} {value!r}: {k} given twice", hint=hint)
        out[k] = v
    if not out:
        raise UsageError(f"invalid {flag} {value!r}: it is empty", hint=hint)
    return out


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


# ---- --help as kubectl shows it -----------------------------------------------------------------

#: click's type name -> the metavar pflag (kubectl) prints for it.
_KUBECTL_METAVARS = {"text": "string", "str": "string", "integer": "int", "int": "int", "float": "float"}
_GENERIC_METAVARS = {"DURATION": "duration", "FLOAT": "float", "INT": "int", "TEXT": "string", "STRING": "string"}
_EXAMPLE_START = re.compile(r"^\s*(kubectl |#|[A-Z_]+=\$\(kubectl |\$ |curl |\\b$)")


def kubectl_help_params(params: Sequence[Any]) -> None:
    """Metavars read like kubectl's (`string`, `int`, `strings`, `duration`), and a flag or counter
    shows no `[default: False]`/`[default: 0]` (kubectl 1.37.1's --help shows neither)."""
    for p in params:
        if getattr(p, "param_type_name", "") != "option":
            continue
        if p.is_flag or p.count:
            p.show_default = False
            continue
        if p.metavar in _GENERIC_METAVARS:
            p.metavar = _GENERIC_METAVARS[p.metavar]
        elif p.metavar is None:
            name = _KUBECTL_METAVARS.get(getattr(p.type, "name", ""))
            if name is not None:
                p.metavar = name + ("s" if p.multiple and name == "string" else "")


def _split_command_line(line: str, width: int) -> list[str]:
    """A long example command, cut before a flag (a flag keeps its value) with `\\` continuations
    indented four more spaces, as kubectl's own examples are."""
    indent = line[: len(line) - len(line.lstrip())]
    words = line.strip().split()
    units: list[str] = []  # a flag and its value stay on one line; so does a pipeline's next command
    for i, word in enumerate(words):
        if word in ("|", "&&"):
            units.append(" ".join(words[i:]))
            break
        if (
            units
            and (not word.startswith("-") or word == "-")
            and units[-1].startswith("-")
            and " " not in units[-1]
            and "=" not in units[-1]
        ):
            units[-1] += " " + word
        else:
            units.append(word)
    out: list[str] = []
    current = indent + units[0]
    for unit in units[1:]:
        if len(current) + 1 + len(unit) + 2 > width and unit.startswith(("-", "|", "&&")):
            out.append(current + " \\")
            current = indent + "    " + unit
        else:
            current += " " + unit
    out.append(current)
    return out


def kubectl_help_text(text: str, width: int) -> str:
    """A command's help with its examples kept as written: an example paragraph (lines that start
    with `kubectl `, `# ` or `VAR=$(kubectl`) is never re-wrapped (click's `\\b`); a command longer
    than `width` is cut before a flag with a `\\` continuation, a long comment wraps as a comment.
    A `\\b` block of prose only that does not fit is wrapped as ordinary text."""
    import textwrap  # noqa: PLC0415

    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        lines = para.split("\n")
        marked = bool(lines) and lines[0].strip() == "\b"
        body = lines[1:] if marked else lines
        example = any(_EXAMPLE_START.match(ln) for ln in body if ln.strip())
        if not example:
            if marked and any(len(ln) > width for ln in body):
                out.append("\n".join(body))  # prose: let click wrap it
            else:
                out.append(para)
            continue
        logical: list[list[str]] = []  # physical lines grouped by `\\` continuation
        for ln in body:
            if logical and logical[-1][-1].rstrip().endswith("\\"):
                logical[-1].append(ln)
            else:
                logical.append([ln])
        kept: list[str] = []
        for group in logical:
            if all(len(ln) <= width for ln in group):
                kept += group
                continue
            first = group[0]
            indent = first[: len(first) - len(first.lstrip())]
            joined = indent + " ".join(ln.strip().rstrip("\\").strip() for ln in group)
            if joined.lstrip().startswith("#"):
                kept += textwrap.wrap(joined, width, subsequent_indent=indent + "# ") or [joined]
            else:
                kept += _split_command_line(joined, width)
        out.append("\b\n" + "\n".join(kept))
    return "\n\n".join(out)


def kubectl_format_help_text(cmd: Any, ctx: Any, formatter: Any) -> None:
    """click's format_help_text with `kubectl_help_text`'s example handling."""
    import inspect  # noqa: PLC0415

    text = inspect.cleandoc(cmd.help).partition("\f")[0] if cmd.help else ""
    if text:
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(kubectl_help_text(text, formatter.width - formatter.current_indent))


def kubectl_format_commands(group: Any, ctx: Any, formatter: Any) -> None:
    """The command list with each command's whole first sentence (click cuts it to fit one line)."""
    rows = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is not None and not cmd.hidden:
            rows.append((name, cmd.get_short_help_str(limit=1000)))
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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


SelectorOpt = Annotated[
    str | None,
    typer.Option(
        "--selector",
        "-l",
        help="Label selector, as kubectl's (e.g. -l app=llm, -l 'tier in (a,b)', -l '!test'); sent to the server.",
        metavar="string",
        show_default=False,
    ),
]


# ---- URL paths ---------------------------------------------------------------------------------------


def url_path(value: str, flag: str = "--path") -> str:
    """An API path given on the command line (get-endpoint --path): control characters (a newline would
    make the one-line URL two) and non-UTF-8 bytes are usage errors; encoding is endpoints.normalize_path's."""
    _check_text(value, f"{flag} value", hint="give a URL path such as /v1/chat/completions (spaces are encoded)")
    return value


# ---- kubectl's --pod-running-timeout -----------------------------------------------------------------

POD_RUNNING_TIMEOUT = "20s"  # kubectl 1.37.1's default for `kubectl logs --pod-running-timeout`

PodRunningTimeoutOpt = Annotated[
    str,
    typer.Option(
        "--pod-running-timeout",
        help="With -f, how long to wait for a pod to be running (e.g. 20s, 5m; more than zero), counted from "
        "when the workspace's nodes are provisioned. Default 20s, as kubectl.",
        metavar="duration",
    ),
]


def parse_pod_running_timeout(value: str) -> float:
    """`--pod-running-timeout` -> seconds; as kubectl, it must be more than zero."""
    seconds = parse_duration(value, "--pod-running-timeout")
    if seconds <= 0:
        raise UsageError(
            f"invalid --pod-running-timeout value {value!r}: it must be more than zero", hint=DURATION_HINT
        )
    return seconds


# ---- listening: connect's --port and --address ------------------------------------------------------


def port_option(help: str) -> OptionInfo:
    """`--port PORT`: a local TCP port, 0 = pick a free one (checked by `check_port`).
    Use: `port: Annotated[int, flags.port_option(...)] = 8080`."""
    option: OptionInfo = typer.Option("--port", help=help, metavar="PORT")
    return option


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
