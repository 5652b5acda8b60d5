"""Each figure and each test of a campaign is written once, and every screen reads it from
there: risk as a percentage of equity and the sum of open and reserved risk (domain/risk.py),
"still holds shares" (``Position.holds_shares``) and the symbol's rule (domain/types.py).
A second spelling anywhere in the code fails here, before two screens can disagree."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "campaign_engine"
RISK = PACKAGE / "domain" / "risk.py"
POSITIONS = PACKAGE / "domain" / "positions.py"
TYPES = PACKAGE / "domain" / "types.py"


def _sources() -> Iterator[Path]:
    """The project's code: the package (its workflows and activities are links to the
    top-level folders, read once from there) and the worker."""
    for folder in (PACKAGE, ROOT / "workflows", ROOT / "activities"):
        for path in sorted(folder.rglob("*.py")):
            if path.is_symlink() or any(p.is_symlink() for p in path.parents if p != ROOT):
                continue
            if "migrations" not in path.parts:
                yield path


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _calls(tree: ast.AST, function: str) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == function:
            yield node


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def test_there_are_sources_to_read() -> None:
    found = {p.relative_to(ROOT).as_posix() for p in _sources()}
    assert {"workflows/details.py", "src/campaign_engine/db/records.py"} <= found


def test_risk_becomes_a_percentage_in_one_place() -> None:
    """Nothing but ``percent_of_equity`` (domain/risk.py) divides a risk by equity with the
    exact ``percent_of`` (the Temporal UI once did, unrounded)."""
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        for call in _calls(tree, "percent_of"):
            if "risk" in ast.unparse(call).lower() and not _within_definition(tree, call):
                found.append(_where(path, call))
    assert found == []


def _within_definition(tree: ast.AST, call: ast.Call) -> bool:
    """``call`` is in the body of ``percent_of_equity`` itself."""
    return any(
        isinstance(node, ast.FunctionDef)
        and node.name == "percent_of_equity"
        and any(inner is call for inner in ast.walk(node))
        for node in ast.walk(tree)
    )


def _adds_open_and_reserved(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        operands = [node.left, node.right]
    elif isinstance(node, ast.Call) and _name(node.func) == "plus":
        operands = list(node.args)
    else:
        return False
    names = {_name(o) for o in operands}
    return any("open" in n for n in names) and any("reserved" in n for n in names)


# SQL over the stored columns, not a figure shown: a filter (campaigns carrying any risk) and
# an order (the list by committed risk).
_SQL_OVER_COLUMNS = {PACKAGE / "db" / "read_model.py", PACKAGE / "db" / "campaign_listing.py"}


def test_committed_risk_is_summed_in_one_place() -> None:
    found = [
        _where(path, node)
        for path in _sources()
        if path != RISK and path not in _SQL_OVER_COLUMNS
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if _adds_open_and_reserved(node)
    ]
    assert found == []


_HOLDS = re.compile(r"\.open_shares\s*(>|==|!=|<=|<)\s*(0|ZERO|NO_SHARES)\b")

# The same question asked of the stored rows, in SQL (the holdings reconciler; the campaigns
# that marks value).
_SQL = {PACKAGE / "db" / "holdings.py", PACKAGE / "db" / "marks.py"}


def test_holding_shares_is_decided_in_one_place() -> None:
    """Whether a position still holds shares is ``Position.holds_shares``. (db/holdings.py and
    db/marks.py ask the same of the stored rows in SQL, ``open_shares > 0``.)"""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _sources()
        if path != POSITIONS and path not in _SQL
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if _HOLDS.search(line)
    ]
    assert found == []


def test_the_symbol_rule_is_written_once() -> None:
    """Its pattern and its normal form live in domain/types.py; every edge takes a ``Symbol``
    (or ``normalise_symbol``), never its own regex or upper-casing."""
    found = []
    for path in _sources():
        if path == TYPES:
            continue
        text = path.read_text()
        for n, line in enumerate(text.splitlines(), 1):
            if "._/:-" in line or re.search(r"symbol\w*\.(strip\(\)\.)?upper\(\)", line):
                found.append(f"{path.relative_to(ROOT)}:{n}")
    assert found == []
