"""What a backtest plays: the steps of a run in market time, each either the entry signals
decided at one instant (a batch, in priority order) or the bars of one instant."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import overload
from uuid import UUID

from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.domain.types import PriceValue
from campaign_engine.formats.price_rows import PriceRow, update_of

_SYMBOL, _TIME, _MARK = itemgetter(0), itemgetter(1), itemgetter(5)


class BarBlock(Sequence[PriceUpdate]):
    """The bars of one instant as read from a file: kept as their values (``PriceRow``), each
    made a ``PriceUpdate`` only when asked for. A long play reads most bars only for their
    symbol and mark, so most are never made updates."""

    __slots__ = ("rows",)

    def __init__(self, rows: Sequence[PriceRow]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> PriceUpdate: ...
    @overload
    def __getitem__(self, index: slice) -> list[PriceUpdate]: ...
    def __getitem__(self, index: int | slice) -> PriceUpdate | list[PriceUpdate]:
        if isinstance(index, slice):
            return [update_of(row) for row in self.rows[index]]
        return update_of(self.rows[index])

    def __iter__(self) -> Iterator[PriceUpdate]:
        return map(update_of, self.rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def symbols(self) -> list[str]:
        return list(map(_SYMBOL, self.rows))

    def times(self) -> list[datetime]:
        return list(map(_TIME, self.rows))

    def marks(self) -> list[PriceValue]:
        """Each bar's mark: its close (a tick's price)."""
        return list(map(_MARK, self.rows))


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
    updates: Sequence[PriceUpdate]  # a tuple, or a BarBlock


Step = Decision | Bars


@dataclass(frozen=True, slots=True)
class Timeline:
    """A run: its steps in the order they are played, and for the report a readable name of
    each signal (the scenario's key, or the signal id) and what was played."""

    steps: tuple[Step, ...]
    source: str
    labels: Mapping[UUID, str] = field(default_factory=dict)
    # Each symbol's bars in the order played, when the reading gathered them on its way
    # (bar files): the report charts from them without going over every step again.
    rows_by_symbol: Mapping[str, Sequence[PriceRow]] | None = field(default=None, compare=False)

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
