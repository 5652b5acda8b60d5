"""The order the tests are handed to pytest-xdist's workers: each worker's queue opens with its
share of the long tests (``@pytest.mark.long(seconds=...)``), the longest first.

``--dist worksteal`` hands each of the W workers one contiguous slice of the collection at the
start (``len(pending) // workers_left`` each, in turn) and an idle worker later steals the
*tail* of the longest queue, so a test runs where its slice put it and when the tests before it
there are done. In collection order the chaos run (about 115 s) sat mid-slice and started
four minutes in, the last test to end; dealt out here, the long tests start at once, one
queue each, and the short ones fill in around them.
"""

from collections.abc import Sequence
from typing import TypeVar

Item = TypeVar("Item")


def slice_sizes(count: int, workers: int) -> list[int]:
    """How many of ``count`` tests each worker's first slice holds, as worksteal deals them."""
    sizes = []
    left = count
    for i in range(workers):
        size = left // (workers - i)
        sizes.append(size)
        left -= size
    return sizes


def dealt(items: Sequence[Item], seconds: Sequence[float], workers: int) -> list[Item]:
    """``items`` reordered so that each worker's slice opens with long tests: each long test
    (``seconds`` > 0), longest first, goes to the slice with the least long work so far; the
    rest keep their order and fill each slice up to its size."""
    if workers < 2 or len(items) < workers:
        return list(items)
    sizes = slice_sizes(len(items), workers)
    long = sorted((i for i, s in enumerate(seconds) if s > 0), key=lambda i: -seconds[i])
    heads: list[list[int]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for index in long:
        room = [w for w in range(workers) if len(heads[w]) < sizes[w]]
        chosen = min(room, key=lambda w: load[w])
        heads[chosen].append(index)
        load[chosen] += seconds[index]
    chosen_set = set(long)
    rest = iter(i for i in range(len(items)) if i not in chosen_set)
    order: list[int] = []
    for w in range(workers):
        order += heads[w]
        order += [next(rest) for _ in range(sizes[w] - len(heads[w]))]
    return [items[i] for i in order]
