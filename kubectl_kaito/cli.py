"""The root command: global options, explicit command registration, and the one error boundary.

kubectl rejects its own flags before a plugin name (`kubectl -n x kaito ...`), so the
plugin owns `--kubeconfig`, `--context`, `-n`, `--request-timeout` and `-v`, and accepts
them both before and after the subcommand, like kubectl does.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer

from kubectl_kaito import fastpath, flags, output
from kubectl_kaito.console import Console
from kubectl_kaito.errors import ExitCode, KaitoError, UsageError
from kubectl_kaito.flags import KaitoCommand, KaitoGroup
from kubectl_kaito.output import Result
from kubectl_kaito.settings import AppContext, Invocation, Settings, resolve

PROG = "kubectl kaito"
GLOBAL_PANEL = "Global options"

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 error (the server refused: invalid, conflict, internal; or KAITO not installed); "
    "2 usage; 3 not found; 4 not ready or timed out waiting; "
    "5 cannot reach or authenticate to the cluster; 130 interrupted."
)

# ---- global options ---------------------------------------------------------------

KubeconfigOpt = Annotated[
    str | None,
    typer.Option(
        *flags.KUBECONFIG,
        help="Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).",
        rich_help_panel=GLOBAL_PANEL,
        show_default=False,
    ),
]
ContextOpt = Annotated[
    str | None,
    typer.Option(
        *flags.CONTEXT, help="The kubeconfig context to use.", rich_help_panel=GLOBAL_PANEL, show_default=False
    ),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option(
        *flags.NAMESPACE,
        help="Namespace (default: the context's namespace, else default).",
        rich_help_panel=GLOBAL_PANEL,
        show_default=False,
    ),
]
RequestTimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--request-timeout",
        help="How long to wait for a single server request (e.g. 30s, 1m; 0 = no limit). "
        "Default 0, as kubectl: waits have their own --timeout.",
        metavar="duration",
        rich_help_panel=GLOBAL_PANEL,
        show_default=False,
    ),
]
VerboseOpt = Annotated[
    str | None,
    typer.Option(
        "--v",
        "-v",
        "--verbose",
        help="Log level, as kubectl's -v: 6 prints every API request (method, URL, status, time); "
        "7 also headers; 8 also bodies (trimmed); 9 untrimmed. Tokens are always masked. "
        "-v alone is 6, -vv 7.",
        metavar="int",
        rich_help_panel=GLOBAL_PANEL,
        show_default=False,
    ),
]

_GLOBAL_PARAMS = ("kubeconfig", "context", "namespace", "request_timeout", "verbose")


def _merge_globals(ctx: typer.Context, given: dict[str, Any], output_value: str | None) -> AppContext:
    """Combine global flags given before the subcommand (root) with those after it (these win),
    check them (flags.py) and record the Settings on the run's Invocation, before the command runs."""
    root = ctx.find_root()
    base: dict[str, Any] = dict(root.meta.get("kaito.globals", {}))
    for key, value in given.items():
        if key == "verbose":
            base[key] = max(int(base.get(key) or 0), flags.parse_verbosity(value))
        elif value is not None:
            base[key] = value
    root_obj = root.obj if isinstance(root.obj, Invocation) else Invocation(Console.from_sys())
    root_obj.settings = Settings(output=output_value)  # known first: a bad -n below is a JSON error too
    settings = resolve(base, output_value)
    root_obj.settings = settings  # main() reads it to decide whether errors also go out as JSON
    return AppContext(settings, root_obj.console)


