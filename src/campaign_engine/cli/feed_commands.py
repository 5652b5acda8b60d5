"""The commands that feed campaigns: ``submit`` (entry signals) and ``prices`` (price updates),
each read from a file or stdin."""

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from campaign_engine.cli.common import (
    Failure,
    campaign_client,
    dump,
    out,
    parse,
    read_settings,
    run,
)

if TYPE_CHECKING:
    from campaign_engine.domain.market import PriceUpdate


def submit(
    file: Annotated[
        str, typer.Argument(help="JSON file with one signal or an array; - reads stdin")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plans as JSON.")] = False,
) -> None:
    """Submit entry signals; several are decided as a batch, in priority order."""
    from campaign_engine.cli.views import plans_table
    from campaign_engine.client.campaign_client import CampaignRefused
    from campaign_engine.formats.input_files import parse_signals, read_text

    signals = parse(lambda: parse_signals(read_text(file), file))

    async def main() -> list[Any]:
        client = await campaign_client(read_settings())
        try:
            if len(signals) == 1:
                return [await client.submit(signals[0])]
            return list(await client.submit_batch(signals))
        except CampaignRefused as error:
            raise Failure(f"refused ({error.kind}): {error}") from None

    plans = run(main())
    if as_json:
        out.print_json(json.dumps([dump(plan) for plan in plans]))
    else:
        out.print(plans_table(plans))


def prices(
    file: Annotated[
        str, typer.Argument(help="JSON (object or array) or CSV of price updates; - reads stdin")
    ],
) -> None:
    """Publish price updates to the open campaigns on their symbols (coalesced per symbol)."""
    from campaign_engine.db.bootstrap import database_url
    from campaign_engine.formats.input_files import parse_prices, read_text
    from campaign_engine.price_feed.publisher import DatabaseDirectory

    updates = parse(lambda: parse_prices(read_text(file), file))

    async def main() -> tuple[int, int, int, list["PriceUpdate"]]:
        from campaign_engine.db.engine import create_engine_for
        from campaign_engine.db.price_screens import references
        from campaign_engine.price_feed.screen import PrintScreens

        settings = read_settings()
        client = await campaign_client(settings)
        engine = create_engine_for(database_url(settings), pool_size=2)
        try:
            async with engine.connect() as conn:  # each symbol's last price POST /prices took
                screen = PrintScreens(settings.policy.bad_print_band_pct, await references(conn))
            async with client.publisher(DatabaseDirectory(engine), screen=screen) as publisher:
                for update in updates:
                    await publisher.publish(update)
            return (
                publisher.updates_received,
                publisher.signals_sent,
                publisher.updates_too_old,
                publisher.still_held(),
            )
        finally:
            await engine.dispose()

    received, sent, too_old, held = run(main())
    out.print(f"published {received} update(s) as {sent} signal(s) to campaigns")
    if too_old:
        # Older than a bar its symbol had sent already: no campaign could take them.
        out.print(f"{too_old} update(s) were older than what their symbol had sent: not used")
    for update in held:
        # Never confirmed: the file ended with it held (SPEC section 11).
        out.print(
            f"held as a bad print, not published: {update.symbol} at {update.as_of.isoformat()} "
            f"({update.bar_low:f}..{update.bar_high:f})"
        )
