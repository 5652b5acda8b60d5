"""The book's history as PostgreSQL keeps it: each save appends the campaign's exposure at the
market time of the change (a retried save appends nothing again, a save at the same version
does), and the history folds into the figures each state had."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.read_model import ReadModel
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import exposure_history
from campaign_engine.domain.campaign import exposure_of
from campaign_engine.domain.risk import committed_risk
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import T0, Book, signal, tick

D = Decimal


async def test_each_save_is_a_point_of_the_books_history(engine: AsyncEngine) -> None:
    repository = CampaignRepository(engine)
    book = Book()
    states: list[CampaignState] = []

    async def save() -> None:
        request = PersistRequest(revision=len(states) + 1, state=book.state, events=())
        await repository.save(request)
        await repository.save(request)  # a retry appends nothing
        states.append(book.state)

    book.submit(signal(Pattern.SPRING))  # 333 at 148.50, stop 147.00
    await save()
    version = book.state.version
    book.price(tick("149.00", 30))  # crosses nothing: a save at the same version
    assert book.state.version == version
    await save()
    book.price(tick("150.00", 60))  # the first target: half sold, stop to breakeven
    await save()
    book.submit(signal(Pattern.SOS, at=T0 + timedelta(minutes=90)))
    await save()
    book.price(tick("146.00", 120))  # through every stop
    await save()

    async with engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(exposure_history))).scalar()
    assert rows == len(states)
    history = await ReadModel(engine).book_history()
    assert [p.at for p in history.points] == [s.market_time for s in states]
    for point, state in zip(history.points, states, strict=True):
        exposure = exposure_of(state)
        assert point.realized_pnl == state.realized_pnl
        assert point.equity == D("100000") + state.realized_pnl
        assert point.open_risk == exposure.open_risk
        assert point.committed_risk == committed_risk(
            open_risk=exposure.open_risk, reserved_risk=exposure.reserved_risk
        )
    assert history.points[0].heat_pct == D("0.4995")  # the worked Spring's 499.50
    assert history.points[1].marked_equity == D("100166.50")  # 333 x 0.50, same version
    assert history.points[-1].committed_risk == 0
    assert [pnl for _, pnl in history.days] == [states[-1].realized_pnl]
