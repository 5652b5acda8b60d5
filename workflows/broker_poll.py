"""When a campaign run asks its broker how its open orders stand.

Brokers push order changes (the ``order_update`` signal), so asking is a backstop: at once when
a run starts (a run continued, reloaded or restarted after a worker was down), then after
``FIRST`` and twice as long after each poll that changed nothing, up to the run's
``reconcile_every_seconds`` (5 minutes by default); any change the broker reports starts over.
An entry resting for days costs a few polls an hour, not one every few seconds. A campaign
holding shares with no order open polls too, to find shares sold at the broker by hand.
"""

from datetime import datetime, timedelta

FIRST = timedelta(seconds=5)


class BrokerPoll:
    def __init__(self, longest: timedelta) -> None:
        self._next: datetime | None = None  # None: poll now
        self._longest = longest
        self._interval = min(FIRST, longest)

    def due(self, now: datetime) -> bool:
        return self._next is None or now >= self._next

    def wait(self, now: datetime) -> timedelta:
        """How long until the next poll (at least a moment, so a timer always runs)."""
        if self._next is None:
            return timedelta(milliseconds=1)
        return max(self._next - now, timedelta(milliseconds=1))

    def polled(self, now: datetime) -> None:
        self._next = now + self._interval
        self._interval = min(self._interval * 2, self._longest)

    def reset(self) -> None:
        self._interval = min(FIRST, self._longest)
