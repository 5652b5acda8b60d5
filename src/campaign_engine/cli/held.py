"""The commands for price updates held back as bad prints (SPEC section 11): ``held`` lists
them, ``release`` lets one in, ``discard`` drops it. They work on the database, as the API's
/prices/held does; a released update enters the durable intake, which the API that delivers
prices sends on (``campaigns prices`` bypasses the intake and holds in memory only)."""

from typing import Annotated, Any

import typer

from campaign_engine.cli.common import Failure, out, read_settings, run


def held(
    every: Annotated[
        bool, typer.Option("--all", help="Also those confirmed, released or discarded.")
    ] = False,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List the price updates held back as bad prints, newest first."""
    from rich.table import Table

    from campaign_engine.db.price_screens import HoldStatus

    async def main(held_prices: Any) -> Any:
        status = None if every else HoldStatus.HELD
        return await held_prices.holds(status=status, symbol=symbol, limit=limit)

    holds = run(_with_holds(main))
    table = Table("id", "symbol", "as of", "low..high", "last accepted", "held at", "status")
    for hold in holds:
        update = hold.update
        table.add_row(
            str(hold.hold_id),
            hold.symbol,
            update.as_of.isoformat(),
            f"{update.bar_low:f}..{update.bar_high:f}",
            f"{hold.reference:f}",
            hold.held_at.isoformat(timespec="seconds"),
            hold.status.value
            if hold.resolution is None
            else f"{hold.status.value}: {hold.resolution}",
        )
    out.print(table if holds else "no price update is held")


def release(
    hold_id: Annotated[int, typer.Argument(help="The hold's id (campaigns held).")],
) -> None:
    """Let a held update in: it enters the intake as if accepted now."""

    async def main(held_prices: Any) -> Any:
        return await _resolving(held_prices.release, hold_id)

    released = run(_with_holds(main))
    late = " (too late for any campaign: its symbol has a later bar)" if released.too_old else ""
    out.print(f"released price hold {hold_id} ({released.hold.symbol}){late}")


def discard(
    hold_id: Annotated[int, typer.Argument(help="The hold's id (campaigns held).")],
) -> None:
    """Drop a held update: no campaign ever gets it."""

    async def main(held_prices: Any) -> Any:
        return await _resolving(held_prices.discard, hold_id)

    hold = run(_with_holds(main))
    out.print(f"discarded price hold {hold_id} ({hold.symbol})")


async def _resolving(action: Any, hold_id: int) -> Any:
    from campaign_engine.db.price_holds import HoldNotFound, NotHeld

    try:
        return await action(hold_id)
    except (HoldNotFound, NotHeld) as error:
        raise Failure(str(error)) from None


async def _with_holds(work: Any) -> Any:
    from campaign_engine.db.bootstrap import database_url
    from campaign_engine.db.engine import create_engine_for
    from campaign_engine.db.price_holds import HeldPrices

    settings = read_settings()
    engine = create_engine_for(database_url(settings), pool_size=1)
    try:
        return await work(HeldPrices(engine))
    finally:
        await engine.dispose()
