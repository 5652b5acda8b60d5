"""What the routes work with: the client, the read model and the price publisher, and the one
rule for reading a campaign: the live workflow's state where it is fresher than the read
model, the read model where the workflow is gone, slow or unreachable."""

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, assert_never

import structlog
from fastapi import Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api.schemas import Source
from campaign_engine.client.campaign_client import CampaignClient, CampaignRefused
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.db.read_model import CampaignRecord, ReadModel
from campaign_engine.domain.errors import Refusal
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue
from campaign_engine.price_feed.leader import PriceDelivery
from campaign_engine.runtime.settings import Settings

log = structlog.get_logger("campaign_engine.api")

LIVE_STATE_TIMEOUT = 1.0  # seconds; a GET never waits longer than this for Temporal


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignView:
    campaign: CampaignRecord
    positions: tuple[Position, ...]
    equity: MoneyValue
    source: Source
    state: CampaignState | None = None  # the live state, when that is what was read


class Services:
    def __init__(
        self,
        settings: Settings,
        client: CampaignClient,
        engine: AsyncEngine,
        prices: PriceDelivery,
        *,
        live_timeout: float = LIVE_STATE_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.client = client
        self.engine = engine
        self.read_model = ReadModel(engine)
        self.prices = prices
        self.intake = PriceIntake(engine, band_pct=client.policy.bad_print_band_pct)
        self.live_timeout = live_timeout

    async def live_state(self, campaign_id: str) -> CampaignState | None:
        """The workflow's state, or None when it cannot be had quickly (no such workflow,
        Temporal down or slow, no worker to answer a query on an ended run)."""
        try:
            return await asyncio.wait_for(self.client.status(campaign_id), self.live_timeout)
        except Exception as error:  # any failure only means: read the read model
            log.debug("live_state_unavailable", campaign_id=campaign_id, error=repr(error))
            return None

    async def campaign_view(self, campaign_id: str) -> CampaignView | None:
        stored = await self.read_model.campaign_with_positions(campaign_id)
        if stored is not None and stored.campaign.is_final:
            return CampaignView(
                campaign=stored.campaign,
                positions=stored.positions,
                equity=stored.equity,
                source="read_model",
            )
        live = await self.live_state(campaign_id)
        # The read model moves through the workflow's versions behind it; at the same
        # version the workflow may still be fresher (a price that crossed nothing moves the
        # last price without a new version, and is not written).
        if (
            live is not None
            and live.exists
            and (stored is None or live.version >= stored.campaign.version)
        ):
            equity = stored.equity if stored is not None else await self.read_model.equity()
            return CampaignView(
                campaign=CampaignRecord.from_state(live, equity),
                positions=live.positions,
                equity=equity,
                source="workflow",
                state=live,
            )
        if stored is None:
            return None
        return CampaignView(
            campaign=stored.campaign,
            positions=stored.positions,
            equity=stored.equity,
            source="read_model",
        )

    async def require_campaign(self, campaign_id: str) -> CampaignView:
        view = await self.campaign_view(campaign_id)
        if view is None:
            raise not_found(campaign_id)
        return view

    async def refusal_error(self, campaign_id: str, refusal: CampaignRefused) -> HTTPException:
        """The HTTP answer to a refused operator command."""
        if refusal.kind is Refusal.NO_CAMPAIGN:
            # The workflow may be gone while the read model still knows the campaign.
            stored = await self.read_model.campaign(campaign_id)
            if stored is not None and stored.status.is_terminal:
                return HTTPException(
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                    f"campaign {campaign_id} is already {stored.status.value}",
                )
            return not_found(campaign_id)
        return HTTPException(http_status(refusal.kind), str(refusal))


def http_status(refusal: Refusal) -> HTTPStatus:
    """The answer to each refusal; mypy checks that every member of the enum has one."""
    match refusal:
        case Refusal.NO_CAMPAIGN:
            return HTTPStatus.NOT_FOUND
        case Refusal.VERSION_CONFLICT:
            return HTTPStatus.CONFLICT
        case (
            Refusal.CAMPAIGN_CLOSED
            | Refusal.INVALID_TRANSITION
            | Refusal.INVALID_COMMAND
            | Refusal.REFUSED
        ):
            return HTTPStatus.UNPROCESSABLE_ENTITY
        case _:
            assert_never(refusal)


def not_found(campaign_id: str) -> HTTPException:
    return HTTPException(HTTPStatus.NOT_FOUND, f"there is no campaign {campaign_id}")


def get_services(request: Request) -> Services:
    services = getattr(request.app.state, "services", None)
    if not isinstance(services, Services):
        raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, "the API is starting up")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
