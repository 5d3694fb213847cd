"""`kubectl kaito status`: one workspace in detail, or the namespace's workspaces as a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags, output, status_query
from kubectl_kaito import status as core
from kubectl_kaito.errors import NotFoundError, UsageError
from kubectl_kaito.output import Document, Result, Table, Text
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.console import Console
    from kubectl_kaito.resources import Resources

FORMATS = ("json", "yaml", "wide", *flags.OBJECT_FORMATS)
STRUCTURED = ("json", "yaml")


@dataclass(frozen=True)
class _View:
    """How the list is drawn (the table options), and how watched objects are printed."""

    fmt: str | None
    all_namespaces: bool = False
    no_headers: bool = False
    show_labels: bool = False
    sort_by: str | None = None
    events: bool = False
    watch_only: bool = False

    @property
    def table(self) -> bool:
        return self.fmt in (None, "wide")


def status(
    app: AppContext,
    names: flags.NamesArg = None,
    workspace_name: flags.WorkspaceNamesOpt = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="List the workspaces of every namespace.")
    ] = False,
    output_format: Annotated[
        str | None,
        flags.output_option(
            *FORMATS,
            help="Output format: json, yaml (the Workspace objects, as kubectl get), wide, name, "
            "jsonpath=TEMPLATE, custom-columns=SPEC.",
            metavar="FORMAT",
        ),
    ] = None,
    selector: flags.SelectorOpt = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Print the table without its header row.")] = False,
    show_labels: Annotated[
        bool, typer.Option("--show-labels", help="Add a LABELS column to the table (the last one).")
    ] = False,
    sort_by: Annotated[
        str | None,
        typer.Option(
            "--sort-by",
            help="Sort the list by a JSONPath, as kubectl (e.g. .metadata.creationTimestamp).",
            metavar="string",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="After the first answer, print each change until Ctrl-C.")
    ] = False,
    watch_only: Annotated[
        bool, typer.Option("--watch-only", help="Watch without printing the first answer (implies -w).")
    ] = False,
    output_watch_events: Annotated[
        bool,
        typer.Option(
            "--output-watch-events",
            help="With -w: name each change's event (ADDED, MODIFIED, DELETED): an EVENT column, or "
            '{"type": ..., "object": ...} per line with -o json (as kubectl).',
        ),
    ] = False,
    diagnose: Annotated[
        bool,
        typer.Option("--diagnose", help="Name why one workspace is not ready (= kubectl kaito diagnose NAME)."),
    ] = False,
    bundle: Annotated[
        str | None,
        typer.Option("--bundle", help="With --diagnose: save objects, events and logs to DIR.", metavar="DIR"),
    ] = None,
) -> Result | None:
    """Show a workspace's state, conditions, pods, endpoint and warnings, or list the workspaces.

    With one name: model, runtime, instance type and node count, state, the conditions table,
    worker nodes, pods, the endpoint once ready, and the recent Warning events of the workspace
    and its pods. With several names, or none: one row per workspace (none: every workspace in
    the namespace, -A: in all namespaces, -l: those whose labels match), read with one paginated
    LIST. -o json|yaml print the Workspace objects exactly as `kubectl get workspace -o json|yaml`
    (one object for one name, a List otherwise), so they can go back to `kubectl apply -f -`;
    an InferenceSet named is printed as `kubectl get is NAME` prints it.

    \b
    Examples:
      kubectl kaito status my-llm
      kubectl kaito status my-llm other-llm
      kubectl kaito status -A -o wide --sort-by .metadata.creationTimestamp
      kubectl kaito status -l team=search -o name
      kubectl kaito status \\
        -o jsonpath='{range .items[*]}{.metadata.name}{"\\n"}{end}'
      kubectl kaito status -w -o json --output-watch-events
    """
    fmt = output_format  # checked and lower-cased by the command wrapper (flags.Formats)
    targets = flags.workspace_names(names, workspace_name)  # checked, in order, repeats dropped
    if diagnose or bundle is not None:
        _diagnose(app, targets, fmt, diagnose, bundle, all_namespaces or watch or watch_only)
        return None
    label_selector = flags.label_selector(selector)
    if sort_by is not None:
        _check_sort_by(sort_by)
    watch = watch or watch_only
    if targets and all_namespaces:
        raise UsageError(
            "a workspace cannot be shown by name across all namespaces",
            hint="drop -A and pick the namespace with -n",
        )
    if targets and label_selector:
        raise UsageError("give workspace names or -l/--selector, not both")
    if output_watch_events and not watch:
        raise UsageError("--output-watch-events needs --watch")
    if watch and len(targets) > 1:
        raise UsageError(
            f"watch is only supported on one workspace or the whole list, but {len(targets)} names were given",
            hint="watch the list (optionally with -l) or one workspace",
        )
    view = _View(fmt, all_namespaces, no_headers, show_labels, sort_by, output_watch_events, watch_only)

    cluster = app.resources()
    if len(targets) == 1 and fmt is None:
        return status_query.show_one_or_set(app.console, cluster, targets[0], app.namespace, watch, watch_only)
    if targets and not watch:
        return _show_named(app, cluster, targets, view)
    if targets:  # one name, watched in an object format: kubectl get wk NAME -w -o ...
        return _show_list(app.console, cluster, app.namespace, view, watch, name=targets[0])
    return _show_list(app.console, cluster, None if all_namespaces else app.namespace, view, watch, label_selector)


def _check_sort_by(path: str) -> None:
    from kubectl_kaito import jsonpath  # noqa: PLC0415

    text = path.strip()
    try:
        jsonpath.compile(text if text.startswith("{") else "{" + text + "}")
    except jsonpath.JsonPathError as e:
        raise UsageError(f"invalid --sort-by value: {e}", hint="e.g. --sort-by .metadata.creationTimestamp") from None


# ---- several names ---------------------------------------------------------------------------------


def _show_named(app: AppContext, cluster: Resources, names: list[str], view: _View) -> Result | None:
    """`status a b` (or one name with -o): those workspaces, as kubectl get shows named objects.
    The ones found are printed; a missing one is then exit 3 (as kubectl prints what it found)."""
    found: list[dict[str, Any]] = []
    missing: list[NotFoundError] = []
    for n in names:
        try:
            obj, is_set = cluster.workspace_or_set(n, app.namespace)  # `status SET -o json`: the set's object
        except NotFoundError as e:
            missing.append(e)
        else:
            found.append(obj if is_set else _with_kind(obj, cluster))
    if found:
        one = len(names) == 1 and view.fmt not in (None, "wide")
        result = _items_result(app.console, cluster, found, view, single=one, keep_order=True)
        output.render(app.console, result, app.settings.output)
    if missing:
        raise missing[0]
    return None


# ---- the list --------------------------------------------------------------------------------------


def _table(items: list[dict[str, Any]], view: _View, *, events: str | None = None) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the workspace table, with the view's extra columns."""
    wide = view.fmt == "wide"
    headers = core.list_headers(all_namespaces=view.all_namespaces, wide=wide)
    rows = [
        _set_row(w, headers)
        if w.get("kind") == "InferenceSet"
        else core.list_row(w, all_namespaces=view.all_namespaces, wide=wide)
        for w in items
    ]
    if view.show_labels:
        headers.append("LABELS")
        rows = [[*r, core.labels_cell(w)] for r, w in zip(rows, items, strict=True)]
    if view.events:
        headers = ["EVENT", *headers]
        rows = [[events or "ADDED", *r] for r in rows]
    return headers, rows


