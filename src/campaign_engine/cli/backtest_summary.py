"""What ``campaigns backtest`` prints of a report: its campaigns (every one of a short run; of a
long run the best and the worst, the rest being in the report files), then the portfolio's
figures, the trades by pattern and the exits by reason, and the refusals."""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from campaign_engine.backtest.campaigns import CampaignRow
    from campaign_engine.backtest.report import Report

EVERY_CAMPAIGN_UP_TO = 25
"""A run with at most this many campaigns prints every one (a longer one only with --all)."""
BEST_AND_WORST = 10
"""How many of the best and of the worst campaigns (by P&L) a longer run prints."""


def number_text(value: Decimal | int | None, places: int = 2) -> str:
    return "-" if value is None else f"{value:,.{places}f}"


def _table(title: str, head: Sequence[str], rows: Iterable[Sequence[str]]) -> "Table":
    from rich.table import Table

    table = Table(title=title)
    for n, name in enumerate(head):
        table.add_column(name, justify="left" if n == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _campaigns(title: str, campaigns: Iterable["CampaignRow"]) -> "Table":
    table = _table(title, ("campaign", "status", "entries", "exits", "P&L", "R"), ())
    table.columns[1].justify = "left"
    for c in campaigns:
        table.add_row(
            c.campaign_id,
            c.status,
            ", ".join(e.pattern for e in c.entries),
            str(len(c.exits)),
            number_text(c.total_pnl),
            number_text(c.r_multiple),
        )
    return table


def _figures(report: "Report") -> list[str]:
    p, t, dd = report.portfolio, report.portfolio.trades, report.portfolio.drawdown
    refused = ", ".join(f"{code} {n}" for code, n in report.signals.refused_by_code.items())
    longest = dd.longest.duration if dd.longest else None
    return [
        f"equity {number_text(p.starting_equity)} -> {number_text(p.final_equity)} "
        f"(net {number_text(p.net_pnl)}, {number_text(p.return_pct)}%)",
        f"trades {t.trades}: win rate {number_text(t.win_rate_pct)}%, "
        f"profit factor {number_text(t.profit_factor)}",
        f"expectancy {number_text(t.expectancy)} a trade, average R {number_text(t.average_r)}",
        f"max drawdown {number_text(dd.max_drawdown_pct)}% "
        f"({number_text(dd.max_drawdown)}), longest under water {longest or '-'}; "
        f"max heat {number_text(p.max_heat_pct)}%",
        f"signals {report.signals.decided}: {report.signals.approved} approved, "
        f"{report.signals.refused} refused" + (f" ({refused})" if refused else ""),
    ]


def summary(
    report: "Report", console: "Console", every: bool = False, full_list: str = "the report"
) -> None:
    """Print ``report``: every campaign when there are few or ``every`` is set, else the
    best and the worst by P&L and where the rest are (``full_list``)."""
    campaigns = report.campaigns
    if every or len(campaigns) <= EVERY_CAMPAIGN_UP_TO:
        console.print(_campaigns("Campaigns", campaigns))
    else:
        # stable sorts: campaigns of equal P&L stay in the order they were created
        best = sorted(campaigns, key=lambda c: c.total_pnl, reverse=True)[:BEST_AND_WORST]
        worst = sorted(campaigns, key=lambda c: c.total_pnl)[:BEST_AND_WORST]
        console.print(_campaigns(f"Best {len(best)} campaigns by P&L", best))
        console.print(_campaigns(f"Worst {len(worst)} campaigns by P&L", worst))
        console.print(
            f"{len(campaigns)} campaigns in all: every one is in {full_list} "
            "(--all prints them here)",
            highlight=False,
        )
    stats_head = ("trades by pattern", "trades", "win rate", "net P&L", "profit factor", "avg R")
    by_pattern = {"all": report.portfolio.trades, **report.by_pattern}
    if report.portfolio.trades.trades:
        rows = [
            (
                name,
                str(s.trades),
                f"{number_text(s.win_rate_pct)}%",
                number_text(s.net_pnl),
                number_text(s.profit_factor),
                number_text(s.average_r),
            )
            for name, s in by_pattern.items()
        ]
        console.print(_table("Trades", stats_head, rows))
    if report.by_exit_reason:
        reasons = [
            (
                name,
                str(s.exits),
                number_text(s.shares, 0),
                number_text(s.realized_pnl),
                number_text(s.average_r),
            )
            for name, s in report.by_exit_reason.items()
        ]
        console.print(_table("Exits", ("exit reason", "exits", "shares", "P&L", "avg R"), reasons))
    for line in _figures(report):
        console.print(line, highlight=False)
