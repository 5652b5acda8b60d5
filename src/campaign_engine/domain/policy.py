"""Every tunable of the rules, in one settings object (SPEC section 2)."""

import hashlib
import json
from decimal import Decimal
from functools import cached_property
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campaign_engine.domain.money import ONE, ZERO
from campaign_engine.domain.types import (
    Equity,
    MoneyValue,
    Percent,
    PercentValue,
    QuantityStep,
    QuantityValue,
    Symbol,
    Text,
)
from campaign_engine.domain.vocabulary import LONG_SEQUENCE, Pattern

Weights = dict[Pattern, Decimal]


def _weights(spring: str, sos: str, lps: str) -> Weights:
    return {Pattern.SPRING: Decimal(spring), Pattern.SOS: Decimal(sos), Pattern.LPS: Decimal(lps)}


def _risks(spring: str, sos: str, lps: str) -> dict[Pattern, PercentValue]:
    weights = _weights(spring, sos, lps)
    return {pattern: PercentValue(risk) for pattern, risk in weights.items()}


class Policy(BaseModel):
    """Risk policy with the SPEC defaults; percentages are of account equity unless named."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    campaign_max_risk_pct: Percent = PercentValue(Decimal("5.0"))
    per_trade_max_risk_pct: Percent = PercentValue(Decimal("2.0"))
    portfolio_max_heat_pct: Percent = PercentValue(Decimal("10.0"))
    heat_warning_pct: Percent = PercentValue(Decimal("7.0"))
    heat_critical_pct: Percent = PercentValue(Decimal("9.0"))
    correlated_max_risk_pct: Percent = PercentValue(Decimal("6.0"))
    correlation_groups: dict[Symbol, Text] = Field(
        default_factory=dict,
        description="symbol -> correlation group; a symbol not listed is its own group",
    )
    bmad_weights: Weights = Field(default_factory=lambda: _weights("0.40", "0.30", "0.30"))
    pattern_risk_pct: dict[Pattern, Percent] = Field(
        default_factory=lambda: _risks("0.5", "1.0", "0.6")
    )
    range_width_adaptation: bool = False
    wide_range_min_width_pct: Percent = PercentValue(Decimal("20"))
    narrow_range_max_width_pct: Percent = PercentValue(Decimal("8"))
    wide_range_weights: Weights = Field(default_factory=lambda: _weights("0.50", "0.25", "0.25"))
    narrow_range_weights: Weights = Field(default_factory=lambda: _weights("0.35", "0.35", "0.30"))
    min_confidence: Percent = PercentValue(Decimal("70"))
    lps_sole_min_confidence: Percent = PercentValue(Decimal("75"))
    exit_fractions: tuple[Decimal, ...] = Field(
        default=(Decimal("0.50"), Decimal("0.30")),
        description="share of the original size sold at each target but the last, which sells "
        "the rest",
    )
    quantity_step: QuantityStep = QuantityValue(Decimal("1"))
    starting_equity: Equity = MoneyValue(Decimal("100000"))
    max_daily_loss_pct: Percent | None = Field(
        default=None,
        description="trading halts (SPEC section 11) once the market day's loss, realized plus "
        "unrealized, reaches this % of the day's opening equity; unset: no daily limit",
    )
    max_drawdown_pct: Percent | None = Field(
        default=None,
        description="trading halts once equity, realized plus unrealized, falls this % below "
        "its peak; unset: no drawdown limit",
    )
    bad_print_band_pct: Percent = Field(
        default=PercentValue(Decimal("25")),
        description="a price update further than this from its symbol's last accepted price "
        "is held until the next update confirms or refutes it (SPEC section 11); 0 turns the "
        "screen off. One band for every symbol: a price update carries no timeframe",
    )
    entry_order_ttl_bars: int = Field(
        default=3,
        ge=1,
        le=10_000,
        description="bars of the signal's timeframe (market time) an entry order rests "
        "unfilled before the rest is cancelled and its reserved risk released",
    )

    @field_validator(
        "campaign_max_risk_pct", "per_trade_max_risk_pct", "max_daily_loss_pct", "max_drawdown_pct"
    )
    @classmethod
    def _positive_limit(cls, limit: PercentValue | None) -> PercentValue | None:
        if limit is not None and limit <= ZERO:
            raise ValueError("must be positive")
        return limit

    @field_validator("bmad_weights", "wide_range_weights", "narrow_range_weights")
    @classmethod
    def _weights_sum_to_one(cls, weights: Weights) -> Weights:
        if set(weights) != set(LONG_SEQUENCE):
            raise ValueError("must give a weight to exactly SPRING, SOS and LPS")
        if any(w <= ZERO for w in weights.values()) or sum(weights.values()) != ONE:
            given = ", ".join(f"{p.value} {w}" for p, w in weights.items())
            raise ValueError(f"must be positive and sum to 1, got {given}")
        return weights

    @field_validator("pattern_risk_pct")
    @classmethod
    def _risk_per_entry(cls, risks: dict[Pattern, Percent]) -> dict[Pattern, Percent]:
        if set(risks) != set(LONG_SEQUENCE):
            raise ValueError("must give a risk to exactly SPRING, SOS and LPS")
        if any(r <= ZERO for r in risks.values()):
            raise ValueError("must be positive")
        return risks

    @field_validator("exit_fractions")
    @classmethod
    def _rest_for_the_last_target(cls, fractions: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if any(f <= ZERO for f in fractions) or sum(fractions) >= ONE:
            raise ValueError("must be positive and leave a rest for the last target")
        return fractions

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        warning, critical, maximum = (
            self.heat_warning_pct,
            self.heat_critical_pct,
            self.portfolio_max_heat_pct,
        )
        if not warning <= critical <= maximum:
            raise ValueError(
                "heat alert thresholds must satisfy warning <= critical <= maximum "
                f"(heat_warning_pct {warning}, heat_critical_pct {critical}, "
                f"portfolio_max_heat_pct {maximum})"
            )
        return self

    @cached_property
    def policy_id(self) -> str:
        """Which policy this is: 16 hex digits of the SHA-256 of its canonical JSON (sorted
        keys, numbers without trailing zeros), so equal policies share an id however their
        numbers were written, and any change of a setting makes another (a setting added
        later, ``_ADDED_SINCE_IDS``, counts only when it is not at its default)."""
        settings = {
            name: value
            for name, value in self.model_dump().items()
            if not (name in _ADDED_SINCE_IDS and value == _default(name))
        }
        canonical = json.dumps(_canonical(settings), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def limits_trading(self) -> bool:
        """Whether a loss limit can halt trading (both are off by default)."""
        return self.max_daily_loss_pct is not None or self.max_drawdown_pct is not None

    def correlation_group(self, symbol: str) -> str:
        return self.correlation_groups.get(symbol, symbol)

    def group_members(self, group: str) -> frozenset[str]:
        """Every symbol whose correlation group is ``group``: those mapped to it, and the
        symbol of that name when it is not mapped elsewhere."""
        members = self._members.get(group, frozenset())
        return members if group in self.correlation_groups else members | {group}

    @cached_property
    def _members(self) -> dict[str, frozenset[str]]:
        grouped: dict[str, set[str]] = {}
        for symbol, group in self.correlation_groups.items():
            grouped.setdefault(group, set()).add(symbol)
        return {group: frozenset(symbols) for group, symbols in grouped.items()}


_ADDED_SINCE_IDS = frozenset({"bad_print_band_pct", "max_daily_loss_pct", "max_drawdown_pct"})
"""Settings added after plans began recording policy ids: at its default, such a setting is
left out of the id, so a policy that was already in use keeps the id its plans recorded."""


def _default(name: str) -> object:
    return Policy.model_fields[name].get_default(call_default_factory=True)


def _canonical(value: object) -> object:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text == "-0" else text
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


DEFAULT_POLICY = Policy()
