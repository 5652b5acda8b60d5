"""The one backoff every retry loop uses: capped, jittered within its bounds, reset by a
success; and the one line each outage logs when it starts and when it ends."""

import random
from typing import Any

import pytest

from campaign_engine.runtime.backoff import Backoff, Jitter, Retry


def test_without_jitter_the_delay_grows_by_the_factor_up_to_the_cap() -> None:
    backoff = Backoff(start=0.5, factor=2, cap=5, jitter="none")
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5, 5]
    assert backoff.attempts == 6


@pytest.mark.parametrize("seed", range(5))
def test_full_jitter_stays_between_zero_and_the_capped_delay(seed: int) -> None:
    backoff = Backoff(start=0.25, factor=2, cap=3, rng=random.Random(seed))
    for _ in range(40):
        ceiling = backoff.ceiling()
        assert ceiling <= 3
        assert 0 <= backoff.next() <= ceiling
    assert backoff.ceiling() == 3


def test_full_jitter_spreads_the_delays() -> None:
    backoff = Backoff(start=1, factor=1, cap=1, rng=random.Random(7))
    delays = [backoff.next() for _ in range(200)]
    assert min(delays) < 0.1 and max(delays) > 0.9  # not all alike: retries spread out


@pytest.mark.parametrize("seed", range(5))
def test_decorrelated_jitter_never_goes_below_the_start_nor_above_the_cap(seed: int) -> None:
    backoff = Backoff(start=0.5, cap=4, jitter="decorrelated", rng=random.Random(seed))
    previous = 0.5
    for _ in range(40):
        delay = backoff.next()
        assert 0.5 <= delay <= min(4, 3 * previous)
        previous = delay


def test_the_same_seed_gives_the_same_delays() -> None:
    def delays(seed: int) -> list[float]:
        backoff = Backoff(rng=random.Random(seed))
        return [backoff.next() for _ in range(10)]

    assert delays(3) == delays(3) != delays(4)


def test_a_success_starts_the_next_outage_from_the_start_again() -> None:
    backoff = Backoff(start=0.5, cap=30, jitter="none")
    for _ in range(5):
        backoff.next()
    backoff.reset()
    assert (backoff.attempts, backoff.next()) == (0, 0.5)


@pytest.mark.parametrize(
    ("start", "factor", "cap"), [(0, 2, 1), (2, 2, 1), (0.5, 0.5, 1), (-1, 2, 1)]
)
def test_a_backoff_that_cannot_work_is_refused(start: float, factor: float, cap: float) -> None:
    with pytest.raises(ValueError, match="start"):
        Backoff(start=start, factor=factor, cap=cap)


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends() -> None:
    log, now = Log(), [100.0]
    retry = Retry("database", log, clock=lambda: now[0], loop="relay")
    retry.succeeded()  # nothing was down: nothing to say
    for _ in range(5):
        retry.failed(ConnectionRefusedError("connection refused"))
        now[0] += 2
    assert retry.down
    retry.succeeded()
    retry.succeeded()
    assert log.lines == [
        (
            "dependency_down",
            {
                "what": "database",
                "error": "ConnectionRefusedError: connection refused",
                "loop": "relay",
            },
        ),
        (
            "dependency_recovered",
            {"what": "database", "down_for_s": 10.0, "attempts": 6, "loop": "relay"},
        ),
    ]
    assert retry.backoff.attempts == 0  # the next outage starts from the start


@pytest.mark.parametrize("jitter", ["full", "none"])
def test_a_dependency_down_for_thousands_of_attempts_waits_the_cap_and_the_loop_goes_on(
    jitter: Jitter,
) -> None:
    """2.0 ** 1024 overflows a float: a loop retrying at a capped delay reaches that after a
    thousand failures (hours of an outage), and must wait the cap rather than end."""
    backoff = Backoff(start=0.05, cap=0.05, jitter=jitter, rng=random.Random(1))
    delays = [backoff.next() for _ in range(5_000)]
    assert backoff.ceiling() == 0.05
    assert all(0 <= delay <= 0.05 for delay in delays)
