"""/portfolio, /policy and /healthz."""

import asyncio
from datetime import timedelta
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Query, Response

from campaign_engine.api.auth import UNAUTHORIZED, Authorized
from campaign_engine.api.schemas import (
    HealthOut,
    PolicyOut,
    PortfolioHistoryOut,
    PortfolioOut,
    TradingStateIn,
    TradingStateOut,
)
from campaign_engine.api.services import Services, ServicesDep
from campaign_engine.db.trading_state import set_trading_state
from campaign_engine.runtime.observability import report_trading_state

router = APIRouter(tags=["portfolio"])
health = APIRouter(tags=["health"])

HEALTH_TIMEOUT = 2.0  # seconds per dependency


@router.get("/portfolio", summary="Equity, heat and open risk by campaign and by group")
async def get_portfolio(services: ServicesDep) -> PortfolioOut:
    return PortfolioOut.of(await services.read_model.portfolio(services.client.policy))


MAX_HISTORY = 5_000


@router.get(
    "/portfolio/history",
    summary="The book over time: equity, risk and heat after each change, realized P&L by day",
)
async def get_portfolio_history(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY, description="the newest points")] = 2_000,
) -> PortfolioHistoryOut:
    """Each campaign's save moves the book: its equity (realized, and marked at the prices the
    campaigns had taken), open and committed risk and heat after each, in market time, and the
    realized P&L of each market day."""
    history = await services.read_model.book_history()
    return PortfolioHistoryOut.of(history, services.client.policy, limit)


@router.get("/portfolio/trading-state", summary="The portfolio's trading state")
async def get_trading_state(services: ServicesDep) -> TradingStateOut:
    snapshot = await services.read_model.portfolio(services.client.policy)
    return TradingStateOut.of(snapshot.trading, snapshot.trading_state_at)


@router.put(
    "/portfolio/trading-state",
    summary="Set the trading state: ACTIVE, REDUCING (no new entries) or HALTED",
    dependencies=Authorized,
    responses=UNAUTHORIZED,
)
async def put_trading_state(services: ServicesDep, body: TradingStateIn) -> TradingStateOut:
    """An operator's command (SPEC section 11). Setting the state it is in already changes
    nothing; a change is an event in the audit trail (campaign id ``portfolio``), a warning
    line and the ``campaign_trading_state`` gauge."""
    record, change = await set_trading_state(services.engine, body.state, body.reason)
    report_trading_state(record.state, change, source="api")
    return await get_trading_state(services)


@router.get("/policy", summary="The policy in force for new campaigns, and its id")
async def get_policy(services: ServicesDep) -> PolicyOut:
    return PolicyOut.of(services.client.policy)


async def _temporal(services: Services) -> str:
    try:
        serving = await services.client.temporal.service_client.check_health(
            timeout=timedelta(seconds=HEALTH_TIMEOUT)
        )
    except Exception as error:
        return f"unreachable: {error}"
    return "ok" if serving else "not serving"


async def _database(services: Services) -> str:
    try:
        await asyncio.wait_for(services.read_model.ping(), HEALTH_TIMEOUT)
    except TimeoutError:
        return f"unreachable: no answer within {HEALTH_TIMEOUT:g} s"
    except Exception as error:
        return f"unreachable: {error}"
    return "ok"


@health.get(
    "/healthz",
    summary="200 when Temporal and the database are reachable, else 503",
    responses={HTTPStatus.SERVICE_UNAVAILABLE.value: {"model": HealthOut}},
)
async def healthz(services: ServicesDep, response: Response) -> HealthOut:
    temporal, database = await asyncio.gather(_temporal(services), _database(services))
    healthy = temporal == database == "ok"
    if not healthy:
        response.status_code = HTTPStatus.SERVICE_UNAVAILABLE
    return HealthOut(
        status="ok" if healthy else "unavailable", temporal=temporal, database=database
    )
