"""The architecture's rules, enforced: the import-linter contracts of pyproject.toml (layers go down only,
devnet imported only by the top floor), no import cycle between packages, no module over 500 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "fictra"
LIMIT = 500


def _exempt(rel: Path) -> bool:
    """db's table aggregator and the migrations import every domain by design."""
    return rel.parts[0] == "db" and (rel.name == "models.py" or "migrations" in rel.parts)


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_no_import_cycle_between_packages() -> None:
    graph = grimp.build_graph("fictra", include_external_packages=False)
    packages = sorted({m.split(".")[1] for m in graph.modules if m.count(".") >= 1})
    for exempt in ("fictra.db.models",):
        for imported in list(graph.find_modules_directly_imported_by(exempt)):
            graph.remove_import(importer=exempt, imported=imported)
    cycles = []
    for i, a in enumerate(packages):
        for b in packages[i + 1 :]:
            ab = graph.direct_import_exists(importer=f"fictra.{a}", imported=f"fictra.{b}", as_packages=True)
            ba = graph.direct_import_exists(importer=f"fictra.{b}", imported=f"fictra.{a}", as_packages=True)
            if ab and ba:
                cycles.append(f"{a} <-> {b}")
    assert cycles == []


def test_no_module_over_the_limit() -> None:
    big = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if _exempt(rel):
            continue
        lines = path.read_text().count("\n")
        if lines > LIMIT:
            big.append(f"{rel}: {lines} lines")
    assert big == []


def test_no_assert_in_product_code() -> None:
    """Validation never uses `assert` (it vanishes under python -O); ruff's S101 is on for src/ too."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assert):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found == []
