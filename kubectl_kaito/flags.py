"""One flag vocabulary for every command: durations, timeouts, dry-run modes, output formats,
workspace names and namespaces, and kubectl's (pflag's) short-option syntax.

Every check raises `UsageError` (exit 2) naming the flag, before any request is sent, and the same
mistake gives the same message in every command. The checks themselves live in flagcheck.py (no
typer: the start-up fast path calls them) and are re-exported here, next to the Typer declarations
(options, arguments, the command classes, kubectl-style help) that only the Typer path needs.
"""

# No `from __future__ import annotations` here: it would bind the name `annotations`, which is
# also the --annotation parser below (mypy: no-redef). The annotations here all evaluate on 3.10.

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import OptionInfo

from kubectl_kaito import completers
from kubectl_kaito.errors import UsageError
from kubectl_kaito.flagcheck import *  # noqa: F403  (re-exported: flags.X is every check's one name)
from kubectl_kaito.flagcheck import TEMPLATE_FORMATS, TIMEOUT_ZERO, WORKSPACE_NAME, check_text, verbosity_argv


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


# ---- output formats --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formats:
    """Marks a command's `-o/--output` parameter and lists the formats it allows. The command
    wrapper (cli.py) finds it, checks the value with `output_format`, and puts it in Settings
    before the command runs."""

    allowed: tuple[str, ...]


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
        *WORKSPACE_NAME,
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
        *WORKSPACE_NAME,
        autocompletion=completers.workspaces,
        help="A workspace (repeatable; same as a NAME argument).",
        metavar="NAME",
        show_default=False,
    ),
]

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


PodRunningTimeoutOpt = Annotated[
    str,
    typer.Option(
        "--pod-running-timeout",
        help="With -f, how long to wait for a pod to be running (e.g. 20s, 5m; more than zero), counted from "
        "when the workspace's nodes are provisioned. Default 20s, as kubectl.",
        metavar="duration",
    ),
]


def port_option(help: str) -> OptionInfo:
    """`--port PORT`: a local TCP port, 0 = pick a free one (checked by `check_port`).
    Use: `port: Annotated[int, flags.port_option(...)] = 8080`."""
    option: OptionInfo = typer.Option("--port", help=help, metavar="PORT")
    return option
