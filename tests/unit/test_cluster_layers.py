"""The cluster access layers hold: only resources.py builds API paths, only client.py uses the transport.

Read from the source (ast), so a new module that formats `/api/v1/...` itself or opens sockets
around the client fails here, not in review.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

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

    def watch(self, path: str, *args: object, **kwargs: object) -> list:
        self.paths.append(path)
        return []

    def stream_lines(self, path: str, *args: object, **kwargs: object) -> list:
        self.paths.append(path)
        return []


def test_every_path_segment_is_quoted() -> None:
    from kubectl_kaito.resources import Resources

    rec = _Recorder()
    r = Resources(rec)  # type: ignore[arg-type]
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