def _ordered(items: list[dict[str, Any]], view: _View, *, keep_order: bool = False) -> list[dict[str, Any]]:
    out = list(items) if keep_order else core.sort_workspaces(items)
    return core.sort_by(out, view.sort_by) if view.sort_by else out


def _items_result(
    console: Console,
    cluster: Resources,
    items: list[dict[str, Any]],
    view: _View,
    *,
    single: bool = False,
    keep_order: bool = False,
) -> Result | None:
    """The workspaces in the view's format: one object (`single`) or a List for json, yaml and the
    object formats (what `kubectl get` prints), else the table."""
    items = _ordered([_with_kind(w, cluster) for w in items], view, keep_order=keep_order)
    if not view.table:
        data = items[0] if single else core.as_list(items, f"kaito.sh/{cluster.workspace_version()}")
        if view.fmt and view.fmt.startswith("custom-columns="):
            output.write_objects(console, data, view.fmt, headers=not view.no_headers)
            return None
        if not single:
            data["items"] = items  # as_list sorts by name again: keep --sort-by's order
        return Document(data)
    headers, rows = _table(items, view)
    if not rows:
        return None
    if view.no_headers:
        widths = output.column_widths(headers, rows)
        return Text("\n".join(output.table_row(r, widths) for r in rows))
    return Table(headers, rows)


