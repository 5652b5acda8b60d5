"""What a backtest plays: the steps of a run in market time, each either the entry signals
decided at one instant (a batch, in priority order) or the bars of one instant."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from campaign_engine.domain.market import EntrySignal, PriceUpdate


@dataclass(frozen=True, slots=True)
class Decision:
    """Signals decided together at ``at`` (their market time): one submission, decided in
    priority order (FR28) against the whole portfolio."""

    at: datetime
    signals: tuple[EntrySignal, ...]


@dataclass(frozen=True, slots=True)
class Bars:
    """The bars of one instant (one per symbol at most), evaluated one after the other."""

    at: datetime
    updates: tuple[PriceUpdate, ...]


Step = Decision | Bars


@dataclass(frozen=True, slots=True)
class Timeline:
    """A run: its steps in the order they are played, and for the report a readable name of
    each signal (the scenario's key, or the signal id) and what was played."""

    steps: tuple[Step, ...]
    source: str
    labels: Mapping[UUID, str] = field(default_factory=dict)

    @property
    def bar_count(self) -> int:
        return sum(len(s.updates) for s in self.steps if isinstance(s, Bars))

    @property
    def signal_count(self) -> int:
        return sum(len(s.signals) for s in self.steps if isinstance(s, Decision))

    def label(self, signal_id: UUID) -> str:
        return self.labels.get(signal_id, str(signal_id))

    def bars_of(self, symbol: str) -> list[PriceUpdate]:
        """Every bar of ``symbol``, in the order played."""
        return [
            u for s in self.steps if isinstance(s, Bars) for u in s.updates if u.symbol == symbol
        ]
