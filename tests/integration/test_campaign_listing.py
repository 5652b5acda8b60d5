"""The read model's pages of campaigns and its marks to market, against PostgreSQL: every
campaign reachable by paging, filtered and sorted on the server, P&L marked at the newest
accepted price although the campaigns wrote nothing, and the portfolio marked the same way."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.read_model import MAX_PAGE, CampaignOrder, ReadModel
from campaign_engine.domain.policy import DEFAULT_POLICY
from campaign_engine.domain.vocabulary import CampaignStatus
from campaign_engine.testing.builders import T0
from campaign_engine.testing.seeded_book import Seeded, price_book, seed_book

D = Decimal
LATER = T0 + timedelta(days=2)


async def test_the_worked_mark_moves_with_an_accepted_price_alone(engine: AsyncEngine) -> None:
    # The SPEC's Spring: 333 shares at 148.50, 499.50 risked (stop 147.00).
    [aapl] = await seed_book(engine, 1)
    assert (aapl.shares, aapl.entry) == (D(333), D("148.50"))
    read = ReadModel(engine)
    before = (await read.list_campaigns()).marks[aapl.campaign_id]
    assert before.price is None
    assert (before.unrealized_pnl, before.total_pnl) == (D(0), D(0))

    for price, unrealized, r in [
        ("150.00", "499.50", "1.0000"),  # +1.50 a share: one R
        ("147.00", "-499.50", "-1.0000"),  # at the stop: minus one R
        ("153.00", "1498.50", "3.0000"),
    ]:
        at = LATER + timedelta(hours=len(price))
        await price_book(engine, [(aapl.symbol, D(price))], as_of=at)
        mark = (await read.list_campaigns()).marks[aapl.campaign_id]
        assert (mark.price, mark.as_of) == (D(price), at)
        assert (mark.unrealized_pnl, mark.total_pnl, mark.r_multiple) == (
            D(unrealized),
            D(unrealized),
            D(r),
        )
        assert mark.version == 2  # the campaign itself has not changed
        portfolio = await read.portfolio(DEFAULT_POLICY)
        assert portfolio.unrealized_pnl == D(unrealized)
        assert portfolio.marked_equity == D("100000") + D(unrealized)


async def test_an_older_price_does_not_mark_over_a_newer_one(engine: AsyncEngine) -> None:
    [one] = await seed_book(engine, 1)
    await price_book(engine, [(one.symbol, D("150"))], as_of=LATER)
    await price_book(engine, [(one.symbol, D("140"))], as_of=LATER - timedelta(hours=1))
    mark = (await ReadModel(engine).list_campaigns()).marks[one.campaign_id]
    assert (mark.price, mark.as_of) == (D("150"), LATER)


async def _pages(read: ReadModel, order: CampaignOrder, size: int) -> list[str]:
    shown: list[str] = []
    offset = 0
    while True:
        page = await read.list_campaigns(order=order, limit=size, offset=offset)
        shown += [c.campaign_id for c in page]
        if not page.has_more:
            return shown
        offset += size


async def test_paging_reaches_every_campaign_once_in_each_order(engine: AsyncEngine) -> None:
    book = await seed_book(engine, 45)
    # Prices spread the campaigns' P&L: each symbol k marked at 140 + k/4.
    await price_book(
        engine, [(s.symbol, D(140) + D(k) / 4) for k, s in enumerate(book)], as_of=LATER
    )
    read = ReadModel(engine)
    everyone = sorted(s.campaign_id for s in book)
    for order in CampaignOrder:
        shown = await _pages(read, order, 7)
        assert sorted(shown) == everyone, order  # each once
        assert shown == await _pages(read, order, MAX_PAGE), order  # the same slices

    newest = await _pages(read, CampaignOrder.NEWEST, 10)
    assert newest == [s.campaign_id for s in reversed(book)]
    by_pnl = await read.list_campaigns(order=CampaignOrder.PNL_HIGH, limit=5)
    assert [c.campaign_id for c in by_pnl] == [s.campaign_id for s in reversed(book)][:5]
    pnls = [by_pnl.marks[c.campaign_id].total_pnl for c in by_pnl]
    assert (
        pnls == sorted(pnls, reverse=True) and pnls[0] == (D(140) + D(44) / 4 - D("148.50")) * 333
    )
    lowest = await read.list_campaigns(order=CampaignOrder.PNL_LOW, limit=1)
    assert [c.campaign_id for c in lowest] == [book[0].campaign_id]


async def test_filters_by_status_and_symbol_prefix(engine: AsyncEngine) -> None:
    book = await seed_book(engine, 120)
    read = ReadModel(engine)
    found = await read.list_campaigns(symbol_prefix="s00", limit=MAX_PAGE)
    assert found.total_count == 100
    assert {c.symbol for c in found} == {s.symbol for s in book if s.symbol.startswith("S00")}
    exact = await read.list_campaigns(symbol="S0117")
    assert [c.campaign_id for c in exact] == [_id(book, "S0117")]
    assert (
        await read.list_campaigns(symbol_prefix="S011", status=CampaignStatus.ACTIVE)
    ).total_count == 10
    assert (await read.list_campaigns(status=CampaignStatus.COMPLETED)).total_count == 0
    # LIKE's wildcards are matched as themselves.
    assert (await read.list_campaigns(symbol_prefix="S%")).total_count == 0


def _id(book: list[Seeded], symbol: str) -> str:
    return next(s.campaign_id for s in book if s.symbol == symbol)