def _show_list(
    console: Console,
    cluster: Resources,
    namespace: str | None,
    view: _View,
    watch: bool,
    label_selector: str | None = None,
    *,
    name: str | None = None,
) -> Result | None:
    """The workspaces as a table (or a List); with --watch it is printed first, then a row per change.
    `name`: one workspace watched in an object format (`kubectl get wk NAME -w -o json`)."""
    if name is not None:
        ws = _watched_workspace(cluster, name, str(namespace))
        items, rv = [ws], (ws.get("metadata") or {}).get("resourceVersion")
    else:
        # follows limit/continue: one paginated LIST, no GET per workspace
        listing = cluster.workspace_listing(namespace, all_namespaces=namespace is None, label_selector=label_selector)
        items = list(listing.get("items") or [])
        rv = (listing.get("metadata") or {}).get("resourceVersion")
        if not items and not view.watch_only:
            where = "." if namespace is None else f" in {namespace} namespace."
            console.info(f"No workspaces found{where}")
    if not watch and name is None and view.table:
        return _list_with_sets(console, cluster, items, namespace, view, label_selector)
    if not watch:
        return _items_result(console, cluster, items, view)

    if name is None:
        _note_sets(console, cluster, namespace, label_selector)
    printer = _WatchPrinter(console, cluster, view)
    if not view.watch_only:
        printer.first(_ordered(items, view))
    if name is not None:
        stream = cluster.watch_workspaces(namespace, name=name, resource_version=rv)
    else:
        stream = cluster.watch_workspaces(namespace, resource_version=rv, label_selector=label_selector)
    for event in stream:
        etype, obj = event.get("type"), event.get("object") or {}
        if etype in status_query.WATCHED and (name is None or (obj.get("metadata") or {}).get("name") == name):
            printer.event(str(etype), obj)
    return None


