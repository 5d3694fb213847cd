"""Start-up fast path: the hottest well-formed command lines, answered without importing typer.

`kubectl kaito --version`, `get-endpoint NAME` and `status NAME` (with -n, --context, --kubeconfig,
--workspace-name, and get-endpoint's -o url|json) run scripts and CI loops, where typer's import and
the click tree are most of a run. Typer stays the one definition of the command line: the option
names read here are the data (flagcheck.py, re-exported by flags.py) that cli.py, flags.py and the
commands declare their options with (`typer.Option(*flags.NAMESPACE, ...)`); the work is the same
functions the Typer commands call (endpoint_query.get_endpoint, status_query.show_one_or_set); the
values are checked by the same flagcheck functions; and tests/unit/test_startup.py fails when
Typer's view of a flag differs from this one and runs a corpus of command lines through both paths,
requiring the same stdout, stderr and exit code.

Only plain forms are answered here: anything else (help, completion, an unknown, repeated, malformed
or invalid option or value, a second name, `--`) returns None before anything is sent or printed,
and the line goes to Typer unchanged, which also gives every usage error its one wording.

Imports only flagcheck up front (the console comes from entry.py): no typer, no command module.
"""

from __future__ import annotations

from kubectl_kaito import flagcheck

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from kubectl_kaito.console import Console
    from kubectl_kaito.output import Result
    from kubectl_kaito.settings import AppContext

#: The root's eager version flag (cli.py declares it with this name).
VERSION_OPTION = "--version"

#: Option name -> the setting it gives; every option here takes one value.
_GLOBALS = {
    **dict.fromkeys(flagcheck.KUBECONFIG, "kubeconfig"),
    **dict.fromkeys(flagcheck.CONTEXT, "context"),
    **dict.fromkeys(flagcheck.NAMESPACE, "namespace"),
}
#: Per command: its own options this path reads (besides the globals), and the -o values it answers.
COMMANDS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "get-endpoint": (
        {**dict.fromkeys(flagcheck.WORKSPACE_NAME, "name"), **dict.fromkeys(flagcheck.GET_ENDPOINT_OUTPUT, "output")},
        ("url", "json"),
    ),
    "status": (dict.fromkeys(flagcheck.WORKSPACE_NAME, "name"), ()),
}


def version_line() -> str:
    """What `--version` prints (both paths)."""
    from kubectl_kaito import __version__  # noqa: PLC0415  (the package itself: already imported)

    return f"kubectl-kaito {__version__}"


class Line:
    """A command line this path answers: the command, the one workspace name, -o, the global flags."""

    __slots__ = ("command", "globals", "name", "output")

    def __init__(self, command: str, name: str, output: str | None, globals_: dict[str, str]) -> None:
        self.command = command
        self.name = name
        self.output = output
        self.globals = globals_


def _option(arg: str, names: dict[str, str]) -> tuple[str, str | None] | None:
    """`arg` as one of `names`' options: (setting, value in the same word or None), else None.
    pflag's forms: `--long=value`, `-x=value`, `-xvalue` (and `--long value`, `-x value`: None)."""
    if arg in names:
        return names[arg], None
    if arg.startswith("--"):
        key, eq, value = arg.partition("=")
        return (names[key], value) if eq and key in names else None
    if len(arg) > 2 and arg[:2] in names:
        return names[arg[:2]], arg[3:] if arg[2] == "=" else arg[2:]
    return None


def parse(args: Sequence[str]) -> Line | None:
    """The command line as this path reads it, or None when it is not one of the plain forms."""
    command: str | None = None
    names: dict[str, str] = _GLOBALS
    values: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-") or arg == "-":
            if command is None:
                if arg not in COMMANDS:
                    return None
                command = arg
                names = {**_GLOBALS, **COMMANDS[arg][0]}
            else:
                positional.append(arg)
            i += 1
            continue
        found = _option(arg, names)
        if found is None:
            return None  # help, --version with more, -v, --, an unknown or a command's other option
        key, value = found
        if value is None:
            if i + 1 >= len(args) or args[i + 1].startswith("-"):
                return None  # no value, or one that looks like an option: click's business
            value = args[i + 1]
            i += 1
        if key in values:
            return None  # repeated (or given before and after the command)
        values[key] = value
        i += 1
    if command is None:
        return None
    given = [*positional, *([values["name"]] if "name" in values else [])]
    output = values.get("output")
    if len(given) != 1 or (output is not None and output not in COMMANDS[command][1]):
        return None
    return Line(command, given[0], output, {k: v for k, v in values.items() if k in _GLOBALS.values()})


def _work(line: Line) -> Callable[[AppContext], Result | None]:
    """What the Typer command does for this line (the same function, with the same values)."""
    if line.command == "get-endpoint":
        from kubectl_kaito import endpoint_query  # noqa: PLC0415

        return lambda app: endpoint_query.get_endpoint(app, [line.name], None, line.output)
    from kubectl_kaito import status_query  # noqa: PLC0415

    return lambda app: status_query.show_one_or_set(
        app.console, app.resources(), line.name, app.namespace, watch=False, watch_only=False
    )


def answer(args: Sequence[str], console: Console) -> int | None:
    """The exit code when this path answered `args`; None when the line is Typer's."""
    if list(args) == [VERSION_OPTION]:
        console.result(version_line())
        return 0
    line = parse(args)
    if line is None:
        return None
    from kubectl_kaito.errors import ExitCode, KaitoError, UsageError  # noqa: PLC0415
    from kubectl_kaito.settings import AppContext, resolve  # noqa: PLC0415

    try:  # every value checked before anything runs: a bad one is Typer's to refuse, in its words
        flagcheck.check_workspace_name(line.name)
        settings = resolve(line.globals, line.output)
    except UsageError:
        return None
    from kubectl_kaito import output  # noqa: PLC0415

    # From here on as the Typer command wrapper (cli.command) and the error boundary (cli.main).
    app = AppContext(settings, console)
    try:
        output.render(console, _work(line)(app), settings.output)
    except BrokenPipeError:  # the reader went away (`| head`): the normal end of a pipeline
        console.discard_stdout()
    except KaitoError as err:
        console.error(err, as_json=app.wants_json)
        return int(err.exit_code)
    except KeyboardInterrupt:  # as click: a new line, then "aborted"
        console.info("")
        console.info("aborted")
        return int(ExitCode.INTERRUPTED)
    return 0
