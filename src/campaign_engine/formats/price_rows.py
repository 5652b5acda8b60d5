"""Price updates read from rows of text, many at a time, validated as ``PriceUpdate`` validates
them but without paying its whole validation for every row.

A file of bars repeats a few texts a great deal: one symbol for hundreds of rows, one
timestamp for every symbol, prices to the cent. Each distinct text of a field is validated
once, by pydantic, with the very type the model declares for that field (``Symbol``,
``MarketTime``, ``InputPrice``, ``SequenceNumber``); the rule a bar adds (low <= open,
close <= high) is checked here; and the update is built from those values as
``model_construct`` would build it. A row this cannot take (a tick, a field that does not
validate, a bar out of its own range, an unusual layout) goes through
``PriceUpdate.model_validate`` instead, which takes it or says exactly what is wrong with it.
Either way a row gives the very update, or the very error, that ``model_validate`` gives:
that is tested.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, TypeAdapter, ValidationError

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.types import InputPrice, MarketTime, PriceValue, SequenceNumber, Symbol

_BAR: Final = ("symbol", "as_of", "open", "high", "low", "close")
"""The fields of a bar, the only rows read here."""
_KNOWN: Final = frozenset(PriceUpdate.model_fields)
_MOST_REMEMBERED = 1 << 16
"""Distinct texts kept per field; a file with more starts again (only slower)."""


class _Invalid:
    """What a text that does not validate is remembered as."""


_INVALID: Final = _Invalid()


class _Validated(dict[str, object]):
    """Each text's value by the field's type, validated on first sight."""

    def __init__(self, validate: Callable[[str], object]) -> None:
        super().__init__()
        self._validate = validate

    def __missing__(self, text: str) -> object:
        try:
            value = self._validate(text)
        except ValidationError:
            value = _INVALID
        if len(self) >= _MOST_REMEMBERED:
            self.clear()
        self[text] = value
        return value


def _adapter(kind: Any) -> Callable[[str], object]:
    return TypeAdapter(kind).validate_python


class BarRows:
    """Reads rows of one table whose first row named its columns (``header``): ``update``
    gives a row's ``PriceUpdate``, or None for a row ``model_validate`` must decide."""

    def __init__(self, header: Sequence[str]) -> None:
        self._width = len(header)
        column = {name: index for index, name in enumerate(header)}  # the last of a name wins
        usable = all(not name or name in _KNOWN for name in header) and set(_BAR) <= set(column)
        self._columns = tuple(column[name] for name in _BAR) if usable else None
        self._price = column.get("price")
        self._sequence = column.get("sequence")
        self._symbols = _Validated(_adapter(Symbol))
        self._times = _Validated(_adapter(MarketTime))
        self._prices = _Validated(_adapter(InputPrice))
        self._sequences = _Validated(_adapter(SequenceNumber))

    def read(
        self,
        rows: Iterable[Sequence[str]],
        other: Callable[[int, Sequence[str]], "PriceRow | None"],
    ) -> list["PriceRow"]:
        """Every row's ``PriceRow``: ``values`` of it, or for a row that gives None,
        ``other(record number, row)`` (None: the row is left out). Rows of a plain bar file
        (no price or sequence column) are read in one loop, the common case inlined."""
        read: list[PriceRow] = []
        append = read.append
        if self._columns is None or self._price is not None or self._sequence is not None:
            for n, row in enumerate(rows, start=1):
                values = self.values(row)
                if values is None:
                    values = other(n, row)
                if values is not None:
                    append(values)
            return read
        s, t, o, h, lo, c = self._columns
        width, symbols, times, prices = self._width, self._symbols, self._times, self._prices
        for n, row in enumerate(rows, start=1):
            if len(row) == width:
                symbol, as_of = symbols[row[s]], times[row[t]]
                open_, high, low = prices[row[o]], prices[row[h]], prices[row[lo]]
                close = prices[row[c]]
                if (  # as ``values`` decides
                    symbol is not _INVALID
                    and as_of is not _INVALID
                    and open_ is not _INVALID
                    and high is not _INVALID
                    and low is not _INVALID
                    and close is not _INVALID
                    and low <= open_ <= high  # type: ignore[operator]
                    and low <= close <= high  # type: ignore[operator]
                ):
                    append((symbol, as_of, open_, high, low, close, None, None))  # type: ignore[arg-type]
                    continue
            values = other(n, row)
            if values is not None:
                append(values)
        return read

    def update(self, row: Sequence[str]) -> PriceUpdate | None:
        values = self.values(row)
        return None if values is None else update_of(values)

    def values(self, row: Sequence[str]) -> "PriceRow | None":
        """The row's validated values as a ``PriceRow``, or None (``update``'s rule)."""
        columns = self._columns
        if columns is None or len(row) != self._width:
            return None
        if self._price is not None and row[self._price]:
            return None  # a tick
        s, t, o, h, lo, c = columns
        symbol, as_of = self._symbols[row[s]], self._times[row[t]]
        prices = self._prices
        open_, high, low, close = prices[row[o]], prices[row[h]], prices[row[lo]], prices[row[c]]
        sequence = None
        if self._sequence is not None and row[self._sequence]:
            sequence = self._sequences[row[self._sequence]]
        if (  # by identity: ``in`` would compare each value with == (slow for a Decimal)
            symbol is _INVALID
            or as_of is _INVALID
            or open_ is _INVALID
            or high is _INVALID
            or low is _INVALID
            or close is _INVALID
            or sequence is _INVALID
        ):
            return None
        if not (low <= open_ <= high and low <= close <= high):  # type: ignore[operator]
            return None
        return (symbol, as_of, open_, high, low, close, sequence, None)  # type: ignore[return-value]


