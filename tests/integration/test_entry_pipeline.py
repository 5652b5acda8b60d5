"""One entry pipeline: production (prepare, the database's reservation under its lock,
conclude) and ``decide_entry`` (the same steps, the portfolio in memory) give the same plans
for SPEC section 3's worked numbers."""

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.campaign import apply_fill, conclude_entry, prepare_entry
from campaign_engine.domain.market import EntrySignal
from campaign_engine.domain.orders import paper_fill
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import DEFAULT_POLICY
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import Pattern, RejectionCode
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import EQUITY, T0, Book, signal, trading_range

D = Decimal
SPRING, SOS, LPS = Pattern.SPRING, Pattern.SOS, Pattern.LPS


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[CampaignRepository]:
    engine: AsyncEngine = create_engine_for(database_url, pool_size=2)
    repository = CampaignRepository(engine)
    await repository.ensure_portfolio(EQUITY)
    yield repository
    await engine.dispose()


async def production(
    repository: CampaignRepository, entries: list[EntrySignal]
) -> list[AllocationPlan]:
    """What the workflow and its activities do for each entry, fills by the paper model."""
    state = CampaignState.for_range(trading_range())
    plans: list[AllocationPlan] = []
    for revision, entry in enumerate(entries, start=1):
        prepared = prepare_entry(state, entry, DEFAULT_POLICY)
        request = prepared.admission_request
        admission = await repository.reserve(request) if request is not None else None
        outcome = conclude_entry(prepared, admission, T0)
        state, events = outcome.state, list(outcome.events)
        for order in outcome.orders:
            filled = apply_fill(state, paper_fill(order, T0), T0)
            state = filled.state
            events.extend(filled.events)
        await repository.save(PersistRequest(revision=revision, state=state, events=tuple(events)))
        assert outcome.plan is not None
        plans.append(outcome.plan)
    return plans


def in_memory(entries: list[EntrySignal]) -> list[AllocationPlan]:
    book = Book()
    return [book.submit(entry) for entry in entries]


# signals in the order submitted -> shares of each plan (0: rejected), rejection of the last
WORKED = [
    pytest.param([signal(SPRING), signal(SOS), signal(LPS)], [333, 666, 400], None, id="all-three"),
    pytest.param([signal(SOS)], [1333], None, id="sos-spring-skipped"),
    pytest.param([signal(LPS, confidence=75)], [1333], None, id="lps-sole-entry-75"),
    pytest.param(
        [signal(LPS, confidence=72)], [0], RejectionCode.LOW_CONFIDENCE, id="lps-sole-entry-72"
    ),
    pytest.param([signal(SPRING), signal(LPS)], [333, 800], None, id="lps-sos-skipped"),
    pytest.param(
        [signal(SPRING), signal(SPRING, entry="148.40")],
        [333, 0],
        RejectionCode.DUPLICATE_PATTERN,
        id="duplicate",
    ),
    pytest.param(
        [signal(SOS, requested_risk_pct="2.0"), signal(LPS, requested_risk_pct="2.0")],
        [1333, 1000],  # 2.0%, then min(2.0 * 0.30 / 0.30, 1.5, 2.0) = 1.5% of 100,000 / 1.50
        None,
        id="requested-risk",
    ),
]


@pytest.mark.parametrize(("entries", "shares", "rejection"), WORKED)
async def test_production_and_decide_entry_give_the_same_plans(
    repository: CampaignRepository,
    entries: list[EntrySignal],
    shares: list[int],
    rejection: RejectionCode | None,
) -> None:
    produced = await production(repository, entries)
    decided = in_memory(entries)
    assert [replace(p, decided_at=T0) for p in decided] == produced
    assert [p.shares for p in produced] == [D(n) for n in shares]
    assert produced[-1].rejection_code is rejection
