"""What the dashboard shows beside the events, as the REST API answers it: a campaign with its
positions and metrics (and its mark, as ``GET /campaigns`` lists it), and the portfolio, both
from the read model (written in the same transaction as the events that changed them)."""

from typing import Any

from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api.campaigns import campaign_detail
from campaign_engine.api.schemas import MarkOut, PortfolioOut
from campaign_engine.api.services import CampaignView
from campaign_engine.db.marks import MarkInputs, newest_quotes
from campaign_engine.db.read_model import ReadModel
from campaign_engine.domain.policy import Policy

Json = dict[str, JsonValue]


class Snapshots:
    def __init__(self, engine: AsyncEngine, policy: Policy) -> None:
        self._read_model = ReadModel(engine)
        self._policy = policy

    async def campaign(self, campaign_id: str) -> Json | None:
        """``GET /campaigns/{id}`` as the read model has it; None for an unknown id."""
        stored = await self._read_model.campaign_with_positions(campaign_id)
        if stored is None:
            return None
        view = CampaignView(
            campaign=stored.campaign,
            positions=stored.positions,
            equity=stored.equity,
            source="read_model",
        )
        shown: Json = campaign_detail(view).model_dump(mode="json")
        async with self._read_model.engine.connect() as conn:
            quotes = await newest_quotes(conn, [stored.campaign.symbol])
        inputs = MarkInputs(
            positions={campaign_id: stored.positions}, quotes=quotes, equity=stored.equity
        )
        shown["mark"] = MarkOut.of(inputs.mark(stored.campaign)).model_dump(mode="json")
        return shown

    async def portfolio(self) -> Json:
        """``GET /portfolio``."""
        snapshot = await self._read_model.portfolio(self._policy)
        shown: dict[str, Any] = PortfolioOut.of(snapshot).model_dump(mode="json")
        return shown
