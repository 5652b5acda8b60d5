"""The benchmark pages are made from the recorded results, never edited by hand: a page
changed by hand, or a result file not rendered, fails here. And every benchmark records: each
one the index lists writes its figures through ``bench.record`` under its own name and group,
takes ``--notes``, and no benchmark's entry point is missing from the index."""

import ast
from pathlib import Path

import pytest
from bench.render import BENCHES, PAGES, RESULTS, ROOT, load, pages
from bench.scale.scale_bench import PHASES

GROUPS = ("micro", "stack", "scale", "chaos")


def test_the_committed_pages_are_what_the_results_make() -> None:
    for name, text in pages(load()).items():
        assert (PAGES / name).read_text() == text, f"run python -m bench.render ({name})"


def test_every_result_file_is_a_known_benchmark_and_on_the_index() -> None:
    index = (PAGES / "index.md").read_text()
    for path in RESULTS.glob("*.json"):
        assert path.stem in BENCHES
        assert f"`{path.name}`" in index


def _runs(command: str) -> Path:
    """The file a benchmark's command runs (a package run with -m runs its __main__)."""
    path = ROOT.joinpath(*command.split()[2].split("."))
    return path / "__main__.py" if path.is_dir() else path.with_suffix(".py")


def _calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)]


def _named(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_every_benchmark_records_its_figures_under_its_name_and_group(name: str) -> None:
    group, command = BENCHES[name]
    path = _runs(command)
    records = [c for c in _calls(path) if _named(c) == "record"]
    assert records, f"{path.relative_to(ROOT)} never calls record"
    for call in records:
        recorded, in_group = call.args[:2]
        assert isinstance(in_group, ast.Constant) and in_group.value == group
        if isinstance(recorded, ast.Constant):
            assert recorded.value == name
        else:  # the scale phases: scale_<phase>, one name for each
            assert isinstance(recorded, ast.JoinedStr), ast.unparse(recorded)
            assert ast.unparse(recorded).startswith("f'scale_{")
    notes = [c for c in _calls(path) if _named(c) == "add_notes_argument"]
    assert notes, f"{path.relative_to(ROOT)} takes no --notes"


def test_every_scale_phase_has_a_result_name_of_its_own() -> None:
    for phase in PHASES:
        assert BENCHES[f"scale_{phase}"] == (
            "scale",
            f"python -m bench.scale.scale_bench {phase}",
        )


def test_every_benchmark_entry_point_is_on_the_index() -> None:
    listed = {_runs(command) for _, command in BENCHES.values()}
    for group in GROUPS:
        for path in (ROOT / "bench" / group).glob("*.py"):
            text = path.read_text()
            runnable = 'if __name__ == "__main__":' in text or path.name == "__main__.py"
            if runnable or path.name.endswith("_bench.py"):
                assert path in listed, f"{path.relative_to(ROOT)} is not in bench.render.BENCHES"
