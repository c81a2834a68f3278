"""workers/ imports point one way: settings and keys at the bottom, actors at the top."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "workers"
LAYERS = ["settings", "keys", "metrics", "clocks", "notify_config", "connections", "pending", "context",
          "wakeup", "maintenance", "sweeper", "middleware", "broker", "actors", "inprocess"]
"""Bottom to top: a module may import only modules listed before it."""


def imported_workers_modules(path: Path) -> set[str]:
    """Every ``workers.X`` a module imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "workers":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("workers."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("workers."))
    return found


def test_every_module_of_the_package_has_a_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(LAYERS)


def test_each_module_imports_only_modules_below_it():
    """No circle: a module never imports (even lazily) one at its own level or above."""
    upward = []
    for level, name in enumerate(LAYERS):
        for target in imported_workers_modules(PACKAGE / f"{name}.py"):
            if target not in LAYERS[:level]:
                upward.append(f"workers.{name} imports workers.{target}")
    assert upward == []
