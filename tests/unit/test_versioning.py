"""The patches in the workflow code and the table of them in docs/versioning.md agree: every
``workflow.patched(id)`` and ``workflow.deprecate_patch(id)`` in ``workflows/`` is listed with
its stage, and every patch listed is in the code at that stage. A patch nobody tracks is never
deprecated, and a listed one that is gone says a stage was skipped."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
VERSIONING = ROOT / "docs" / "versioning.md"

STAGES = {"patched": "patched", "deprecate_patch": "deprecated"}
"""The stage each call marks."""

HEADER = re.compile(r"^\|\s*Patch id\s*\|\s*Stage\s*\|")


def _constants(trees: list[ast.Module]) -> dict[str, str]:
    """Module-level string constants (``FLAT = "flat-means-flat"``), by name."""
    found: dict[str, str] = {}
    for tree in trees:
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value.value
    return found


def patches_in(sources: list[str]) -> dict[str, str]:
    """Each patch id the sources call ``patched``/``deprecate_patch`` with, and its stage. An
    id must be a string literal or a module-level constant, so that it can be read here."""
    trees = [ast.parse(source) for source in sources]
    constants = _constants(trees)
    found: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in STAGES:
                continue
            assert node.args, f"line {node.lineno}: {name}() without a patch id"
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                patch = arg.value
            elif isinstance(arg, ast.Name) and arg.id in constants:
                patch = constants[arg.id]
            else:
                raise AssertionError(
                    f"line {node.lineno}: {name}() with an id that is neither a string nor a "
                    "module constant"
                )
            found[patch] = STAGES[name]
    return found


def listed_in(markdown: str) -> dict[str, str]:
    """The table under the ``| Patch id | Stage |`` header: each id and its stage."""
    lines = markdown.splitlines()
    start = next((n for n, line in enumerate(lines) if HEADER.match(line)), None)
    assert start is not None, "no table of patches (| Patch id | Stage | ...)"
    listed: dict[str, str] = {}
    for line in lines[start + 2 :]:  # past the header and its separator
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        listed[cells[0].strip("`")] = cells[1].strip("`")
    return listed


def test_the_code_and_the_table_agree() -> None:
    sources = [path.read_text() for path in sorted(WORKFLOWS.rglob("*.py"))]
    assert sources, f"no workflow code under {WORKFLOWS}"
    assert patches_in(sources) == listed_in(VERSIONING.read_text())


def test_a_patch_is_found_by_its_literal_or_its_constant() -> None:
    source = (
        'FLAT = "flat-means-flat"\n'
        "def run():\n"
        "    if workflow.patched(FLAT): pass\n"
        '    workflow.deprecate_patch("poll-after-carry-out")\n'
    )
    assert patches_in([source]) == {
        "flat-means-flat": "patched",
        "poll-after-carry-out": "deprecated",
    }


def test_a_patch_id_that_cannot_be_read_is_refused() -> None:
    with pytest.raises(AssertionError, match="neither a string nor a module constant"):
        patches_in(["def run(): workflow.patched(make_id())\n"])


def test_the_table_is_read_row_by_row_until_it_ends() -> None:
    markdown = (
        "Intro.\n\n"
        "| Patch id | Stage | Since | What changed |\n"
        "| -------- | ----- | ----- | ------------ |\n"
        "| `flat-means-flat` | patched | 0.2.0 | retries unsold shares |\n"
        "| `holdings-reconciler` | `deprecated` | 0.1.0 | holdings checked outside |\n"
        "\nAfter the table: | not | a row |\n"
    )
    assert listed_in(markdown) == {
        "flat-means-flat": "patched",
        "holdings-reconciler": "deprecated",
    }
    assert listed_in("| Patch id | Stage |\n| --- | --- |\n") == {}
