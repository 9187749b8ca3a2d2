"""Data flows one way: the import boundaries of the product's design, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level modules it must never import
FORBIDDEN = {
    "bot": {"torch", "transformers", "diffusers", "accelerate", "models"},
    "workers": {"discord"},
    "models": {"discord"},
    "provenance": {"torch", "transformers", "diffusers", "discord", "models", "bot"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_import_boundary(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imports(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_contract_imports_only_pydantic_and_the_standard_library() -> None:
    allowed = {"pydantic", "__future__", "re", "uuid", "datetime", "enum", "typing"}
    assert _imports(ROOT / "workers" / "contract.py") <= allowed
