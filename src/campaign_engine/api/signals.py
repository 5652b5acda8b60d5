"""/signals and /prices: what the orchestrator sends."""

import asyncio
from collections.abc import Coroutine
from http import HTTPStatus
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Body, HTTPException

from campaign_engine.api.auth import UNAUTHORIZED, Authorized
from campaign_engine.api.bounded import RETRY_AFTER, within_bound
from campaign_engine.api.schemas import AllocationPlanOut, PricesAcceptedOut, PricesIn
from campaign_engine.api.services import Services, ServicesDep
from campaign_engine.client.campaign_client import CampaignRefused
from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.price_feed.publisher import OpenCampaign
from campaign_engine.runtime import price_metrics

router = APIRouter(tags=["signals and prices"])
log = structlog.get_logger("campaign_engine.api")

MAX_BATCH = 1_000
_SEED_TIMEOUT = 2.0  # seconds
_INVALID: dict[int | str, dict[str, Any]] = {
    HTTPStatus.UNPROCESSABLE_ENTITY.value: {
        "description": "invalid input, named field by field; nothing was decided"
    },
    HTTPStatus.SERVICE_UNAVAILABLE.value: {
        "description": f"Temporal, the database or the worker is down (Retry-After: "
        f"{RETRY_AFTER}); a decision already asked for is pending and a retry with the same "
        "signal_id gets it"
    },
    **UNAUTHORIZED,
}
_PENDING = (
    "The decision is pending: the campaign takes it when that recovers; retry with the "
    "same signal_id to get it."
)


def _refused(refusal: CampaignRefused) -> HTTPException:
    return HTTPException(HTTPStatus.UNPROCESSABLE_ENTITY, str(refusal))


async def _seed_references(services: Services, signals: list[EntrySignal]) -> None:
    """A symbol's first price is screened for a bad print against the entry price of the
    first signal given for it (db/price_screens.py). Best effort, briefly: the decision is
    made, and the symbol's first price becomes its reference otherwise."""
    try:
        await asyncio.wait_for(services.intake.seed(signals), _SEED_TIMEOUT)
    except Exception as error:
        log.warning("price_references_not_seeded", count=len(signals), error=repr(error))


async def _announce_approvals(
    services: Services, decided: list[tuple[EntrySignal, AllocationPlan]]
) -> None:
    """Hand every approved campaign to the price publisher at once: the bars it already holds
    from after the signal reach the campaign now, not when the read model lists it and its
    symbol's next price arrives (on a quiet symbol, or after a replay's last bar, never).

    The decision is made by now: the caller gets it after at most the bound, and the
    announcement goes on without it (a send, or the simulated exchange matching a bar, is not
    cut short)."""

    async def announce() -> int:
        sent = 0
        for signal, plan in decided:
            if plan.approved:
                opened = OpenCampaign(plan.campaign_id, opened_at=signal.generated_at)
                sent += await services.prices.opened(signal.symbol, opened)
        return sent

    await _at_most(services, announce())


@router.post(
    "/signals",
    summary="Decide one entry signal",
    description="The AllocationPlan, approved or rejected (a rejection is a decision, 200). "
    "The same signal_id always gets its first decision back.",
    dependencies=Authorized,
    responses=_INVALID,
)
async def submit_signal(services: ServicesDep, signal: EntrySignal) -> AllocationPlanOut:
    try:
        plan = await within_bound(services, services.client.submit(signal), pending=_PENDING)
    except CampaignRefused as refusal:
        raise _refused(refusal) from None
    await _seed_references(services, [signal])
    await _announce_approvals(services, [(signal, plan)])
    return AllocationPlanOut.model_validate(plan)


@router.post(
    "/signals/batch",
    summary="Decide competing entry signals in priority order",
    description="The plans in decision order (SPEC section 3 rule 11): each decision sees the "
    "risk the ones before it reserved. An invalid signal refuses the whole batch.",
    dependencies=Authorized,
    responses=_INVALID,
)
async def submit_batch(
    services: ServicesDep,
    signals: Annotated[list[EntrySignal], Body(max_length=MAX_BATCH)],
) -> list[AllocationPlanOut]:
    try:
        plans = await within_bound(
            services,
            services.client.submit_batch(signals),
            pending="The decisions are pending: retry the same batch to get them (each "
            "signal_id keeps its first decision).",
        )
    except CampaignRefused as refusal:
        raise _refused(refusal) from None
    await _seed_references(services, signals)
    by_id = {s.signal_id: s for s in signals}
    await _announce_approvals(services, [(by_id[p.signal_id], p) for p in plans])
    return AllocationPlanOut.many(plans)


@router.post(
    "/prices",
    status_code=HTTPStatus.ACCEPTED,
    summary="Publish price updates (one or an array)",
    description="Each update is merged into its symbol's next bar and reaches the open "
    "campaigns on that symbol within about half a second (SPEC section 9). 202 means the "
    "updates are stored durably (a restart of the API loses none); 503 (Retry-After) means "
    "the database is down and none of them was accepted. An update further from its "
    "symbol's last accepted price than the policy's `bad_print_band_pct` is held back until "
    "the next update confirms or refutes it (`held`; GET /prices/held).",
    dependencies=Authorized,
    responses=_INVALID,
)
async def publish_prices(
    services: ServicesDep, updates: Annotated[PricesIn, Body()]
) -> PricesAcceptedOut:
    batch = [updates] if isinstance(updates, PriceUpdate) else updates
    # Durable before anything else, and on the charts and marks at the same commit: a price
    # that crosses no level reaches the page without waiting for the campaigns to take it.
    appended = await services.intake.append(batch)
    services.prices.appended()
    price_metrics.accepted(appended.taken, appended.too_old, appended.held)
    # Delivering is the leading process's (this one or another): here, the answer waits for
    # the bars then due at most the bound, then the publisher goes on (and a new leader
    # resumes it from the intake).
    if appended.seqs:
        await _at_most(services, services.prices.taken(appended.seqs[-1]))
    return PricesAcceptedOut(accepted=len(batch), too_old=appended.too_old, held=appended.held)


async def _at_most(services: Services, sending: Coroutine[Any, Any, object]) -> None:
    """Wait for ``sending`` at most the bound; it goes on in the background after that."""
    task = asyncio.ensure_future(sending)
    task.add_done_callback(_log_failure)
    await asyncio.wait({task}, timeout=services.settings.mutation_timeout)


def _log_failure(task: "asyncio.Future[object]") -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("prices_not_sent", error=repr(error))