def command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command `fn(app: AppContext, **flags)` so Typer also offers the global options.

    The wrapper's signature is fn's own flags plus the global ones; Typer reads it to
    build the command line, and the wrapper turns the global values into an AppContext.
    """
    sig = inspect.signature(fn, eval_str=True)
    own = list(sig.parameters.values())[1:]  # drop `app`
    extra = {
        "kubeconfig": KubeconfigOpt,
        "context": ContextOpt,
        "namespace": NamespaceOpt,
        "request_timeout": RequestTimeoutOpt,
        "verbose": VerboseOpt,
    }
    # The command's -o parameter, marked with flags.Formats: checked here, before the command runs.
    fmt_param = next(((p.name, f) for p in own if (f := flags.formats_of(p.annotation)) is not None), None)
    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)]
    params += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    for name, ann in extra.items():
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=None))

    def wrapper(**kwargs: Any) -> Any:
        ctx = kwargs.pop("ctx")
        given = {name: kwargs.pop(name) for name in _GLOBAL_PARAMS}
        fmt: str | None = None
        if fmt_param is not None:
            fmt = kwargs[fmt_param[0]] = flags.output_format(kwargs[fmt_param[0]], fmt_param[1].allowed)
        app = _merge_globals(ctx, given, fmt)
        try:
            # The command returns its result (or None when it streamed its lines already);
            # the one renderer draws it in the run's output format.
            output.render(app.console, fn(app, **kwargs), app.settings.output)
        except BrokenPipeError:
            # The reader went away (`... | head`): the normal end of a pipeline, exit 0. Handled
            # here because Typer would otherwise turn EPIPE into a silent exit 1.
            app.console.discard_stdout()
            raise typer.Exit(0) from None

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]  # typer reads it; a function type does not declare it
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


# ---- the app ------------------------------------------------------------------------

ROOT_HELP = (
    "Deploy, inspect and talk to KAITO inference workspaces from kubectl.\n\n"
    "Examples:\n\n"
    "  kubectl kaito deploy --workspace-name my-llm --model phi-4-mini-instruct "
    "--instance-type Standard_NC24ads_A100_v4 --wait\n\n"
    "  ENDPOINT=$(kubectl kaito get-endpoint --workspace-name my-llm)\n\n"
    "  kubectl kaito status -A\n\n" + EXIT_CODES_HELP
)


def _version_callback(ctx: typer.Context, value: bool) -> None:
    if value:
        inv = ctx.find_root().obj  # None when kubectl_complete-kaito parses the words
        if inv is not None:
            inv.console.result(fastpath.version_line())
        raise typer.Exit(0)


def root(
    ctx: typer.Context,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    namespace: NamespaceOpt = None,
    request_timeout: RequestTimeoutOpt = None,
    verbose: VerboseOpt = None,
    version: Annotated[
        bool,
        typer.Option(
            fastpath.VERSION_OPTION,
            help="Print the plugin version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Deploy, inspect and talk to KAITO inference workspaces."""
    ctx.meta["kaito.globals"] = {
        "kubeconfig": kubeconfig,
        "context": context,
        "namespace": namespace,
        "request_timeout": request_timeout,
        "verbose": flags.parse_verbosity(verbose),
    }


def _help(
    app: AppContext,
    command: Annotated[
        list[str] | None,
        typer.Argument(help="The command (e.g. deploy, models list).", metavar="[COMMAND]", show_default=False),
    ] = None,
) -> Result:
    """Help about any command, as `kubectl help [COMMAND]`.

    \b
    Examples:
      kubectl kaito help
      kubectl kaito help deploy
    """
    from typer._click.core import Context  # noqa: PLC0415  (the click Typer vendors)
    from typer._click.globals import get_current_context  # noqa: PLC0415

    root_ctx = get_current_context().find_root()
    cmd: Any = root_ctx.command
    ctx = root_ctx
    for word in command or []:
        sub = cmd.get_command(ctx, word) if hasattr(cmd, "get_command") else None
        if sub is None:
            raise UsageError(f"unknown command {word!r} for {ctx.command_path!r}", hint=f"see '{PROG} --help'")
        ctx = Context(sub, info_name=word, parent=ctx)
        cmd = sub
    return output.Text(ctx.get_help())


_APPS: dict[frozenset[str] | None, typer.Typer] = {}