class _WatchPrinter:
    """Prints a watched list as kubectl get -w does, in the view's format:
    table: a row per visible change (a MODIFIED that changes nothing shown is skipped);
    json: each object, indented, one after another; with --output-watch-events one compact line
    {"type": ..., "object": ...} per event (kubectl 1.37.1); yaml: documents separated by `---`
    ({object, type} with the events); name / jsonpath / custom-columns: each object."""

    def __init__(self, console: Console, cluster: Resources, view: _View) -> None:
        self.console, self.cluster, self.view = console, cluster, view
        self.widths: list[int] | None = None
        self.last: dict[tuple[str, str], list[str]] = {}
        self.documents = 0

    def first(self, items: list[dict[str, Any]]) -> None:
        if self.view.table:
            headers, rows = _table(items, self.view)
            if rows:
                self.widths = core.watch_widths(headers, rows)
                shown = rows if self.view.no_headers else [headers, *rows]
                self.console.result("\n".join(output.table_row(r, self.widths) for r in shown))
                for w, r in zip(items, rows, strict=True):  # one row per item
                    self.last[_key(w)] = self._shown(headers, r)
            return
        for w in items:
            self._object("ADDED", w)

    def event(self, etype: str, obj: dict[str, Any]) -> None:
        if not self.view.table:
            self._object(etype, obj)
            return
        headers, rows = _table([obj], self.view, events=etype)
        row, shown = rows[0], self._shown(headers, rows[0])
        if etype == "DELETED":
            self.last.pop(_key(obj), None)
        elif self.last.get(_key(obj)) == shown:
            return
        else:
            self.last[_key(obj)] = shown
        if self.widths is None:  # the list was empty: the first change prints the headers
            self.widths = core.watch_widths(headers, [row])
            if not self.view.no_headers:
                self.console.result(output.table_row(headers, self.widths))
        self.console.result(output.table_row(row, self.widths))

    def _shown(self, headers: list[str], row: list[str]) -> list[str]:
        """The cells that tell a change: all but AGE (and EVENT)."""
        age = headers.index("AGE")
        return [c for i, c in enumerate(row) if i != age and not (self.view.events and i == 0)]

    def _object(self, etype: str, obj: dict[str, Any]) -> None:
        import json  # noqa: PLC0415

        obj = _with_kind(obj, self.cluster)
        fmt = str(self.view.fmt)
        if fmt == "json" and self.view.events:
            event = {"type": etype, "object": obj}
            self.console.result(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        elif fmt == "json":
            self.console.result(output.to_json(obj))
        elif fmt == "yaml":
            doc = {"object": obj, "type": etype} if self.view.events else obj
            text = output.to_yaml(doc).rstrip("\n")
            self.console.result(text if not self.documents else "---\n" + text)
        else:
            headers = not self.view.no_headers and not self.documents
            output.write_objects(self.console, obj, fmt, headers=headers)
        self.documents += 1


def _key(ws: dict[str, Any]) -> tuple[str, str]:
    meta = ws.get("metadata") or {}
    return (str(meta.get("namespace")), str(meta.get("name")))


def _with_kind(ws: dict[str, Any], cluster: Resources) -> dict[str, Any]:
    if "kind" in ws and "apiVersion" in ws:
        return ws
    return {"apiVersion": f"kaito.sh/{cluster.workspace_version()}", "kind": "Workspace", **ws}


def _diagnose(
    app: AppContext, targets: list[str], fmt: str | None, diagnose: bool, bundle: str | None, other: bool
) -> None:
    """`status NAME --diagnose [--bundle DIR]`: the same as `kubectl kaito diagnose NAME`."""
    from kubectl_kaito.commands import diagnose as command  # noqa: PLC0415

    if not diagnose:
        raise UsageError("--bundle needs --diagnose", hint="kubectl kaito status NAME --diagnose --bundle DIR")
    if len(targets) != 1 or other:
        raise UsageError(
            "--diagnose takes exactly one workspace name (no -A, -w)", hint="kubectl kaito status NAME --diagnose"
        )
    if fmt not in (None, *command.FORMATS):
        raise UsageError(f"--diagnose prints text, json or yaml, not {fmt}", hint="use -o json or -o yaml")
    command.run(app, targets[0], bundle)


# ---- InferenceSets (issue 14) ---------------------------------------------------------------------


def _list_with_sets(
    console: Console,
    cluster: Resources,
    items: list[dict[str, Any]],
    namespace: str | None,
    view: _View,
    label_selector: str | None,
) -> Result | None:
    """The table with each InferenceSet as one row (`is/NAME`, STATUS `ready/desired ready`) and its
    replica Workspaces folded into it (`status -l inferenceset.kaito.sh/created-by=NAME` lists them)."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415
    from kubectl_kaito.errors import ForbiddenError  # noqa: PLC0415

    try:
        sets = cluster.list_inferencesets(namespace, all_namespaces=namespace is None, label_selector=label_selector)
    except ForbiddenError:  # may not list InferenceSets: the Workspaces alone, as before
        sets = []
    if not sets:
        return _items_result(console, cluster, items, view)
    shown = inferenceset.hide_replicas(items, sets)
    headers, rows = _table(_ordered([_with_kind(w, cluster) for w in shown], view), view)
    set_rows = [[inferenceset.list_cell(s, h) for h in headers] for s in sets]
    rows = rows + set_rows
    if not view.sort_by:
        ns_col = headers.index("NAMESPACE") if "NAMESPACE" in headers else None
        name_col = headers.index("NAME")
        rows.sort(key=lambda r: ((r[ns_col] if ns_col is not None else ""), r[name_col].removeprefix("is/")))
    if view.no_headers:
        widths = output.column_widths(headers, rows)
        return Text("\n".join(output.table_row(r, widths) for r in rows))
    return Table(headers, rows)


def _set_row(iset: dict[str, Any], headers: list[str]) -> list[str]:
    """An InferenceSet's row in the workspace table (`status a SET`): as in the list, `is/NAME` and
    `ready/desired ready`."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415

    return [inferenceset.list_cell(iset, h) for h in headers]


def _watched_workspace(cluster: Resources, name: str, namespace: str) -> dict[str, Any]:
    """`status NAME -w -o FORMAT`: the Workspace; an InferenceSet of that name is refused as `status SET -w`."""
    from kubectl_kaito import kaito  # noqa: PLC0415

    try:
        return cluster.get_workspace(name, namespace)
    except NotFoundError:
        if cluster.find_inferenceset(name, namespace) is None:
            raise
        raise UsageError(
            "--watch shows Workspaces; an InferenceSet is shown once",
            hint=f"watch its replicas with: kubectl kaito status -l "
            f"{kaito.LABEL_CREATED_BY_IS}={name} -n {namespace} -w",
        ) from None


def _note_sets(console: Console, cluster: Resources, namespace: str | None, label_selector: str | None) -> None:
    """`status -w` follows Workspaces (one watch, as `kubectl get workspaces -w`): the sets are not rows of it
    and their replicas show under their own names, so say so on stderr (one LIST; nothing when none)."""
    from kubectl_kaito.errors import ForbiddenError  # noqa: PLC0415

    try:
        sets = cluster.list_inferencesets(namespace, all_namespaces=namespace is None, label_selector=label_selector)
    except ForbiddenError:
        return
    names = sorted({str((s.get("metadata") or {}).get("name")) for s in sets})
    if names:
        console.info(
            f"note: the watch shows Workspaces: the replicas of InferenceSet {', '.join(names)} appear as "
            "their own Workspaces (NAME-xxxxx); `kubectl kaito status` without -w shows each set as one row"
        )
