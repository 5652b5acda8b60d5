"""When a campaign run asks its broker how its open orders stand.

Brokers push order changes (the ``order_update`` signal), so asking is a backstop: at once when
a run starts (a run continued, reloaded or restarted after a worker was down), then after
``FIRST`` and twice as long after each poll that changed nothing, up to the run's
``reconcile_every_seconds`` (5 minutes by default); any change the broker reports starts over.
An entry resting for days costs a few polls an hour, not one every few seconds. Shares sold at
the broker by hand are the holdings reconciler's to find (``services/holdings_reconciler.py``).

The schedule is kept by a timer and a flag only, never by comparing ``workflow.now()`` readings:
a reading taken after a local activity is not the same when the history is replayed.
"""

from datetime import timedelta

FIRST = timedelta(seconds=5)


class BrokerPoll:
    def __init__(self, longest: timedelta) -> None:
        self._longest = longest
        self.interval = min(FIRST, longest)
        self.due = False

    def start_now(self) -> None:
        self.due = True

    def polled(self) -> None:
        self.due = False
        self.interval = min(self.interval * 2, self._longest)

    def reset(self) -> None:
        self.interval = min(FIRST, self._longest)