PriceRow = tuple[
    str,
    datetime,
    PriceValue | None,
    PriceValue | None,
    PriceValue | None,
    PriceValue,
    int | None,
    PriceUpdate | None,
]
"""A price update's values, as cheap to keep as a tuple: symbol, as_of, open, high, low, the
mark (a bar's close, a tick's price), sequence, and the update itself when one was made
(a row ``model_validate`` decided, a tick); ``update_of`` makes (or gives) the update."""


def row_of(update: PriceUpdate) -> PriceRow:
    """The row of an update made already."""
    return (
        update.symbol,
        update.as_of,
        update.open,
        update.high,
        update.low,
        update.last,
        update.sequence,
        update,
    )


def update_of(row: PriceRow) -> PriceUpdate:
    """The ``PriceUpdate`` of a row: the one it carries, or one built of its values."""
    made = row[7]
    if made is not None:
        return made
    return built_update(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


_new = object.__new__
_set = object.__setattr__
# BaseModel's own slots, set through their descriptors (as pydantic sets them, only cheaper)
_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"]
_EXTRA = BaseModel.__dict__["__pydantic_extra__"]
_PRIVATE = BaseModel.__dict__["__pydantic_private__"]
_GIVEN: Final = frozenset(_BAR)


def built_update(
    symbol: object,
    as_of: object,
    open_: object,
    high: object,
    low: object,
    close: object,
    sequence: object,
) -> PriceUpdate:
    """The update of validated values, as ``PriceUpdate.model_construct`` builds it (the
    fields in their declared order, the ones given as set) at a tenth of its cost."""
    update: PriceUpdate = _new(PriceUpdate)
    _set(
        update,
        "__dict__",
        {
            "symbol": symbol,
            "as_of": as_of,
            "price": None,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "sequence": sequence,
        },
    )
    given = set(_GIVEN)
    if sequence is not None:
        given.add("sequence")
    _FIELDS_SET.__set__(update, given)
    _EXTRA.__set__(update, None)
    _PRIVATE.__set__(update, None)
    return update
