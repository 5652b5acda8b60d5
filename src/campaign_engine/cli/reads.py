"""The commands that read campaigns: ``status`` (one campaign's live state) and ``list``
(campaigns from the database)."""

import json
from typing import Annotated, Any

import typer

from campaign_engine.cli.common import (
    Failure,
    campaign_client,
    dump,
    out,
    read_settings,
    run,
)
from campaign_engine.runtime.settings import Settings


def status(
    campaign_id: Annotated[str, typer.Argument(help="The campaign id, e.g. AAPL-2024-10-15")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
) -> None:
    """Show one campaign's live state (from its workflow; from the database once it ended)."""
    from campaign_engine.cli.views import campaign_panel

    async def main() -> Any:
        settings = read_settings()
        client = await campaign_client(settings)
        from temporalio.service import RPCError

        try:
            state = await client.status(campaign_id)
        except RPCError:
            state = await _stored_state(settings, campaign_id)
        if state is None or not state.exists:
            raise Failure(f"there is no campaign {campaign_id}")
        return state

    state = run(main())
    if as_json:
        out.print_json(json.dumps(dump(state)))
    else:
        out.print(campaign_panel(state, read_settings().account_equity))


async def _stored_state(settings: Settings, campaign_id: str) -> Any:
    from campaign_engine.db.bootstrap import database_url
    from campaign_engine.db.engine import create_engine_for
    from campaign_engine.db.repository import CampaignRepository

    engine = create_engine_for(database_url(settings), pool_size=1)
    try:
        state, _ = await CampaignRepository(engine).load_state(campaign_id)
        return state
    finally:
        await engine.dispose()


def list_campaigns(
    status: Annotated[
        str | None, typer.Option(help="ACTIVE, MARKUP, QUARANTINED, COMPLETED or INVALIDATED.")
    ] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List campaigns from the database, newest first."""
    from campaign_engine.cli.views import campaigns_table
    from campaign_engine.db.bootstrap import database_url
    from campaign_engine.db.engine import create_engine_for
    from campaign_engine.db.read_model import ReadModel
    from campaign_engine.domain.vocabulary import CampaignStatus

    wanted: CampaignStatus | None = None
    if status is not None:
        try:
            wanted = CampaignStatus(status.strip().upper())
        except ValueError:
            allowed = ", ".join(s.value for s in CampaignStatus)
            raise typer.BadParameter(f"{status!r} is not one of {allowed}") from None

    async def main() -> Any:
        engine = create_engine_for(database_url(read_settings()), pool_size=1)
        try:
            return await ReadModel(engine).list_campaigns(
                status=wanted, symbol=symbol, limit=limit, offset=offset
            )
        finally:
            await engine.dispose()

    page = run(main())
    out.print(campaigns_table(page, total=page.total_count))