def build_app(only: frozenset[str] | None = None) -> typer.Typer:
    """The root app with every command (`only` None) or only these (start-up: importing and
    registering a command module costs time, so a run registers the one it runs).

    `version` and `help` are cli.py's own and come after the registry's commands."""
    if only in _APPS:
        return _APPS[only]
    from kubectl_kaito.commands import registry  # noqa: PLC0415

    new = typer.Typer(
        name="kubectl-kaito",
        help=ROOT_HELP,
        cls=KaitoGroup,
        no_args_is_help=True,  # plain `kubectl kaito` prints help, exit 0 (as plain kubectl: see _usage_error)
        # Typer's --install-completion would write a completion for `kubectl-kaito` that replaces
        # kubectl's own; completion for `kubectl kaito` is kubectl_complete-kaito (completion.py).
        add_completion=False,
        pretty_exceptions_enable=False,  # never a traceback (it could show a token in locals)
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    )
    new.callback()(root)
    registry.register_all(new, command, only)
    if only is None or "version" in only:
        from kubectl_kaito.commands import version  # noqa: PLC0415

        new.command("version", help=version.version.__doc__, cls=KaitoCommand)(command(version.version))
    if only is None or "help" in only:
        new.command("help", help=_help.__doc__, cls=KaitoCommand)(command(_help))
    _APPS[only] = new
    return new


def __getattr__(name: str) -> Any:
    """`cli.app`: the root app with every command (completion and tests walk the whole tree)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


#: Root options that take their value as the next word (kubectl's syntax: `-n ns`, `--context c`).
_ROOT_VALUE_OPTIONS = frozenset({*flags.KUBECONFIG, *flags.CONTEXT, *flags.NAMESPACE, "--request-timeout"})
#: Root options that may or may not take the next word (`-v` alone is 6): the command is then unclear.
_ROOT_UNCLEAR_OPTIONS = frozenset({"-v", "--v", "--verbose", "--"})


def command_word(args: Sequence[str]) -> str | None:
    """The command named on this command line, when it is certain; None otherwise (no command,
    root help, an unknown word, or a form this scan does not follow: all commands are then registered)."""
    from kubectl_kaito.commands import registry  # noqa: PLC0415

    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _ROOT_UNCLEAR_OPTIONS or arg in ("-h", "--help"):
            return None
        if arg.startswith("-"):
            skip = arg in _ROOT_VALUE_OPTIONS
            continue
        # `help WORD` walks the whole tree
        return arg if arg in registry.SHORT_HELP and arg != "help" else None
    return None


def _root_command(args: Sequence[str]) -> Any:
    """The click command for this run: the named command alone when certain; for the root's
    help, the root with a stub per command that shows its short help (no command module imported);
    otherwise the whole tree."""
    from kubectl_kaito.commands import registry  # noqa: PLC0415

    word = command_word(args)
    if word is not None:
        return typer.main.get_command(build_app(frozenset({word})))
    if not _is_root_help(args):
        return typer.main.get_command(build_app())
    click_cmd: Any = typer.main.get_command(build_app(frozenset()))
    from typer.core import TyperCommand  # noqa: PLC0415

    click_cmd.commands = {name: TyperCommand(name, short_help=text) for name, text in registry.SHORT_HELP.items()}
    return click_cmd


def _is_root_help(args: Sequence[str]) -> bool:
    """`kubectl kaito`, `kubectl kaito --help`, `kubectl kaito -n x -h`, `kubectl kaito --version`:
    options only, help or the version asked."""
    if not args:
        return True
    skip = False
    asked = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("-h", "--help", "--version"):  # eager: they answer before any command is looked up
            asked = True
        elif arg in _ROOT_UNCLEAR_OPTIONS or not arg.startswith("-"):
            return False
        else:
            skip = arg in _ROOT_VALUE_OPTIONS
    return asked


# ---- the error boundary ----------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, console: Console | None = None, lazy: bool = True) -> int:
    """Run the CLI and return its exit code. The only place errors become messages.

    `console` is the run's streams and environment (tests pass a fake one); a real run uses the
    process's own. `lazy` registers only the command named in argv (start-up); False always builds the
    whole tree (tests/unit/test_startup.py requires both to answer alike).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    inv = Invocation(console=console or Console.from_sys())  # the wrapper fills in the Settings
    click_cmd = _root_command(args) if lazy else typer.main.get_command(build_app())
    try:
        # click writes its own help and --show-completion text with click.echo to sys.stdout:
        # for this run, that is the console's stdout (a no-op for a real run).
        with contextlib.redirect_stdout(inv.console.stdout), contextlib.redirect_stderr(inv.console.stderr):
            rv = click_cmd.main(args=args, prog_name=PROG, standalone_mode=False, obj=inv)
        return rv if isinstance(rv, int) else 0
    except KaitoError as err:
        inv.console.error(err, as_json=_wants_json(inv))
        return int(err.exit_code)
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.Abort:  # EOF at a prompt
        inv.console.info("aborted")
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:  # Ctrl-C outside a command (Typer turns one inside into Exit(130))
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        inv.console.discard_stdout()
        return 0
    except typer.TyperException as e:  # click usage errors: one line, kubectl style
        return _usage_error(e, inv)


