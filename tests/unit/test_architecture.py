"""The house rules of docs/design.md, read from the source (ast), so a break fails here, not in review:

- the product's modules form no import cycle (a function-local import counts: a lazy import is
  still a dependency; only `if TYPE_CHECKING:` blocks are left out);
- only resources.py builds API paths, only client.py uses the transport, and no command builds a
  client or imports the transport.
"""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[2] / "kubectl_kaito"
API_PATH = re.compile(r"(^|[^\w.])/apis?(/|$)")


def _product_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "sim" not in p.relative_to(PACKAGE).parts)


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal and f-string piece, docstrings left out (they may name paths)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_only_resources_builds_api_paths() -> None:
    found = []
    for path in _product_modules():
        if path.name == "resources.py":
            continue
        for line, text in _strings(ast.parse(path.read_text())):
            if API_PATH.search(text):
                found.append(f"{path.relative_to(PACKAGE)}:{line}: {text!r}")
    assert found == [], "API paths outside resources.py:\n" + "\n".join(found)


def test_only_the_client_imports_the_transport() -> None:
    users = [
        str(p.relative_to(PACKAGE))
        for p in _product_modules()
        if p.name not in ("client.py", "transport.py")
        and "kubectl_kaito.transport" in _imports(ast.parse(p.read_text()))
    ]
    assert users == []


# the old monolith (kubectl_kaito.cluster) is listed so that it never comes back under its own name
FORBIDDEN_IN_COMMANDS = {
    "kubectl_kaito.client",
    "kubectl_kaito.transport",
    "kubectl_kaito.credentials",
    "kubectl_kaito.cluster",
    "kubectl_kaito.client.Client",
    "kubectl_kaito.cluster.Cluster",
}


def test_commands_do_not_build_clients() -> None:
    """Commands reach the cluster through `app.resources()` only (models once built its own client)."""
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in sorted((PACKAGE / "commands").glob("*.py"))
        if FORBIDDEN_IN_COMMANDS & _imports(ast.parse(p.read_text()))
    ]
    assert offenders == []


class _Recorder:
    """A stand-in client under the real resources layer: records every path it is asked for."""

    namespace = "default"
    server = "https://stand-in"

    def __init__(self) -> None:
        self.paths: list[str] = []

    def _answer(self, path: str, *args: object, **kwargs: object) -> dict:
        self.paths.append(path)
        return {"items": [], "metadata": {}}

    get = list = create = delete = patch = _answer

    def watch(self, path: str, *args: object, **kwargs: object) -> builtins.list[Any]:  # `list` is a method here
        self.paths.append(path)
        return []

    def stream_lines(self, path: str, *args: object, **kwargs: object) -> builtins.list[Any]:
        self.paths.append(path)
        return []


def test_every_path_segment_is_quoted() -> None:
    from kubectl_kaito.resources import Resources

    rec = _Recorder()
    r = Resources(rec)  # type: ignore[arg-type]  # a recording stand-in for the Client
    odd, ns = "a/b?c#d", "n s/x"
    r.get_workspace(odd, ns)
    r.list_workspaces(ns)
    r.delete_workspace(odd, ns)
    list(r.watch_workspaces(ns))
    r.get_service(odd, ns)
    r.workspace_service(odd, ns)
    r.list_pods(ns)
    r.list_events(ns)
    r.list_ingresses(ns)
    r.get_configmap(odd, ns)
    r.create_configmap({"metadata": {"name": odd, "namespace": ns}})
    r.delete_configmap(odd, ns)
    r.patch_configmap(odd, {}, ns)
    r.get_deployment(odd, ns)
    r.get_crd(odd)
    list(r.stream_logs(ns, odd))
    rec.paths.append(r.proxy_path(ns, odd, "http", "/v1/models"))
    assert len(rec.paths) == 17
    for path in rec.paths:
        assert "a/b" not in path and "?" not in path and "#" not in path and " " not in path, path
        assert "a%2Fb%3Fc%23d" in path or "n%20s%2Fx" in path, path


# ---- no import cycle ------------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those inside `if TYPE_CHECKING:` (type-only imports are no dependency)."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
            else:
                stack.append(child)
    return out


def _import_graph() -> dict[str, set[str]]:
    """module -> the product modules it imports at run time (module level or inside functions)."""
    paths = {_module_name(p): p for p in _product_modules()}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets.add(node.module)
                targets.update(f"{node.module}.{a.name}" for a in node.names)
        # `pkg` importing `pkg.sub` is containment, not a cycle
        graph[name] = {t for t in targets if t in paths and t != name and not t.startswith(name + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return path[path.index(t) :] + [t]
            if t not in state and (found := visit(t)):
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_product_has_no_import_cycle() -> None:
    graph = _import_graph()
    assert len(graph) > 20 and "kubectl_kaito.cli" in graph  # the scan sees the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_a_cycle_is_found_when_there_is_one() -> None:
    graph = _import_graph()
    graph["kubectl_kaito.errors"] = graph["kubectl_kaito.errors"] | {"kubectl_kaito.cli"}  # cli imports errors
    assert find_cycle(graph) is not None
