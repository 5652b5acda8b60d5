"""``campaigns trading-state``: show the portfolio's trading state (SPEC section 11), or set it
as an operator (``--set ACTIVE`` lifts a halt). It works on the database directly, like
``list``: the state is the portfolio's, not a workflow's."""

from typing import Annotated, Any

import typer

from campaign_engine.cli.common import out, read_settings, run


def trading_state(
    set_to: Annotated[
        str | None,
        typer.Option("--set", help="ACTIVE, REDUCING (no new entries) or HALTED."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why, for the audit trail.")] = "set by the operator",
) -> None:
    """Show the trading state, or set it (--set ACTIVE returns a halted portfolio to trading)."""
    from campaign_engine.db.bootstrap import database_url
    from campaign_engine.db.engine import create_engine_for
    from campaign_engine.db.read_model import ReadModel
    from campaign_engine.db.trading_state import set_trading_state
    from campaign_engine.domain.vocabulary import TradingState

    wanted: TradingState | None = None
    if set_to is not None:
        try:
            wanted = TradingState(set_to.strip().upper())
        except ValueError:
            allowed = ", ".join(s.value for s in TradingState)
            raise typer.BadParameter(f"{set_to!r} is not one of {allowed}") from None
    cleaned = reason.strip()
    if not cleaned or len(cleaned) > 500 or any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise typer.BadParameter("the reason must be 1-500 printable characters")
    settings = read_settings()

    async def main() -> Any:
        engine = create_engine_for(database_url(settings), pool_size=1)
        try:
            if wanted is not None:
                await set_trading_state(engine, wanted, cleaned)
            return await ReadModel(engine).portfolio(settings.policy)
        finally:
            await engine.dispose()

    shown = run(main())
    line = f"trading state {shown.trading_state.value}"
    if shown.trading.reason:
        line += f": {shown.trading.reason}"
    out.print(line, markup=False, highlight=False)
    out.print(
        f"marked equity {shown.marked_equity} (equity {shown.equity}, unrealized "
        f"{shown.unrealized_pnl})",
        markup=False,
        highlight=False,
    )
    if shown.equity_alert:
        out.print(f"ALERT: {shown.equity_alert}", markup=False, highlight=False)
