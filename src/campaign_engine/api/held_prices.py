"""/prices/held: the price updates held back as bad prints (SPEC section 11), and an
operator's release or discard of one (db/price_screens.py)."""

from http import HTTPStatus
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from campaign_engine.api.auth import UNAUTHORIZED, Authorized
from campaign_engine.api.schemas.encoding import DecimalStr, ErrorOut, UtcTime
from campaign_engine.api.services import ServicesDep
from campaign_engine.db.price_holds import HeldPrices, Hold, HoldNotFound, NotHeld
from campaign_engine.db.price_screens import HoldStatus
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.types import Symbol
from campaign_engine.runtime import price_metrics

router = APIRouter(prefix="/prices/held", tags=["signals and prices"])
log = structlog.get_logger("campaign_engine.api")

MAX_HOLDS = 1_000
HoldId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the hold's id")]
_RESOLVE: dict[int | str, dict[str, Any]] = {
    HTTPStatus.NOT_FOUND.value: {"model": ErrorOut, "description": "no such hold"},
    HTTPStatus.CONFLICT.value: {
        "model": ErrorOut,
        "description": "the update is no longer held (confirmed, released or discarded)",
    },
    **UNAUTHORIZED,
}


class HeldPriceOut(BaseModel):
    hold_id: int
    symbol: str
    update: PriceUpdate = Field(description="the update as POST /prices accepted it")
    as_of: UtcTime = Field(description="its market time")
    low: DecimalStr = Field(description="its lowest price (a tick's price)")
    high: DecimalStr = Field(description="its highest price (a tick's price)")
    reference: DecimalStr = Field(description="the symbol's last accepted price when held")
    held_at: UtcTime
    status: Literal["held", "confirmed", "released", "discarded"]
    resolved_at: UtcTime | None = None
    resolution: str | None = Field(default=None, description="why it is no longer held")

    @classmethod
    def of(cls, hold: Hold) -> "HeldPriceOut":
        return cls(
            hold_id=hold.hold_id,
            symbol=hold.symbol,
            update=hold.update,
            as_of=hold.update.as_of,
            low=hold.update.bar_low,
            high=hold.update.bar_high,
            reference=hold.reference,
            held_at=hold.held_at,
            status=hold.status.value,
            resolved_at=hold.resolved_at,
            resolution=hold.resolution,
        )


class HeldPricesOut(BaseModel):
    holds: list[HeldPriceOut] = Field(description="newest first")


class ReleasedOut(BaseModel):
    hold: HeldPriceOut
    too_old: bool = Field(
        description="its symbol had made a bar at or after its market time already: no "
        "campaign can use it (it is still the symbol's last accepted price)"
    )


@router.get(
    "",
    summary="Price updates held back as bad prints, newest first",
    description="An update further from its symbol's last accepted price than the policy's "
    "`bad_print_band_pct` is held, not acted on, until the next update confirms it (both are "
    "taken) or refutes it (it is discarded), or an operator releases or discards it. "
    "`status=held` (the default) lists those still waiting; `all` every one.",
)
async def list_held(
    services: ServicesDep,
    status: Literal["held", "confirmed", "released", "discarded", "all"] = "held",
    symbol: Symbol | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HOLDS)] = 100,
) -> HeldPricesOut:
    wanted = None if status == "all" else HoldStatus(status)
    holds = await HeldPrices(services.engine).holds(status=wanted, symbol=symbol, limit=limit)
    return HeldPricesOut(holds=[HeldPriceOut.of(h) for h in holds])


@router.post(
    "/{hold_id}/release",
    summary="Take a held update: it reaches the campaigns as an accepted update",
    description="The update is appended to the intake as if accepted now and becomes its "
    "symbol's last accepted price. It reaches the campaigns at its own market time; when its "
    "symbol has sent a bar at or after that time already it is too late for any (`too_old`), "
    "as any late update is.",
    dependencies=Authorized,
    responses=_RESOLVE,
)
async def release_held(services: ServicesDep, hold_id: HoldId) -> ReleasedOut:
    try:
        released = await HeldPrices(services.engine).release(hold_id)
    except (HoldNotFound, NotHeld) as error:
        raise _refused(error) from None
    services.prices.appended()
    price_metrics.accepted([released.hold.update], int(released.too_old), 0)
    log.warning("price_hold_released", hold_id=hold_id, symbol=released.hold.symbol)
    return ReleasedOut(hold=HeldPriceOut.of(released.hold), too_old=released.too_old)


@router.post(
    "/{hold_id}/discard",
    summary="Drop a held update: no campaign ever gets it",
    dependencies=Authorized,
    responses=_RESOLVE,
)
async def discard_held(services: ServicesDep, hold_id: HoldId) -> HeldPriceOut:
    try:
        hold = await HeldPrices(services.engine).discard(hold_id)
    except (HoldNotFound, NotHeld) as error:
        raise _refused(error) from None
    log.warning("price_hold_discarded", hold_id=hold_id, symbol=hold.symbol)
    return HeldPriceOut.of(hold)


def _refused(error: HoldNotFound | NotHeld) -> HTTPException:
    status = HTTPStatus.NOT_FOUND if isinstance(error, HoldNotFound) else HTTPStatus.CONFLICT
    return HTTPException(status, str(error))
