"""Dependencies run one way (issue 22): the import-linter contracts in pyproject.toml hold, a change
that breaks one fails, and no new cycle appears between apps. import-linter reads every import,
including those inside function bodies, so hiding an import in a function does not get past it."""

from __future__ import annotations

import ast
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["audit", "mes", "administration", "orders", "batches", "materials", "equipment", "quality", "reports"]
APPS.append("integrations")
LINT = str(Path(sys.executable).with_name("lint-imports"))
# Cycles between apps that remain (docs/development.md, "Layers"; their back edges would be the layers
# contract's ignore_imports): none is left, and none may come back.
KNOWN_CYCLES: set[tuple[str, str]] = set()


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_layer_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.fixture
def tree(tmp_path):
    """A copy of the code (Python files only) and of the contracts, to break on purpose."""
    ignore = shutil.ignore_patterns("locale", "static", "templates", "migrations", "__pycache__", "*.mo", "*.po")
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _hide_import_in_a_function(path: Path, statement: str) -> None:
    with path.open("a") as handle:
        handle.write(f"\n\ndef _sneaky():\n    {statement}\n\n    return None\n")


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        ("materials/services/lots.py", "from integrations.services.outbox import outbox_enqueue", "No domain app"),
        ("mes/config.py", "from administration.models import ConfigParameter", "The foundation"),
        ("audit/signatures.py", "from quality.models import Deviation", "The foundation"),
        ("audit/signatures.py", "from mes.security import security_is_locked", "Layers run one way"),
        ("orders/services/orders.py", "from reports import dashboard", "Layers run one way"),
        # The domain runs one way too: quality above batches above orders above materials above equipment.
        ("orders/services/orders.py", "from batches.services import batch_create_from_order", "Layers run one way"),
        ("materials/seed.py", "from quality.seed_evidence import lot_release_on_evidence", "Layers run one way"),
        ("batches/services/hooks.py", "from quality.services import deviation_raise", "Layers run one way"),
        ("equipment/services/__init__.py", "from materials.models import Lot", "Layers run one way"),
    ],
)
def test_an_import_against_the_layers_fails_the_lint(tree, module, statement, contract):
    _hide_import_in_a_function(tree / module, statement)
    result = _lint(tree)
    assert result.returncode != 0
    # "<name> BROKEN", or "<name> BROKEN (n ignored imports)" for the layers contract
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), result.stdout


def test_an_ignored_back_edge_that_no_longer_exists_fails_the_lint(tree):
    """The contract's list of back edges not broken yet only shrinks: a stale entry is an error."""
    toml = tree / "pyproject.toml"
    text = toml.read_text()
    assert "ignore_imports = []" in text  # no back edge is left
    toml.write_text(
        text.replace("ignore_imports = []", 'ignore_imports = ["orders.services.orders -> batches.services"]')
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert "orders.services.orders -> batches.services" in result.stdout + result.stderr


def _app_cycles() -> set[tuple[str, str]]:
    graph = grimp.build_graph(*APPS)
    return {
        tuple(sorted((a, b)))
        for a, b in itertools.combinations(APPS, 2)
        if graph.chain_exists(importer=a, imported=b, as_packages=True)
        and graph.chain_exists(importer=b, imported=a, as_packages=True)
        and _direct(graph, a, b)
        and _direct(graph, b, a)
    }


def _direct(graph, importer: str, imported: str) -> bool:
    return bool(graph.find_matching_direct_imports(import_expression=f"{importer}.** -> {imported}.**"))


def test_no_new_cycle_between_apps():
    cycles = _app_cycles()
    assert cycles <= KNOWN_CYCLES, f"new cycles between apps: {sorted(cycles - KNOWN_CYCLES)}"
    assert ("administration", "audit") not in cycles and ("administration", "mes") not in cycles
    assert ("audit", "mes") not in cycles  # audit is the lowest layer


# --- No import inside a function body (issue 22) ---------------------------------------------------
# An import inside a function hides a dependency from the reader (and, before import-linter read it,
# from the lint) and usually dodges a cycle that is a layering problem: fix that with a registry or an
# event (docs/development.md, "Layers"). The only function-body imports left, each for its reason:
LAZY_IMPORT_REASONS = {
    "apps.py": "Django imports <app>/apps.py before any model exists: AppConfig.ready() (and the post_migrate "
    "handlers it connects) is where an app imports its models and fills the registries of the apps below it",
    "weasyprint": "WeasyPrint loads Pango, Cairo and the fonts (a second and tens of MB): only a process that "
    "renders a PDF (batch record, report, label) pays for it",
    "fontTools": "fontTools reads the PDF fonts' character maps, once, when the first batch record PDF is rendered",
}
# Migrations are generated code whose RunPython functions must use apps.get_model(); they are not walked.


def _function_body_imports() -> list[tuple[str, int, str, str]]:
    """(path, line, function, imported module) for every import inside a function of an app module."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            tree = ast.parse(path.read_text(), filename=rel)
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.Import):
                        found += [(rel, node.lineno, function.name, alias.name) for alias in node.names]
                    elif isinstance(node, ast.ImportFrom):
                        found.append((rel, node.lineno, function.name, "." * node.level + (node.module or "")))
    # A nested function's import is found from the outer function too: report it once.
    return sorted({(rel, line, "", module): (rel, line, name, module) for rel, line, name, module in found}.values())


def _lazy_reason(rel: str, module: str) -> str | None:
    if rel.endswith("/apps.py"):
        return LAZY_IMPORT_REASONS["apps.py"]
    return LAZY_IMPORT_REASONS.get(module.split(".")[0])


def test_no_import_inside_a_function_body():
    """Every import of an app module is at module level, but for the reasons listed above."""
    unexplained = [
        f"{rel}:{line} in {name}(): import {module}"
        for rel, line, name, module in _function_body_imports()
        if _lazy_reason(rel, module) is None
    ]
    assert not unexplained, "move these imports to module level (a cycle: a registry or an event):\n" + "\n".join(
        unexplained
    )


def test_every_lazy_import_reason_is_still_needed():
    """The list of reasons only shrinks: a reason no import uses any more is removed."""
    used = {
        "apps.py" if rel.endswith("/apps.py") else module.split(".")[0]
        for rel, _line, _name, module in _function_body_imports()
    }
    assert set(LAZY_IMPORT_REASONS) <= used, sorted(set(LAZY_IMPORT_REASONS) - used)


def test_a_function_body_import_fails(tmp_path, monkeypatch):
    """The walk finds an import hidden in a nested block of a method, and names where it is."""
    app = tmp_path / "materials"
    app.mkdir()
    (app / "work.py").write_text(
        "class Cards:\n    def cards(self, user):\n        if user:\n            from batches.models import Batch\n"
        "            return Batch\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "APPS", ["materials"])
    assert _function_body_imports() == [("materials/work.py", 4, "cards", "batches.models")]
    with pytest.raises(AssertionError, match=r"materials/work.py:4 in cards\(\): import batches.models"):
        test_no_import_inside_a_function_body()
