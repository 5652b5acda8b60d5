"""The benchmarks stand on the package alone: every bench module imports, none imports from
the tests, and none reaches for another package's private names (a private name may change
without notice, and a benchmark that breaks then is found only when someone runs it)."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
MODULES = sorted(
    ".".join(path.relative_to(BENCH.parent).with_suffix("").parts)
    for path in BENCH.rglob("*.py")
    if path.name != "__main__.py"
)
GROUPS = ("micro", "stack", "scale", "chaos")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of each import statement in ``path``, relative ones resolved."""
    package = ".".join(path.relative_to(BENCH.parent).parts[:-1])
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found.append((module, [alias.name for alias in node.names]))
    return found


def test_the_benchmarks_lie_in_their_groups() -> None:
    loose = [
        p.name
        for p in BENCH.glob("*.py")
        if p.name not in {"__init__.py", "render.py", "record.py"}
    ]
    assert loose == []
    for group in GROUPS:
        assert ast.get_docstring(ast.parse((BENCH / group / "__init__.py").read_text()))


@pytest.mark.parametrize("module", MODULES)
def test_every_bench_module_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("path", sorted(BENCH.rglob("*.py")), ids=lambda p: p.name)
def test_bench_imports_nothing_from_the_tests_nor_private_names(path: Path) -> None:
    package = ".".join(path.relative_to(BENCH.parent).parts[:-1])
    for module, names in _imports(path):
        assert module.split(".")[0] != "tests", f"{path.name} imports {module}"
        foreign = module.rsplit(".", 1)[0] != package
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not (foreign and private), f"{path.name} imports {private} from {module}"
