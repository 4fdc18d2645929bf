"""The layout's rules, read from the source: every import of every module under
`app/` (function-level imports included, so a deferred import cannot hide a cycle).

- no import cycle among the `app.services` modules;
- no module under `app/services` imports `app.web` or `app.routes`;
- a services package's `__init__.py` is one docstring sentence and nothing else.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(APP.rglob("*.py"))}


def imported(path: Path, name: str, known: Iterable[str]) -> set[str]:
    """The app modules `path` imports anywhere in its body (a `from package import
    module` counts as importing the module)."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    # `import app.services.x` names the module itself; keep only what exists in app/.
    return {target for target in found if target in known and target != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(path, name, found) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


def a_cycle(edges: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete loop through the component, to print: a -> b -> ... -> a."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for nxt in sorted(edges[node] & members):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                todo.append(nxt)
    return component


def services_only(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    inside = {n for n in edges if n.startswith("app.services.")}
    return {n: edges[n] & inside for n in inside}


def test_no_import_cycle_among_services() -> None:
    edges = services_only(graph())
    found = cycles(edges)
    loops = "\n".join(" -> ".join(a_cycle(edges, c)) for c in found)
    assert not found, f"import cycles among services:\n{loops}\ncomponents: {found}"


def test_services_never_import_the_web_layer() -> None:
    edges = graph()
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in edges.items()
        if name.startswith("app.services")
        for target in targets
        if target.split(".")[:2] in (["app", "web"], ["app", "routes"])
    )
    assert not wrong, "\n".join(wrong)


def test_service_packages_say_what_they_own_in_one_sentence() -> None:
    wrong = []
    for init in sorted((APP / "services").rglob("__init__.py")):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree)
        body_is_doc = (
            len(tree.body) == 1
            and isinstance(tree.body[0], ast.Expr)
            and isinstance(tree.body[0].value, ast.Constant)
            and isinstance(tree.body[0].value.value, str)
        )
        sentence = " ".join((doc or "").split())
        one_sentence = sentence.endswith(".") and sentence.count(". ") == 0
        if not (body_is_doc and one_sentence):
            wrong.append(f"{init.relative_to(APP.parent)}: {sentence!r}")
    assert not wrong, "not one docstring sentence:\n" + "\n".join(wrong)


def test_the_walk_sees_function_level_imports() -> None:
    """The walker itself: a deferred import is an import."""
    source = "def f():\n    from app.services.signing import signatures\n"
    tree = ast.parse(source)
    names = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert names == ["app.services.signing"]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_importing_the_app_installs_no_hooks_or_listeners() -> None:
    """Session hooks and event listeners come from `app.wiring.install()` (the app
    factory, the CLI, the fixtures), never from importing a module."""
    script = """
import importlib, pathlib, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
root = pathlib.Path("app")
for path in sorted(root.rglob("*.py")):
    if "translations" in path.parts or path.name == "__main__.py":
        continue
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    importlib.import_module(".".join(parts))
from app.services import board_events, events
from app.services.signing import guard, signatures
assert not event.contains(Session, "after_commit", board_events._announce), "board hook"
assert not event.contains(Session, "before_flush", guard.refuse_changes_to_signed), "guard"
assert not events._listeners and not events._wired, "listeners"
assert not signatures._rebuilders, "signature kinds"
import asyncio
try:
    asyncio.run(events.publish(None, object()))
except events.NotWired:
    pass
else:
    raise AssertionError("an event published before wiring must not vanish")
from app import wiring
wiring.install()
assert event.contains(Session, "after_commit", board_events._announce)
assert event.contains(Session, "before_flush", guard.refuse_changes_to_signed)
assert events._wired and events._listeners[events.WorkOrderSigned]
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=APP.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "WALKAROUND_ENV": "test"},
    )
    assert result.stdout.strip().endswith("ok"), result.stderr[-3000:]
