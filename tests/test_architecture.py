"""The one rule of dependencies: contexts <- keys <- verifier <- issuer; wallet_export: the core.

Walks every module's imports with ``ast`` (STYLE §1) and fails when a ring reaches outward, when
modules import each other in a cycle, when a private name (``_x``) is imported from another
module (or a private module from outside its package), and when a service imports Flask: only
the web adapters and the app factories may.
"""

from __future__ import annotations

import ast
from functools import cache
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
#: The web adapters and app factories: the only modules that may import Flask.
FLASK_ADAPTERS = (
    "verifier/app.py",
    "verifier/web/",
    "issuer/app.py",
    "issuer/web/",
    "wallet_export/oid4vci/web.py",
)


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
    if not rel.startswith(FLASK_ADAPTERS):
        bad |= {n for n in _imports(path) if n == "flask" or n.startswith("flask.")}
    if path.name == "__init__.py":
        bad |= {n for n in _imports(path) if n == "flask" or n.startswith("flask.")}
    assert not bad, f"{rel} imports {sorted(bad)}, outside its ring"


#: The issuer's inner groups: no Flask, and never an adapter (web, app factory, CLI).
ISSUER_INNER = ("issuer/services/", "issuer/db/")
ISSUER_ADAPTERS = ("flask", "issuer.web", "issuer.app", "issuer.cli")


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if p.relative_to(ROOT).as_posix().startswith(ISSUER_INNER)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_issuer_services_and_db_import_no_adapter(path: Path) -> None:
    """``issuer/services/`` and ``issuer/db/`` take a Session, never a request: they import
    neither Flask nor the issuer's adapters (relative imports resolved)."""
    name = _module_name(path, ROOT)
    found = {
        n
        for n in _imports(path) | _issuer_graph()[name]
        for banned in ISSUER_ADAPTERS
        if n == banned or n.startswith(banned + ".")
    }
    assert not found, f"{name} imports {sorted(found)}"
    assert not any(adapter.startswith(ISSUER_INNER) for adapter in FLASK_ADAPTERS)


def test_the_walk_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself: a module importing the issuer is caught."""
    module = tmp_path / "m.py"
    module.write_text("import issuer.app\nfrom flask import Flask\n")
    assert {"issuer.app", "flask"} <= _imports(module)


# --- the module graph: cycles and private names ------------------------------------------------


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:`` (imports for annotations only: no runtime edge)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(sub) for sub in ast.walk(node))
    return inside


def module_graph(root: Path, packages: tuple[str, ...]) -> tuple[dict[str, set[str]], list[str]]:
    """Each module's imports of other modules of ``packages`` (relative imports resolved, local
    ones included), and the private names each imports across modules."""
    paths = {_module_name(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    private: list[str] = []
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skipped = _type_checking_nodes(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                pairs = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                pairs = [(base, alias.name) for alias in node.names]
            else:
                continue
            for module, attribute in pairs:
                target = f"{module}.{attribute}" if f"{module}.{attribute}" in paths else module
                if target in paths and target != name:
                    edges.add(target)
                private.extend(_private_use(name, target, attribute, paths))
        graph[name] = edges
    return graph, private


def _private_use(
    importer: str, target: str, attribute: str | None, paths: dict[str, Path]
) -> list[str]:
    """A private module may be used inside the package that holds it; a private attribute of
    another module may not be used at all."""
    found = []
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:i])
            if not (importer == owner or importer.startswith(owner + ".")):
                found.append(f"{importer} imports the private module {target}")
    if attribute and attribute.startswith("_") and not attribute.startswith("__"):
        if f"{target}" not in paths or not target.endswith("." + attribute):
            found.append(f"{importer} imports the private name {attribute} of {target}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
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


@cache
def _issuer_graph() -> dict[str, set[str]]:
    return module_graph(ROOT, ("issuer",))[0]


def test_no_import_cycles() -> None:
    graph, _ = module_graph(ROOT, PACKAGES)
    assert cycles(graph) == []


def test_no_private_names_across_modules() -> None:
    _, private = module_graph(ROOT, PACKAGES)
    assert private == []


def test_one_module_makes_qr_symbols() -> None:
    """Only ``verifier/qr_symbol.py`` imports ``qrcode``: every QR code (CLI, PDF, exports,
    benchmarks) is laid out and drawn by it, so two renderers cannot drift apart again."""
    sources = _modules() + sorted((ROOT / "bench").rglob("*.py"))
    makers = {
        path.relative_to(ROOT).as_posix()
        for path in sources
        if any(name == "qrcode" or name.startswith("qrcode.") for name in _imports(path))
    }
    assert makers == {"verifier/qr_symbol.py"}


def _synthetic(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


def test_the_graph_sees_a_cycle_and_a_private_import(tmp_path: Path) -> None:
    """The checks themselves, on a synthetic package: a cycle through a function-level import
    and a relative one, a private name, and a private module used from outside its package."""
    root = _synthetic(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import thing\n",
            "pkg/b.py": "def thing():\n    from pkg.c import other\n",
            "pkg/c.py": "import pkg.a\nfrom pkg.d import _hidden\n",
            "pkg/d.py": "_hidden = 1\n",
            "pkg/_inner.py": "",
            "other/__init__.py": "",
            "other/e.py": "from pkg import _inner\n",
        },
    )
    graph, private = module_graph(root, ("pkg", "other"))
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert sorted(private) == [
        "other.e imports the private module pkg._inner",
        "pkg.c imports the private name _hidden of pkg.d",
    ]
    fine, ok = module_graph(
        _synthetic(tmp_path / "fine", {"q/__init__.py": "from . import _own\n", "q/_own.py": ""}),
        ("q",),
    )
    assert cycles(fine) == [] and ok == []


# --- the credential model ring, and signing out of the verifier -----------------------------

#: What the shared credential model (``verifier.model``) may import from the project.
MODEL_MAY_IMPORT = ("contexts", "keys", "verifier.errors", "verifier.model")


def test_the_credential_model_is_a_ring_of_its_own() -> None:
    """Shape rules, the status-list codec and the builder depend on nothing of the verification
    engine, so the issuer shares them without depending on it."""
    graph, _ = module_graph(ROOT, PACKAGES)
    outside = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("verifier.model")
        for target in targets
        if not target.startswith(MODEL_MAY_IMPORT)
    }
    assert outside == set()


def test_the_verifier_does_not_sign() -> None:
    """Issuing code lives in the issuer (``issuer.signing``, ``issuer.bulk_signing``)."""
    signing = ("create_proof", "secure", "sign_credential", "vc_jwt.sign")
    found = [
        (path.relative_to(ROOT).as_posix(), name)
        for path in sorted((ROOT / "verifier").rglob("*.py"))
        for name in signing
        if f"{name}(" in path.read_text(encoding="utf-8")
    ]
    assert found == []
