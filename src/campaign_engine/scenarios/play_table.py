"""What came of a play: each range's campaign beside what the scenario expected, as a table."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.markup import escape
from rich.table import Table

from campaign_engine.domain.vocabulary import LONG_SEQUENCE
from campaign_engine.scenarios import ExpectedStatus, Scenario, ScenarioRange
from campaign_engine.scenarios.stack_api import DemoApi, decimal_or_none, positions_of


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignSummary:
    """One range of the scenario after the play, beside what was expected of it."""

    key: str
    campaign_id: str
    symbol: str
    status: str  # a campaign status, or NOT_CREATED
    entries: tuple[str, ...]  # patterns whose entries filled
    realized_pnl: Decimal | None
    r_multiple: Decimal | None
    expected_status: str
    expected_entries: tuple[str, ...]
    story: str = ""

    @property
    def as_expected(self) -> bool:
        return (self.status, self.entries) == (self.expected_status, self.expected_entries)


def number_text(value: Decimal | None, places: int | None = None) -> str:
    if value is None:
        return "-"
    if places is None:
        return f"{value.normalize():,f}"
    return f"{value:,.{places}f}"


async def summarize(api: DemoApi, r: ScenarioRange, campaign_id: str) -> CampaignSummary:
    """How the range's campaign ended, beside what the scenario expects of it."""
    campaign = await api.campaign(campaign_id)
    status = ExpectedStatus.NOT_CREATED.value
    entries: tuple[str, ...] = ()
    realized = r_multiple = None
    if campaign is not None:
        positions = positions_of(campaign.get("positions"))
        if "positions" not in campaign:
            positions = await api.positions(campaign_id)
        filled = [p for p in positions if (decimal_or_none(p.get("shares")) or 0) > 0]
        patterns = {str(p.get("pattern")) for p in filled}
        metrics = campaign.get("metrics")
        status = str(campaign.get("status"))
        entries = tuple(p.value for p in LONG_SEQUENCE if p.value in patterns)
        realized = decimal_or_none(campaign.get("realized_pnl"))
        if isinstance(metrics, dict):
            r_multiple = decimal_or_none(metrics.get("r_multiple"))
        if r_multiple is None:
            r_multiple = _r_of(filled, realized)
    return CampaignSummary(
        key=r.key,
        campaign_id=campaign_id,
        symbol=r.symbol,
        status=status,
        entries=entries,
        realized_pnl=realized,
        r_multiple=r_multiple,
        expected_status=r.expect.status.value,
        expected_entries=tuple(p.value for p in r.expect.entries),
        story=r.story,
    )


def _r_of(positions: Sequence[dict[str, Any]], realized: Decimal | None) -> Decimal | None:
    """Realized P&L in units of the risk taken at entry, when the API does not give it."""
    risk = Decimal(0)
    for p in positions:
        entry, stop = decimal_or_none(p.get("entry_price")), decimal_or_none(p.get("initial_stop"))
        shares = decimal_or_none(p.get("shares"))
        if entry is None or stop is None or shares is None:
            return None
        risk += (entry - stop) * shares
    if realized is None or risk <= 0:
        return None
    return (realized / risk).quantize(Decimal("0.0001"))


def campaigns_table(scenario: Scenario, summaries: Sequence[CampaignSummary]) -> Table:
    table = Table(title=f"Scenario {escape(scenario.name)}: campaigns", title_justify="left")
    for column, justify in (
        ("campaign", "left"),
        ("symbol", "left"),
        ("status", "left"),
        ("entries", "left"),
        ("realized P&L", "right"),
        ("R", "right"),
        ("expected", "left"),
        ("", "center"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for s in summaries:
        colour = {"COMPLETED": "green", "INVALIDATED": "yellow", "NOT_CREATED": "dim"}.get(
            s.status, "cyan"
        )
        expected = s.expected_status
        if s.expected_entries:
            expected += f" ({', '.join(s.expected_entries)})"
        table.add_row(
            s.campaign_id if s.status != ExpectedStatus.NOT_CREATED.value else "-",
            s.symbol,
            f"[{colour}]{s.status}[/]",
            ", ".join(s.entries) or "-",
            number_text(s.realized_pnl, 2),
            number_text(s.r_multiple, 2),
            expected,
            "[green]ok[/]" if s.as_expected else "[bold red]NOT AS EXPECTED[/]",
        )
    return table
