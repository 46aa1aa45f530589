"""The one rule of dependencies: contexts <- keys <- verifier <- issuer; wallet_export: the core.

Walks every module's imports with ``ast`` (STYLE §1) and fails when a ring reaches outward.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("contexts", "keys", "verifier", "issuer", "wallet_export")
FORBIDDEN: dict[str, set[str]] = {
    "contexts": {
        "keys",
        "verifier",
        "issuer",
        "wallet_export",
        "flask",
        "sqlalchemy",
        "socket",
        "urllib",
        "http",
        "requests",
        "aiohttp",
        "httpx",
    },
    "keys": {"verifier", "issuer", "wallet_export", "flask", "sqlalchemy"},
    "verifier": {"issuer", "wallet_export", "sqlalchemy"},
    "wallet_export": {"issuer", "sqlalchemy"},
    "issuer": {"wallet_export.db"},
}
#: Only these verifier modules are web adapters and may import Flask.
FLASK_ADAPTERS = ("verifier/app.py", "verifier/web/")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_inward(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    package = rel.split("/")[0]
    bad = {
        name
        for name in _imports(path)
        for banned in FORBIDDEN[package]
        if name == banned or name.startswith(banned + ".")
    }
    if package == "verifier" and not rel.startswith(FLASK_ADAPTERS):
        bad |= {n for n in _imports(path) if n == "flask" or n.startswith("flask.")}
    if path.name == "__init__.py":
        bad |= {n for n in _imports(path) if n == "flask" or n.startswith("flask.")}
    assert not bad, f"{rel} imports {sorted(bad)}, outside its ring"


def test_the_walk_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself: a module importing the issuer is caught."""
    module = tmp_path / "m.py"
    module.write_text("import issuer.app\nfrom flask import Flask\n")
    assert {"issuer.app", "flask"} <= _imports(module)
