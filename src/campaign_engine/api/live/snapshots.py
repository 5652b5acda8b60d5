"""What the dashboard shows beside the events, as the REST API answers it: a campaign with its
positions and metrics (and its mark, as ``GET /campaigns`` lists it), and the portfolio, both
from the read model (written in the same transaction as the events that changed them).

Read on the live stream's reader thread (``db.reader_thread``), not on the API's loop: during
a burst of prices that loop runs each await of a read behind hundreds of sends, and these reads
are what the page's rows wait for."""

from collections.abc import Sequence
from typing import Any

from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api.campaigns import campaign_detail
from campaign_engine.api.schemas import MarkOut, PortfolioOut
from campaign_engine.api.services import CampaignView
from campaign_engine.db.marks import MarkInputs
from campaign_engine.db.read_model import ReadModel
from campaign_engine.db.reader_thread import ReaderThread
from campaign_engine.domain.policy import Policy

Json = dict[str, JsonValue]


class Snapshots:
    def __init__(self, reader: ReaderThread, policy: Policy) -> None:
        self._reader = reader
        self._policy = policy

    async def campaign(self, campaign_id: str) -> Json | None:
        """``GET /campaigns/{id}`` as the read model has it; None for an unknown id."""
        return (await self.campaigns([campaign_id])).get(campaign_id)

    async def campaigns(self, campaign_ids: Sequence[str]) -> dict[str, Json]:
        """Each of the campaigns the read model holds, read together (one query each for the
        rows, their positions and their symbols' prices, however many)."""
        if not campaign_ids:
            return {}
        return await self._reader.run(lambda engine: self._campaigns(engine, campaign_ids))

    async def _campaigns(self, engine: AsyncEngine, campaign_ids: Sequence[str]) -> dict[str, Json]:
        shown: dict[str, Json] = {}
        stored = await ReadModel(engine).campaigns_with_positions(campaign_ids)
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
        return await self._reader.run(self._portfolio)

    async def _portfolio(self, engine: AsyncEngine) -> Json:
        snapshot = await ReadModel(engine).portfolio(self._policy)
        shown: dict[str, Any] = PortfolioOut.of(snapshot).model_dump(mode="json")
        return shown
