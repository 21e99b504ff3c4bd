"""The architecture's import rules, checked on the source (ARCHITECTURE.md, core/README.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "palmares"

# package → palmares packages it may import (besides itself)
ALLOWED = {
    "core": set(),
    "stats": set(),
    "metrics": {"core", "stats", "_plugins"},
    "tasks": {"core", "metrics", "_plugins"},
    "backends": {"core", "_plugins"},
    "engine": {"core", "metrics", "stats", "tasks", "backends", "_version"},
    "testing": set(),
    "store": {"core"},
    "campaigns": {"core", "store", "tasks", "engine", "metrics", "stats", "backends", "_version"},
    "web": {"core", "store", "campaigns", "tasks", "engine", "metrics", "stats", "_version"},
    "packs": {"core", "metrics", "stats", "tasks", "_plugins"},
    "demo": {"core", "backends", "engine", "tasks", "store", "campaigns"},
}
CORE_THIRD_PARTY = {"pydantic", "numpy"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_lower_layers(package: str) -> None:
    for path in (SRC / package).rglob("*.py"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "palmares" or len(parts) < 2:
                continue
            target = parts[1]
            assert target == package or target in ALLOWED[package], (
                f"{path.relative_to(SRC)} imports {name}: {package} may not depend on {target}"
            )


def test_core_is_pure() -> None:
    """core imports only the standard library, pydantic and numpy, and does no I/O."""
    import sys

    stdlib = set(sys.stdlib_module_names)
    forbidden_calls = {"open", "read_text", "read_bytes", "write_text", "write_bytes"}
    for path in (SRC / "core").rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert top in stdlib | CORE_THIRD_PARTY | {"palmares"}, f"{path.name} imports {name}"
            assert top not in {"os", "pathlib", "io", "socket", "subprocess"}, (
                f"{path.name} imports {name}: the core does no I/O"
            )
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                called = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
                assert called not in forbidden_calls, f"{path.name} calls {called}()"


def test_nothing_imports_the_cli() -> None:
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "cli"):
            continue
        assert not any(n.startswith("palmares.cli") for n in _imports(path)), path
