"""How the CLI shows plans and campaigns in a terminal (rich)."""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from campaign_engine.domain.ledger import summarize
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import CampaignStatus

_STATUS_STYLE = {
    CampaignStatus.ACTIVE.value: "cyan",
    CampaignStatus.MARKUP.value: "green",
    CampaignStatus.COMPLETED.value: "bold green",
    CampaignStatus.INVALIDATED.value: "red",
}


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.normalize():f}%"


def status_text(status: str) -> str:
    style = _STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/{style}]" if style else status


def plans_table(plans: Iterable[AllocationPlan]) -> Table:
    table = Table(title="Allocation plans, in decision order")
    for name in ("campaign", "pattern", "decision", "shares", "risk", "risk %", "heat after"):
        table.add_column(name, justify="right" if name in {"shares", "risk", "risk %"} else "left")
    for plan in plans:
        decision = (
            "[green]approved[/green]"
            if plan.approved
            else f"[red]rejected[/red] {plan.rejection_code.value if plan.rejection_code else ''}"
        )
        table.add_row(
            plan.campaign_id,
            plan.pattern.value,
            decision,
            f"{plan.shares.normalize():f}",
            _money(plan.risk_amount),
            _pct(plan.actual_risk_pct),
            _pct(plan.heat_after_pct),
        )
    return table


def campaign_panel(state: CampaignState, equity: MoneyValue) -> Panel:
    summary = summarize(state.positions, mark=state.last_price, equity=equity)
    head = Table.grid(padding=(0, 2))
    head.add_row("status", status_text(state.status.value), "phase", state.phase.value)
    head.add_row("symbol", state.symbol, "version", str(state.version))
    head.add_row("allocation", _pct(state.total_allocation), "open risk", _money(state.open_risk))
    head.add_row(
        "creek / ice / jump",
        f"{state.trading_range.creek} / {state.trading_range.ice} / {state.trading_range.jump}",
        "last price",
        "-" if state.last_price is None else str(state.last_price),
    )
    head.add_row(
        "realized P&L", _money(summary.realized_pnl), "total P&L", _money(summary.total_pnl)
    )
    if state.invalidation_reason:
        head.add_row("invalidated", state.invalidation_reason, "", "")
    if state.quarantine_reason:
        head.add_row("quarantined", state.quarantine_reason, "", "")
    positions = Table(title="Positions")
    for name in ("pattern", "status", "entry", "stop", "targets hit", "open / shares", "P&L"):
        positions.add_column(name)
    for p in state.positions:
        positions.add_row(
            p.pattern.value,
            p.status.value,
            str(p.average_entry_price),
            str(p.stop),
            f"{p.targets_hit}/{len(p.targets)}",
            f"{p.open_shares.normalize():f} / {p.shares.normalize():f}",
            _money(p.realized_pnl),
        )
    return Panel(Group(head, positions), title=f"campaign {state.campaign_id}")


def campaigns_table(rows: Sequence[Any], *, total: int | None = None) -> Table:
    """Rows of the read model (anything with the campaign's columns as attributes)."""
    caption = None if total is None else f"{len(rows)} of {total}"
    table = Table(title="Campaigns", caption=caption)
    for name in ("campaign", "symbol", "status", "phase", "version", "allocation", "open risk"):
        table.add_column(name)
    table.add_column("realized P&L", justify="right")
    for row in rows:
        table.add_row(
            row.campaign_id,
            row.symbol,
            status_text(str(row.status)),
            str(row.phase),
            str(row.version),
            _pct(row.total_allocation),
            _money(row.open_risk),
            _money(row.realized_pnl),
        )
    return table