def _wants_json(inv: Invocation) -> bool:
    """Errors also go out as JSON when the running command's checked -o is json."""
    return inv.settings is not None and inv.settings.output == "json"


def _usage_error(e: typer.TyperException, inv: Invocation) -> int:
    """Print a click usage error as `error:` + `hint:` (exit 2); help-on-no-args prints help.

    Click refuses before the command wrapper ran, so the output format is usually not known yet:
    the error is then a plain `error:` line."""
    name = type(e).__name__
    if name == "NoArgsIsHelpError":
        # Plain `kubectl kaito` (or `kubectl kaito models`) asks for help: on stdout, exit 0, as
        # kubectl 1.37.1 does for plain `kubectl` and for `kubectl rollout`.
        e_ctx = getattr(e, "ctx", None)
        inv.console.result(e_ctx.get_help() if e_ctx else e.format_message())
        return int(ExitCode.OK)
    e_ctx = getattr(e, "ctx", None)
    path = e_ctx.command_path if e_ctx is not None else PROG
    msg = e.format_message().strip().replace("\n", " ")
    err = UsageError(msg[:1].lower() + msg[1:], hint=f"see '{path} --help'")
    inv.console.error(err, as_json=_wants_json(inv))
    return int(getattr(e, "exit_code", ExitCode.USAGE) or ExitCode.USAGE)


#: Commands that run long (streams, sessions, servers, load): their runs keep the garbage collector on.
LONG_RUNNING = frozenset({"logs", "chat", "connect", "bench", "top", "install-provider"})  # helm runs, waits
#: Flags that turn a short command into a long one (`status -w`, `deploy --wait`, `logs -f`).
_LONG_FLAGS = ("-w", "--watch", "--wait", "-f", "--follow")


def is_long_running(args: Sequence[str]) -> bool:
    """Whether this command line may run long: a long-running command, a watch/wait/follow flag
    (in any pflag form), or a command this scan cannot name."""
    word = command_word(args)
    if word is None:
        return not _is_root_help(args)
    if word in LONG_RUNNING:
        return True
    return any(
        a == f or a.startswith(f + "=") or (f in ("-w", "-f") and a.startswith(f)) for a in args for f in _LONG_FLAGS
    )


def run() -> None:
    """Console-script entry point.

    Start-up: a short command runs with the garbage collector off (it allocates a lot while importing
    and frees nothing cyclic worth collecting) and ends with `os._exit` once stdout and stderr are
    flushed, skipping interpreter teardown (about a fifth of a short run). Long-running commands
    keep the collector on and end normally (their threads and files close as usual)."""
    args = sys.argv[1:]
    short = not is_long_running(args)
    if short:
        gc.disable()
    else:
        gc.enable()
    console = Console.from_sys()
    code = main(console=console)
    try:
        console.stdout.flush()
    except BrokenPipeError:
        console.discard_stdout()
    if not short:
        sys.exit(code)
    console.exit_now(code)
