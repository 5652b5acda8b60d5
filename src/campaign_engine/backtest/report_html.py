"""The report as one self-contained HTML page: the numbers traders look for first, the equity
curve and heat over time, the tables (campaigns, per pattern, per exit reason, refusals), and
each campaign's bars with its entries, exits, stops and targets. Nothing is fetched: the
styles, the charts' data (compact JSON) and the script that draws them (SVG) are inside the
file."""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from html import escape
from pathlib import Path

from campaign_engine.backtest.campaign_chart import campaign_chart, stop_moves
from campaign_engine.backtest.campaigns import CampaignRow
from campaign_engine.backtest.chart_bars import bars_of
from campaign_engine.backtest.chart_script import CHART_SCRIPT
from campaign_engine.backtest.charts import Level, line_chart
from campaign_engine.backtest.engine import BacktestRun
from campaign_engine.backtest.metrics import TradeStats
from campaign_engine.backtest.report import Report
from campaign_engine.backtest.timeline import Timeline

_NONE = "&ndash;"

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#111827;
background:#f8fafc}main{max-width:1000px;margin:0 auto;padding:24px}h1{margin:0 0 4px}
h2{margin:32px 0 8px;font-size:18px}h3{margin:24px 0 4px;font-size:16px}.muted{color:#6b7280}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;
margin:16px 0}.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px}
.card b{display:block;font-size:19px}.card span{color:#6b7280;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f1f5f9;font-weight:600}
.pos{color:#15803d}.neg{color:#dc2626}svg{background:#fff;border:1px solid #e5e7eb;
border-radius:8px;width:100%;height:auto}.grid{stroke:#eef2f7}.tick{font-size:11px;
fill:#6b7280}.tag{font-size:11px}section.campaign{margin-top:28px}
"""


def _num(value: Decimal | int | None, places: int = 2, sign: bool = False) -> str:
    if value is None:
        return _NONE
    text = f"{value:{'+' if sign else ''},.{places}f}"
    css = "pos" if value > 0 else "neg" if value < 0 else ""
    return f'<span class="{css}">{text}</span>' if sign and css else text


def _time(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else _NONE


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    return (
        f"{days}d {rest // 3600}h {rest % 3600 // 60}m"
        if days
        else f"{rest // 3600}h {rest % 3600 // 60}m"
    )


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    titles = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{titles}</tr></thead><tbody>{body}</tbody></table>"


def _cards(report: Report) -> str:
    p, t, dd = report.portfolio, report.portfolio.trades, report.portfolio.drawdown
    longest = dd.longest
    cards = [
        ("Final equity", _num(p.final_equity), f"from {_num(p.starting_equity)}"),
        ("Net P&L", _num(p.net_pnl, sign=True), f"{_num(p.return_pct, 2, sign=True)}%"),
        ("Win rate", f"{_num(t.win_rate_pct)}%", f"{t.wins} of {t.trades} trades"),
        ("Profit factor", _num(t.profit_factor), "gross profit / gross loss"),
        ("Expectancy", _num(t.expectancy, sign=True), "per trade"),
        ("Average R", _num(t.average_r, sign=True), "per trade"),
        ("Max drawdown", f"{_num(dd.max_drawdown_pct)}%", f"{_num(dd.max_drawdown)}"),
        (
            "Max drawdown duration",
            _duration(longest.duration_seconds) if longest else _NONE,
            "under a previous peak",
        ),
        ("Max heat", f"{_num(p.max_heat_pct)}%", f"limit {_num(p.portfolio_max_heat_pct, 1)}%"),
        (
            "Campaigns",
            str(p.campaigns),
            ", ".join(f"{k} {v}" for k, v in p.campaigns_by_status.items()),
        ),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><span>{escape(title)}</span><b>{value}</b><span>{note}</span></div>'
            for title, value, note in cards
        )
        + "</div>"
    )


def _stats_rows(by: dict[str, TradeStats]) -> list[list[str]]:
    return [
        [
            escape(name),
            str(s.trades),
            f"{_num(s.win_rate_pct)}%",
            _num(s.net_pnl, sign=True),
            _num(s.profit_factor),
            _num(s.expectancy, sign=True),
            _num(s.average_r, sign=True),
            _num(s.best, sign=True),
            _num(s.worst, sign=True),
        ]
        for name, s in by.items()
    ]


def _campaign_rows(report: Report) -> list[list[str]]:
    return [
        [
            f'<a href="#{escape(c.campaign_id)}">{escape(c.campaign_id)}</a>',
            escape(c.status),
            escape(", ".join(e.pattern for e in c.entries)),
            str(len(c.exits)),
            _num(c.realized_pnl, sign=True),
            _num(c.unrealized_pnl, sign=True),
            _num(c.r_multiple, sign=True),
            _num(c.open_risk_pct, 4),
            _num(c.committed_risk_pct, 4),
        ]
        for c in report.campaigns
    ]


def _chart(key: str) -> str:
    return f'<div class="chart" data-chart="{key}"></div>'


def _campaign_section(key: str, c: CampaignRow) -> str:
    entries = _table(
        ["entry", "signal", "shares", "price", "initial stop", "last stop", "targets", "P&L", "R"],
        [
            [
                e.pattern,
                escape(e.signal),
                _num(e.shares, 0),
                _num(e.price),
                _num(e.initial_stop),
                _num(e.stop),
                ", ".join(_num(t) for t in e.targets),
                _num(e.realized_pnl, sign=True),
                _num(e.r_multiple, sign=True),
            ]
            for e in c.entries
        ],
    )
    exits = _table(
        ["exit", "entry", "at", "shares", "price", "P&L", "R"],
        [
            [
                x.reason.value,
                x.pattern,
                _time(x.at),
                _num(x.shares, 0),
                _num(x.price),
                _num(x.realized_pnl, sign=True),
                _num(x.r_multiple, sign=True),
            ]
            for x in c.exits
        ],
    )
    why = f" — {escape(c.invalidation_reason)}" if c.invalidation_reason else ""
    return (
        f'<section class="campaign" id="{escape(c.campaign_id)}"><h3>{escape(c.campaign_id)} · '
        f"{escape(c.status)} · P&amp;L {_num(c.total_pnl, sign=True)} · R "
        f'{_num(c.r_multiple, sign=True)}</h3><p class="muted">opened {_time(c.created_at)}, '
        f"closed {_time(c.closed_at)}{why}</p>{_chart(key)}{entries}{exits}"
        "</section>"
    )


def render_html(report: Report, run: BacktestRun, timeline: Timeline) -> str:
    p = report.portfolio
    limit = Level(p.portfolio_max_heat_pct, "#dc2626", f"limit {p.portfolio_max_heat_pct}%")
    charts = {
        "equity": line_chart([(e.at, e.equity) for e in report.equity_curve], "Equity"),
        "heat": line_chart(
            [(h.at, h.heat_pct) for h in report.heat], "Heat", "pct", "#ea580c", [limit], 200
        ),
    }
    reasons = [
        [
            name,
            str(s.exits),
            _num(s.shares, 0),
            _num(s.realized_pnl, sign=True),
            _num(s.average_r, sign=True),
        ]
        for name, s in report.by_exit_reason.items()
    ]
    codes = [[escape(code), str(n)] for code, n in report.signals.refused_by_code.items()]
    refusals = [
        [
            escape(r.signal),
            escape(r.symbol),
            r.pattern,
            _time(r.decided_at),
            escape(r.code) if r.code else _NONE,
            escape(r.reason or ""),
        ]
        for r in report.signals.refusals
    ]
    bars = bars_of(timeline, {c.symbol for c in report.campaigns})
    moves = stop_moves(run)
    for n, c in enumerate(report.campaigns):
        charts[f"c{n}"] = campaign_chart(moves.get(c.campaign_id, []), c, bars[c.symbol])
    stats_head = ["", "trades", "win rate", "net P&L", "profit factor", "expectancy", "avg R"]
    stats_head += ["best", "worst"]
    s = report.signals
    body = [
        f"<h1>Backtest</h1><p class='muted'>{escape(report.source)} · {_time(report.start)} to "
        f"{_time(report.end)} · {report.bars:,} bars · {s.decided} signals decided</p>",
        _cards(report),
        f"<h2>Equity</h2>{_chart('equity')}<h2>Heat</h2>{_chart('heat')}",
        "<h2>Campaigns</h2>",
        _table(
            [
                "campaign",
                "status",
                "entries",
                "exits",
                "realized",
                "unrealized",
                "R",
                "open risk %",
                "committed risk %",
            ],
            _campaign_rows(report),
        ),
        "<h2>Trades</h2>",
        _table(stats_head, _stats_rows({"all": p.trades, **report.by_pattern})),
        "<h2>Exits by reason</h2>",
        _table(["reason", "exits", "shares", "P&L", "avg R"], reasons),
        f"<h2>Signals refused</h2><p>{s.approved} approved, {s.refused} refused.</p>",
        _table(["code", "signals"], codes) if codes else "",
        _table(["signal", "symbol", "pattern", "decided", "code", "reason"], refusals)
        if refusals
        else "",
        "<h2>Each campaign</h2>",
        *(_campaign_section(f"c{n}", c) for n, c in enumerate(report.campaigns)),
    ]
    # "</" never closes the data's element early: JSON may write "/" as "\/"
    data = json.dumps(charts, separators=(",", ":")).replace("</", "<\\/")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Backtest report'
        f"</title><style>{_STYLE}</style></head><body><main>{''.join(body)}</main>"
        f'<script type="application/json" id="chart-data">{data}</script>'
        f"<script>{CHART_SCRIPT}</script></body></html>\n"
    )


def write_html(report: Report, run: BacktestRun, timeline: Timeline, path: Path) -> Path:
    path.write_text(render_html(report, run, timeline), encoding="utf-8")
    return path
