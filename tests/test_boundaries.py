"""Data flows one way: the import boundaries of the product's design, and no import cycles, checked
on the source (every import counts: module-level, inside functions, and type-only ones)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "workers", "wire", "models", "config", "provenance", "bench")
OURS = set(PACKAGES) | {"tests"}
NOT_SHIPPED = {"bench", "tests"}

# package -> top-level modules it must never import
FORBIDDEN = {
    "bot": {"torch", "transformers", "diffusers", "accelerate", "models", "workers"} | NOT_SHIPPED,
    "workers": {"discord", "bot"} | NOT_SHIPPED,
    "models": {"discord", "bot", "workers"} | NOT_SHIPPED,
    "wire": OURS - {"wire"} | {"discord", "torch"},
    "config": OURS - {"config"},
    "provenance": {"torch", "transformers", "diffusers", "discord", "models", "bot", "workers"} | NOT_SHIPPED,
}


def _modules() -> dict[str, Path]:
    """Every module of ours (migrations excluded: Alembic loads them by path), by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imported(path: Path, name: str) -> list[str]:
    """The dotted names a module imports, relative imports resolved; `from a import b` gives `a.b`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names += [f"{base}.{alias.name}" for alias in node.names]
    return names


def _top_level(path: Path, name: str) -> set[str]:
    return {imported.split(".")[0] for imported in _imported(path, name)}


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (the most specific existing module each names)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for imported in _imported(path, name):
            target = imported
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of two or more modules (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_import_boundary(package: str) -> None:
    offenders = []
    for name, path in _modules().items():
        if name.split(".")[0] != package:
            continue
        bad = _top_level(path, name) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_contract_imports_only_pydantic_and_the_standard_library() -> None:
    allowed = {"pydantic", "__future__", "re", "uuid", "datetime", "enum", "typing"}
    assert _top_level(ROOT / "wire" / "contract.py", "wire.contract") <= allowed


def test_no_import_cycles_among_our_modules() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_finds_a_cycle_through_a_type_only_import(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.app import AtelierBot\n"
        "def f():\n    from .sibling import thing\n"
    )
    assert _imported(source, "bot.x.mod") == [
        "typing.TYPE_CHECKING",
        "bot.app.AtelierBot",
        "bot.x.sibling.thing",
    ]
