"""The shape of the code: modules of a screenful of screens, no import cycles, floors kept.

The ground floor (clock, errors, extensions, the audit log, membership, permissions, settings,
urls, the outbox and mail, files, statistics, logs, metrics) is what every domain builds on; it
never imports a domain, so a domain can never be half-imported when the ground floor needs it.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "jala"
MAX_LINES = 500
GROUND_FLOOR = {"jala.clock", "jala.errors", "jala.extensions", "jala.audit", "jala.membership",
                "jala.permissions", "jala.settings", "jala.urls", "jala.jobs", "jala.mail",
                "jala.files", "jala.stats", "jala.logs", "jala.metrics",
                "jala.replicas"}
# the models the ground floor may read: member libraries and users
GROUND_FLOOR_MAY_IMPORT = GROUND_FLOOR | {"jala.accounts.models", "jala.accounts"}


def _modules():
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name, path):
    """Modules of jala that ``name`` imports, at module level or inside functions."""
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = ".".join(base[:len(base) - node.level + 1] + ([module] if module else []))
            candidates = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        # ``from jala import clock`` names the module, not the app factory in jala/__init__;
        # and a package importing its own modules is wiring, not a dependency
        found |= {c for c in candidates if c in MODULES and c not in (name, "jala")
                  and not c.startswith(name + ".")}
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_no_module_is_longer_than_500_lines():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these by subject: {long}"


def test_no_two_modules_import_each_other_even_inside_functions():
    def reaches(start, goal, seen):
        for nxt in GRAPH[start]:
            if nxt == goal or (nxt not in seen and not seen.add(nxt)
                               and reaches(nxt, goal, seen)):
                return True
        return False

    cycles = sorted(name for name in GRAPH if reaches(name, name, set()))
    assert not cycles, f"modules in an import cycle: {cycles}"


@pytest.mark.parametrize("module", sorted(GROUND_FLOOR))
def test_the_ground_floor_never_imports_a_domain(module):
    upward = GRAPH[module] - GROUND_FLOOR_MAY_IMPORT
    assert not upward, f"{module} imports {sorted(upward)}: move the shared piece down instead"


def test_a_blueprint_package_only_creates_its_blueprint():
    for name, path in MODULES.items():
        if path.name == "__init__.py" and name != "jala":
            assert not _imports(name, path), f"{name} imports more than Flask"
