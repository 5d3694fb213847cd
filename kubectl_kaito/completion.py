"""Shell completion for `kubectl kaito ...` through kubectl itself (kubectl 1.26+).

kubectl completes plugin arguments by running `kubectl_complete-kaito ARGS... INCOMPLETE` (older
cobra-based callers prefix `__complete`) and reading cobra's format: one candidate per line
(`value<TAB>description`), then `:<directive>`. This adapts Typer's own completion engine to that
format. (The plugin has no `--install-completion`: kubectl's own completion script covers
`kubectl kaito`, and a completion for `kubectl-kaito` could only replace kubectl's.)

kubectl passes the plugin's stderr straight to the terminal while the user presses TAB, and
reads every stdout line as a candidate, so nothing but candidates may be written: eager option
callbacks (`--version ""` would print the version) run with their output captured and dropped,
and any error ends in cobra's error directive, silently.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from kubectl_kaito import completers
from kubectl_kaito.console import Console

NO_FILE_COMPLETION = 4  # cobra.ShellCompDirectiveNoFileComp
ERROR = 1  # cobra.ShellCompDirectiveError: the shell offers nothing


def _one_line(text: str) -> str:
    """cobra shows only the first line of a description, and a tab would end the value: fold both."""
    return " ".join(text.split())


def complete(words: Sequence[str]) -> list[tuple[str, str]]:
    """Candidates (value, help) for the last, incomplete word after `kubectl kaito`."""
    import typer  # noqa: PLC0415
    from typer._click.shell_completion import ShellComplete  # the engine Typer itself uses  # noqa: PLC0415

    from kubectl_kaito.cli import PROG, app  # noqa: PLC0415

    args, incomplete = list(words[:-1]), (words[-1] if words else "")

    class _Kubectl(ShellComplete):
        source_template = ""

        def source_vars(self) -> dict[str, Any]:
            return {}

        def get_completion_args(self) -> tuple[list[str], str]:
            return args, incomplete

        def format_completion(self, item: Any) -> str:
            return str(item.value)

    root = typer.main.get_command(app)
    attach(root)
    engine = _Kubectl(root, {}, PROG, "_KUBECTL_KAITO_COMPLETE")
    # Click parses the words resiliently but still runs eager callbacks (--version prints and
    # raises Exit, which it swallows): keep whatever they write out of the candidate list.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        items = engine.get_completions(args, incomplete)
    return [(str(i.value), _one_line(str(i.help or ""))) for i in items]


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> None:
    """Entry point of the `kubectl_complete-kaito` console script (tests pass a fake console)."""
    words = list(sys.argv[1:] if argv is None else argv)
    descriptions = True
    if words and words[0] in ("__complete", "__completeNoDesc"):
        descriptions = words[0] == "__complete"
        words = words[1:]
    console = console or Console.from_sys()
    try:
        candidates = complete(words)
    except (Exception, SystemExit):  # noqa: BLE001  never a traceback in the middle of the user's prompt
        console.result(f":{ERROR}")
        return
    for value, help_text in candidates:
        console.result(f"{value}\t{help_text}" if help_text and descriptions else value)
    console.result(f":{NO_FILE_COMPLETION}")


# ---- value completers, attached by flag name -------------------------------------------------------

_SIMPLE_CHOICES = re.compile(r"\[?=?([a-z0-9-]+(?:\|[a-z0-9-]+)+)\]?")


def _by_flag(command_path: str, param: Any) -> Callable[..., Any] | None:
    """The completer for one flag: by its name (every command's -n, --context, -o), by command
    (deploy --instance-type, logs --pod/-c), or from a `a|b|c` metavar (--runtime, actions)."""
    opts = set(getattr(param, "opts", ()))
    if "--namespace" in opts:
        return completers.namespaces
    if "--context" in opts:
        return completers.contexts
    if "--instance-type" in opts:
        return completers.instance_types
    if command_path.endswith(" logs") and "--pod" in opts:
        return completers.pods
    if command_path.endswith(" logs") and "--container" in opts:
        return completers.containers
    if command_path.endswith(" models describe") and param.name == "name":
        return completers.models
    m = _SIMPLE_CHOICES.fullmatch(str(getattr(param, "metavar", "") or ""))
    if m and "--dry-run" not in opts:
        return completers.choices(tuple(m.group(1).split("|")))
    return None


def attach(group: Any, path: str = "kubectl kaito") -> None:
    """Give every parameter without a completer the one `_by_flag` names (click calls it with
    (ctx, param, incomplete); Typer-style completers take (ctx, incomplete) or (incomplete))."""
    import inspect  # noqa: PLC0415

    from typer._click.shell_completion import CompletionItem  # noqa: PLC0415

    for param in getattr(group, "params", []):
        if getattr(param, "_custom_shell_complete", None) is not None:
            continue
        fn = _by_flag(path, param)
        if fn is None:
            continue
        takes_ctx = len(inspect.signature(fn).parameters) == 2

        def complete(
            ctx: Any, _param: Any, incomplete: str, fn: Callable[..., Any] = fn, takes_ctx: bool = takes_ctx
        ) -> list[Any]:
            values = fn(ctx, incomplete) if takes_ctx else fn(incomplete)
            return [CompletionItem(v[0], help=v[1]) if isinstance(v, tuple) else CompletionItem(v) for v in values]

        param._custom_shell_complete = complete
    for name, sub in (getattr(group, "commands", None) or {}).items():
        attach(sub, f"{path} {name}")
