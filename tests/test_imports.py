"""The packages' import graph has no cycle: every import counts, those inside functions too (a lazy
import only hides a cycle), except imports for type checking alone."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("harness", "reference_impl")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The package modules `path` imports, resolved against `known`."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from . import x` imports the submodule x; `from .m import name` imports the module m.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known}
    return found - {name}


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    known = set(paths)
    return {name: imported(path, name, known) for name, path in paths.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the modules along it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_packages():
    found = cycle(graph())
    assert found is None, " -> ".join(found or [])


LAYERS = ("cli", "tools", "spec", "worlds", "rankside", "records", "procs")
"""The package's subpackages from the top down (docs/architecture.md): a module imports only its own
layer and those below it; the top of `harness/` (the public paths, errors, locations) stands outside."""


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    def layer(name: str) -> int | None:
        parts = name.split(".")
        return LAYERS.index(parts[1]) if parts[0] == "harness" and len(parts) > 1 and parts[1] in LAYERS else None

    return sorted(
        f"{source} -> {target}"
        for source, targets in edges.items()
        for target in targets
        if layer(source) is not None and layer(target) is not None and layer(target) < layer(source)
    )


def test_no_import_runs_back_up_the_layers():
    assert upward_imports({"harness.records.report": {"harness.worlds.stall"}}) == [
        "harness.records.report -> harness.worlds.stall"
    ]
    assert upward_imports(graph()) == []
