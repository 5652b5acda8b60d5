"""How long a bar of a timeframe lasts, so that counts of bars become market time."""

import re
from datetime import timedelta

from campaign_engine.domain.types import TIMEFRAME_PATTERN

_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}


def bar_length(timeframe: str) -> timedelta:
    """``1d`` -> one day, ``15m`` -> fifteen minutes. A daily bar counts as a calendar day:
    an entry expiring after 3 bars of ``1d`` expires on the first bar at least 3 days after
    its signal (a weekend makes that fewer trading bars, never more)."""
    found = re.fullmatch(TIMEFRAME_PATTERN, timeframe.strip().lower())
    if found is None:
        raise ValueError(f"not a timeframe: {timeframe!r} (expected e.g. 1d, 4h, 15m)")
    count = int(timeframe.strip().lower()[: found.start(1)])
    return count * _UNITS[found.group(1)]
