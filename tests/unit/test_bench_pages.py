"""The benchmark pages are made from the recorded results, never edited by hand: a page
changed by hand, or a result file not rendered, fails here."""

from bench.render import BENCHES, PAGES, RESULTS, load, pages


def test_the_committed_pages_are_what_the_results_make() -> None:
    for name, text in pages(load()).items():
        assert (PAGES / name).read_text() == text, f"run python -m bench.render ({name})"


def test_every_result_file_is_a_known_benchmark_and_on_the_index() -> None:
    index = (PAGES / "index.md").read_text()
    for path in RESULTS.glob("*.json"):
        assert path.stem in BENCHES
        assert f"`{path.name}`" in index
