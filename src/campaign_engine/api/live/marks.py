"""The marks the live stream pushes: when prices are accepted for a symbol, each campaign that
holds shares in it, marked to market (``db.marks``), as ``GET /campaigns`` lists it.

A price that crosses none of a campaign's levels writes no event, so without these the page's
P&L would stand still until the next level. The board marks the symbols that the
notifications of accepted prices named since its last read, at most every ``every`` seconds
(so a campaign gets at most one mark in that time, the newest), and keeps only what changed,
numbered, so that each socket sends what it has not sent yet, newest state only, in the order
it changed."""

import math
from collections import OrderedDict

from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api.schemas import MarkOut
from campaign_engine.db.marks import holding_marks
from campaign_engine.db.read_model import ReadModel
from campaign_engine.db.reader_thread import ReaderThread
from campaign_engine.domain.marks import CampaignMark

Json = dict[str, JsonValue]

MARK_EVERY = 0.25  # seconds: at most four marks a second per campaign


def mark_message(mark: CampaignMark) -> Json:
    shown: Json = {"type": "mark", **MarkOut.of(mark).model_dump(mode="json")}
    return shown


class MarkBoard:
    def __init__(self, reader: ReaderThread, *, every: float = MARK_EVERY) -> None:
        # Read off the API's loop: a burst of prices being delivered would queue each query
        # behind its sends (a mark read of 300 campaigns took 1.3 s instead of 40 ms).
        self._reader = reader
        self._every = every
        self._next_at = -math.inf
        # Symbols priced since the last read (None: any, as after a lost connection, whose
        # notifications are lost with it).
        self._priced: set[str] | None = None
        self.pending = True
        self.seq = 0  # grows with every mark that changed
        self._latest: OrderedDict[str, tuple[int, Json]] = OrderedDict()

    def due_in(self, now: float) -> float:
        """Seconds until a read may run (0: now)."""
        return max(0.0, self._next_at - now)

    def heard(self, symbols: set[str] | None) -> None:
        """Prices of ``symbols`` (None: of any symbol) were accepted."""
        if symbols is None or self._priced is None:
            self._priced = None
        elif self.pending:
            self._priced |= symbols
        else:
            self._priced = set(symbols)
        self.pending = True

    async def read(self, now: float) -> bool:
        """Mark the campaigns holding the symbols priced since the last read, if one is due;
        whether any mark changed."""
        if not self.pending or now < self._next_at:
            return False
        priced, self._priced, self.pending = self._priced, set(), False
        self._next_at = now + self._every

        async def read(engine: AsyncEngine) -> dict[str, CampaignMark]:
            async with engine.connect() as conn:
                return await holding_marks(conn, await ReadModel.equity_on(conn), priced)

        marks = await self._reader.run(read)
        changed = False
        for campaign_id, mark in sorted(marks.items()):
            changed |= self.remember(campaign_id, mark_message(mark))
        return changed

    def remember(self, campaign_id: str, message: Json, *, announce: bool = True) -> bool:
        """Keep ``message`` as the campaign's newest mark; whether it is news. Unannounced
        (it went out with the campaign), it keeps its place and number."""
        known = self._latest.get(campaign_id)
        if known is not None and known[1] == message:
            return False
        if not announce:
            self._latest[campaign_id] = (known[0] if known else 0, message)
            return False
        self.seq += 1
        self._latest[campaign_id] = (self.seq, message)
        self._latest.move_to_end(campaign_id)
        return True

    def forget(self, campaign_id: str) -> None:
        self._latest.pop(campaign_id, None)

    def since(self, seen: int) -> tuple[list[Json], int]:
        """The marks that changed after ``seen`` (oldest change first), and the newest seq."""
        fresh = []
        for seq, message in reversed(self._latest.values()):
            if seq <= seen:
                break
            fresh.append(message)
        fresh.reverse()
        return fresh, self.seq
