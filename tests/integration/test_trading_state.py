"""The trading state in PostgreSQL (SPEC section 11): a campaign's save assesses marked equity
when a loss limit is set (or equity falls to zero or below, whatever the policy), the halt is
recorded with its event, the reservation refuses entries TRADING_HALTED while it lasts, and
an operator lifts it."""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.read_model import ReadModel
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import audit_trail, campaign_exposure, outbox, risk_reservations
from campaign_engine.db.trading_state import set_trading_state
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.vocabulary import Pattern, RejectionCode, TradingState
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import Book, reservation, signal, tick

D = Decimal
DAILY_3 = Policy(max_daily_loss_pct=D(3))


async def _stopped_out(repository: CampaignRepository, exit_price: str) -> PersistRequest:
    """A SPRING of 333 @ 148.50 saved open, then its exit at ``exit_price`` saved."""
    book = Book()
    assert book.submit(signal(Pattern.SPRING)).approved
    opened = PersistRequest(revision=1, state=book.state, events=tuple(book.events))
    assert await repository.save(opened) is None or repository.policy.limits_trading
    before = len(book.events)
    book.price(tick(exit_price, minutes=5))
    assert book.state.realized_pnl < 0
    return PersistRequest(revision=2, state=book.state, events=tuple(book.events[before:]))


async def _portfolio_events(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(audit_trail.c.data).where(audit_trail.c.campaign_id == "portfolio")
        )
        return [r.data for r in rows]


async def test_a_loss_past_the_daily_limit_halts_and_refuses_entries_until_an_operator_lifts_it(
    engine: AsyncEngine,
) -> None:
    repository = CampaignRepository(engine, DAILY_3)
    # 333 shares from 148.50 to 130: -6,160.50, 6.16% of the day's opening 100,000.
    assessed = await repository.save(await _stopped_out(repository, "130"))
    assert assessed is not None and assessed.state is TradingState.HALTED
    assert assessed.change is not None and assessed.change.equity == D("93839.50")
    shown = await ReadModel(engine).portfolio(DAILY_3)
    assert shown.trading_state is TradingState.HALTED
    assert shown.trading.reason is not None and "daily loss 6.1605" in shown.trading.reason
    (event,) = await _portfolio_events(engine)
    assert event["kind"] == "TradingStateChanged" and event["state"] == "HALTED"
    async with engine.connect() as conn:  # enqueued for the channels like every event
        queued = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
    assert queued >= 1

    refused = await repository.reserve(reservation("MSFT-2024-10-15", "MSFT", policy=DAILY_3))
    assert refused.rejection is not None
    assert refused.rejection.code is RejectionCode.TRADING_HALTED
    assert "trading is HALTED" in refused.rejection.reason
    async with engine.connect() as conn:  # nothing reserved for it
        reserved = (
            await conn.execute(
                select(func.count())
                .select_from(campaign_exposure)
                .where(campaign_exposure.c.campaign_id == "MSFT-2024-10-15")
            )
        ).scalar_one()
        answers = (
            await conn.execute(select(func.count()).select_from(risk_reservations))
        ).scalar_one()
    assert (reserved, answers) == (0, 1)

    record, change = await set_trading_state(engine, TradingState.ACTIVE, "losses reviewed")
    assert change is not None and record.state is TradingState.ACTIVE
    assert record.day_open_equity == record.equity_peak == D("93839.50")
    approved = await repository.reserve(reservation("NVDA-2024-10-15", "NVDA", policy=DAILY_3))
    assert approved.approved
    assert [e["state"] for e in await _portfolio_events(engine)] == ["HALTED", "ACTIVE"]


async def test_with_no_limit_set_a_loss_does_not_halt_and_nothing_is_recorded(
    engine: AsyncEngine,
) -> None:
    repository = CampaignRepository(engine, DEFAULT_POLICY)
    assert await repository.save(await _stopped_out(repository, "130")) is None
    shown = await ReadModel(engine).portfolio(DEFAULT_POLICY)
    assert shown.trading_state is TradingState.ACTIVE and shown.trading.last_equity is None
    assert await _portfolio_events(engine) == []


async def test_equity_at_or_below_zero_halts_whatever_the_policy(engine: AsyncEngine) -> None:
    """The issue's bad tick: a stop filled at 0.000000001 left equity negative (that value is
    refused at the edge now; 0.01 does the same). With no limit set, the save halts the
    portfolio all the same, and the portfolio shows no heat rather than a percentage of a
    negative equity."""
    await CampaignRepository(engine).ensure_portfolio(D("40000"))
    repository = CampaignRepository(engine, DEFAULT_POLICY)
    # 333 shares from 148.50 to 0.01: -49,447.17 on 40,000.
    assessed = await repository.save(await _stopped_out(repository, "0.01"))
    assert assessed is not None and assessed.state is TradingState.HALTED
    shown = await ReadModel(engine).portfolio(DEFAULT_POLICY)
    assert shown.equity < 0 and shown.heat_pct is None and shown.equity_alert is not None
    assert shown.trading.reason == f"equity {shown.marked_equity} is at or below zero"
    refused = await repository.reserve(reservation("MSFT-2024-10-15", "MSFT"))
    assert refused.rejection is not None
    assert refused.rejection.code is RejectionCode.TRADING_HALTED
