"""What the dashboard shows beside the events, as the REST API answers it: a campaign with its
positions and metrics (and its mark, as ``GET /campaigns`` lists it), and the portfolio, both
from the read model (written in the same transaction as the events that changed them)."""

from collections.abc import Sequence
from typing import Any

from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api.campaigns import campaign_detail
from campaign_engine.api.schemas import MarkOut, PortfolioOut
from campaign_engine.api.services import CampaignView
from campaign_engine.db.marks import MarkInputs
from campaign_engine.db.read_model import ReadModel
from campaign_engine.domain.policy import Policy

Json = dict[str, JsonValue]


class Snapshots:
    def __init__(self, engine: AsyncEngine, policy: Policy) -> None:
        self._read_model = ReadModel(engine)
        self._policy = policy

    async def campaign(self, campaign_id: str) -> Json | None:
        """``GET /campaigns/{id}`` as the read model has it; None for an unknown id."""
        return (await self.campaigns([campaign_id])).get(campaign_id)

    async def campaigns(self, campaign_ids: Sequence[str]) -> dict[str, Json]:
        """Each of the campaigns the read model holds, read together (one query each for the
        rows, their positions and their symbols' prices, however many)."""
        shown: dict[str, Json] = {}
        stored = await self._read_model.campaigns_with_positions(campaign_ids)
        for campaign_id, (found, quote) in stored.items():
            view = CampaignView(
                campaign=found.campaign,
                positions=found.positions,
                equity=found.equity,
                source="read_model",
            )
            detail: Json = campaign_detail(view).model_dump(mode="json")
            inputs = MarkInputs(
                positions={campaign_id: found.positions},
                quotes={} if quote is None else {found.campaign.symbol: quote},
                equity=found.equity,
            )
            detail["mark"] = MarkOut.of(inputs.mark(found.campaign)).model_dump(mode="json")
            shown[campaign_id] = detail
        return shown

    async def portfolio(self) -> Json:
        """``GET /portfolio``."""
        snapshot = await self._read_model.portfolio(self._policy)
        shown: dict[str, Any] = PortfolioOut.of(snapshot).model_dump(mode="json")
        return shown
