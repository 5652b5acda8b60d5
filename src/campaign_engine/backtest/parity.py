"""What parity compares (SPEC section 10): the outcome of a run put in terms that the backtest
and the live stack's database both give, and a readable difference of two outcomes.

- per signal, its decision: approved or not, the campaign, shares, risk, heat after, the
  rejection code and the market time of the decision;
- per order, its fills: client order id, campaign, purpose, side, quantity, price, when;
- per campaign, how it ended: status, realized P&L, allocation, version, and its market times.

Numbers are normalized (``0.49950000`` and ``0.4995`` are one value), so a figure read back from
a NUMERIC column compares with the domain's own.
"""

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from campaign_engine.backtest.engine import BacktestRun
from campaign_engine.domain.orders import Fill, paper_fill

_Record = TypeVar("_Record")


def number(value: Decimal | None) -> Decimal | None:
    """A decimal without trailing zeros (and never in exponent form for whole numbers)."""
    if value is None:
        return None
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _plain(value: Any) -> Any:
    """An enum's value, a decimal normalized, anything else as it is."""
    if isinstance(value, Enum):
        return value.value
    return number(value) if isinstance(value, Decimal) else value


def _read(cls: type[_Record], record: Any) -> _Record:
    """``cls`` from the like-named attributes of ``record``: a domain value or a table row."""
    return cls(**{f.name: _plain(getattr(record, f.name)) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    campaign_id: str
    pattern: str
    approved: bool
    shares: Decimal | None
    actual_risk_pct: Decimal | None
    risk_amount: Decimal | None
    heat_after_pct: Decimal | None
    rejection_code: str | None
    decided_at: datetime

    @classmethod
    def of(cls, plan: Any) -> "DecisionOutcome":
        """From an AllocationPlan, or its row in ``allocation_plans``."""
        return _read(cls, plan)


@dataclass(frozen=True, slots=True)
class FillOutcome:
    campaign_id: str
    purpose: str
    side: str
    quantity: Decimal | None
    price: Decimal | None
    filled_at: datetime

    @classmethod
    def of(cls, fill: Fill, order: Any) -> "FillOutcome":
        """A fill of ``order`` (an Order, or its row in ``orders``)."""
        return cls(
            campaign_id=order.campaign_id,
            purpose=_plain(order.purpose),
            side=_plain(order.side),
            quantity=number(fill.quantity),
            price=number(fill.price),
            filled_at=fill.filled_at,
        )


@dataclass(frozen=True, slots=True)
class CampaignOutcome:
    status: str
    realized_pnl: Decimal | None
    total_allocation: Decimal | None
    version: int
    created_at: datetime | None
    closed_at: datetime | None
    last_price_at: datetime | None

    @classmethod
    def of(cls, campaign: Any) -> "CampaignOutcome":
        """From a CampaignState, or its row in ``campaigns``."""
        return _read(cls, campaign)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """Decisions by signal label, fills by fill id, campaigns by campaign id."""

    decisions: Mapping[str, DecisionOutcome]
    fills: Mapping[str, FillOutcome]
    campaigns: Mapping[str, CampaignOutcome]


def label_of(labels: Mapping[UUID, str], signal_id: UUID) -> str:
    return labels.get(signal_id, str(signal_id))


def backtest_outcome(run: BacktestRun, labels: Mapping[UUID, str]) -> RunOutcome:
    """The outcome of a backtest: its plans, the paper fills of its orders, its campaigns."""
    decisions = {label_of(labels, p.signal_id): DecisionOutcome.of(p) for p in run.plans}
    fills: dict[str, FillOutcome] = {}
    for state in run.campaigns:
        for record in state.orders:
            if not record.fill_ids:
                continue
            # The backtest's broker: every order fills whole at once (engine._carry_out).
            fill = paper_fill(record.order, record.order.created_at)
            fills[fill.fill_id] = FillOutcome.of(fill, record.order)
    campaigns = {s.campaign_id: CampaignOutcome.of(s) for s in run.campaigns}
    return RunOutcome(decisions, fills, campaigns)


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return repr(value)


def _compare(
    kind: str, left: Mapping[str, object], right: Mapping[str, object], names: tuple[str, str]
) -> Iterable[str]:
    for key in sorted(left.keys() | right.keys()):
        a, b = left.get(key), right.get(key)
        if a is None or b is None:
            where = names[0] if a is not None else names[1]
            yield f"{kind} {key}: only in the {where}: {b if a is None else a}"
            continue
        if a == b:
            continue
        changed = [
            f"{f.name} {_text(getattr(a, f.name))} != {_text(getattr(b, f.name))}"
            for f in fields(a)  # type: ignore[arg-type]
            if getattr(a, f.name) != getattr(b, f.name)
        ]
        yield f"{kind} {key}: " + "; ".join(changed)


def outcome_diff(
    left: RunOutcome, right: RunOutcome, names: tuple[str, str] = ("backtest", "live")
) -> list[str]:
    """Every difference, one line each (empty: the same outcome)."""
    return [
        *_compare("decision", left.decisions, right.decisions, names),
        *_compare("fill", left.fills, right.fills, names),
        *_compare("campaign", left.campaigns, right.campaigns, names),
    ]


def outcome_lines(outcome: RunOutcome) -> list[str]:
    """The outcome, one line per record, for a failure message or a log."""
    lines = []
    for kind, records in (
        ("decision", outcome.decisions),
        ("fill", outcome.fills),
        ("campaign", outcome.campaigns),
    ):
        for key in sorted(records):
            values = asdict(records[key])
            text = ", ".join(f"{k}={_text(v)}" for k, v in values.items())
            lines.append(f"{kind} {key}: {text}")
    return lines
