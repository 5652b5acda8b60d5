"""The long tests are dealt out so that each xdist worker's first slice opens with its share
of them, as worksteal cuts the collection into slices."""

from hypothesis import given
from hypothesis import strategies as st

from tests.support.long_first import dealt, slice_sizes


def test_slices_are_cut_as_worksteal_cuts_them() -> None:
    assert slice_sizes(10, 4) == [2, 2, 3, 3]
    assert slice_sizes(1180, 4) == [295, 295, 295, 295]


def test_each_slice_opens_with_the_long_tests_longest_first() -> None:
    names = [f"t{i}" for i in range(12)]
    seconds = [0.0] * 12
    seconds[5], seconds[9], seconds[10], seconds[11] = 115, 60, 45, 30
    order = dealt(names, seconds, 3)
    slices = [order[0:4], order[4:8], order[8:12]]
    assert [s[0] for s in slices] == ["t5", "t9", "t10"]
    assert "t11" in slices[2][:2]  # the least long work so far: 45 against 115 and 60
    assert [n for n in order if seconds[int(n[1:])] == 0] == [
        n for n in names if seconds[int(n[1:])] == 0
    ]  # the others keep their order


def test_one_worker_keeps_the_collection_order() -> None:
    assert dealt(["a", "b", "c"], [0, 50, 0], 1) == ["a", "b", "c"]


@given(
    st.lists(st.sampled_from([0.0, 0.0, 0.0, 10.0, 60.0]), min_size=0, max_size=60),
    st.integers(1, 6),
)
def test_every_test_is_dealt_once(seconds: list[float], workers: int) -> None:
    names = list(range(len(seconds)))
    order = dealt(names, seconds, workers)
    assert sorted(order) == names
