"""The dates a live play of a scenario takes: its own bars and signal times, all moved by one
whole-day shift.

The shift changes no outcome (every rule counts bars and the time between them, and the time
of day is kept); it is chosen so that

- the ranges' campaign ids (symbol and start date) are new to the stack;
- every bar is later than any bar the stack already holds of the scenario's symbols: the price
  publisher passes no campaign a bar older than one its symbol has sent (``too_old``);
- where the stack leaves room, the last bar is before now: the latest such shift, so that the
  page shows recent dates. A stack that has just played the scenario leaves none, and the next
  play follows the last one into the days to come (a label like any other: no server's clock
  is compared with market time).

The wall clock only picks these labels; nothing decided depends on it.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from campaign_engine.scenarios.model import Scenario, ScenarioRange
from campaign_engine.scenarios.stack_api import decimal_or_none, time_or_none

DAY = timedelta(days=1)
SEARCHED_DAYS = 366  # how many start dates each way a play tries before it gives up
_LEVELS = ("creek", "ice", "jump", "spring_low")


def first_and_last(scenario: Scenario) -> tuple[datetime, datetime]:
    """The market times of the scenario's first and last bars (of any symbol)."""
    return min(u.as_of for u in scenario.bars[0]), max(u.as_of for u in scenario.bars[-1])


def newest_on_stack(scenario: Scenario, campaigns: Sequence[Mapping[str, Any]]) -> datetime | None:
    """The newest market time the stack shows for the scenario's symbols: the times of their
    campaigns as the API lists them, a campaign of an earlier play of this scenario counted up
    to that play's last bar (its id's date tells the shift it was played with)."""
    last = first_and_last(scenario)[1]
    times: list[datetime] = []
    for campaign in campaigns:
        for key in ("created_at", "last_price_at", "closed_at"):
            moment = time_or_none(campaign.get(key))
            if moment is not None:
                times.append(moment)
        shift = played_shift(scenario.ranges, campaign)
        if shift is not None:
            times.append(last + shift)
    return max(times, default=None)


def played_shift(ranges: Sequence[ScenarioRange], campaign: Mapping[str, Any]) -> timedelta | None:
    """The shift an earlier play of these ranges gave ``campaign``, if it is one of theirs
    (the same symbol, timeframe and levels)."""
    symbol = str(campaign.get("symbol"))
    try:
        started = date.fromisoformat(str(campaign.get("campaign_id")).removeprefix(f"{symbol}-"))
    except ValueError:
        return None
    levels = tuple(decimal_or_none(campaign.get(k)) for k in _LEVELS)
    for r in ranges:
        if (
            r.symbol == symbol
            and r.timeframe == campaign.get("timeframe")
            and (r.creek, r.ice, r.jump, r.spring_low) == levels
        ):
            return (started - r.start_time.date()).days * DAY
    return None


def candidate_shifts(
    scenario: Scenario, now: datetime, after: datetime | None
) -> Iterator[timedelta]:
    """Whole-day shifts to try, best first: those that end before ``now`` and start after
    ``after`` (the stack's newest bar of these symbols), the latest first; then, when none of
    those will do, the earliest past ``now`` that starts after ``after``, and each next day."""
    first, last = first_and_last(scenario)
    latest = (now - last - timedelta(microseconds=1)) // DAY  # last + latest days < now
    oldest = latest - SEARCHED_DAYS + 1
    if after is not None:
        oldest = max(oldest, (after - first) // DAY + 1)  # first + oldest days > after
    for days in range(latest, oldest - 1, -1):
        yield days * DAY
    for days in range(max(latest + 1, oldest), max(latest + 1, oldest) + SEARCHED_DAYS):
        yield days * DAY
