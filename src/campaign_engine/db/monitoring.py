"""What the metrics read from the database at each scrape (api/metrics.py): the campaigns by
status, the backlogs (intake rows no bar has taken, audit entries not yet announced), and the
entry orders still open past their expiry. The book itself is the read model's portfolio
(``ReadModel.portfolio``), so the metrics agree with ``GET /api/v1/portfolio``.

Each is one short query over small tables or an index: the intake and the outbox are pruned
as they drain, and only open orders are read."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_engine.db.marks import newest_quotes
from campaign_engine.domain.campaign.prices import entry_order_expiry
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import CampaignStatus

_BY_STATUS = text("SELECT status, count(*) AS n FROM campaigns GROUP BY status")

_BACKLOGS = text(
    """
    SELECT
      (SELECT count(*) FROM price_intake AS i
         LEFT JOIN price_intake_cursors AS c ON c.symbol = i.symbol
        WHERE i.seq > coalesce(c.flushed_seq, 0)) AS intake_waiting,
      (SELECT count(*) FROM outbox) AS outbox_waiting,
      (SELECT coalesce(extract(epoch FROM now() - min(a.recorded_at)), 0)
         FROM outbox AS o JOIN audit_trail AS a ON a.seq = o.audit_seq) AS outbox_oldest_age
    """
)

# Entry orders the ledger still holds open, with what their expiry is reckoned from.
_OPEN_ENTRIES = text(
    """
    SELECT o.symbol, o.created_at, c.timeframe
    FROM orders AS o JOIN campaigns AS c ON c.campaign_id = o.campaign_id
    WHERE o.purpose = 'ENTRY' AND o.status = 'OPEN'
    """
)


@dataclass(frozen=True, slots=True)
class Backlogs:
    intake_waiting: int
    outbox_waiting: int
    outbox_oldest_age: float  # seconds, by the database's clock; 0 when nothing waits


async def campaigns_by_status(conn: AsyncConnection) -> dict[CampaignStatus, int]:
    """Every status, 0 where no campaign has it (a series that vanishes reads as no data)."""
    counted = Counter({CampaignStatus(r.status): r.n for r in await conn.execute(_BY_STATUS)})
    return {status: counted[status] for status in CampaignStatus}


async def backlogs(conn: AsyncConnection) -> Backlogs:
    row = (await conn.execute(_BACKLOGS)).one()
    return Backlogs(int(row.intake_waiting), int(row.outbox_waiting), float(row.outbox_oldest_age))


async def entries_past_expiry(conn: AsyncConnection, policy: Policy) -> int:
    """Entry orders still open though their symbol's market has passed their expiry: the
    newest accepted price of the symbol is at or after it (market time, as the campaign
    reckons it), so the campaign should have asked the broker to cancel them."""
    rows = (await conn.execute(_OPEN_ENTRIES)).all()
    if not rows:
        return 0
    quotes = await newest_quotes(conn, {r.symbol for r in rows})
    late = 0
    for row in rows:
        expiry: datetime | None = entry_order_expiry(row.created_at, row.timeframe, policy)
        quote = quotes.get(row.symbol)
        late += expiry is not None and quote is not None and quote.as_of >= expiry
    return late
