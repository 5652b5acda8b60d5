"""How the simulated broker behaves: how much of an order fills per bar, and which orders it
refuses. Read from the environment (``SIM_*``, see ``campaign_engine.runtime.settings``)."""

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from campaign_engine.domain.types import Equity, QuantityStep, QuantityValue


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


Fraction = Annotated[Decimal, AfterValidator(_finite), Field(gt=0, le=1)]
Rate = Annotated[Decimal, AfterValidator(_finite), Field(ge=0, le=1)]


class SimConfig(BaseModel):
    """The simulated exchange's knobs; the defaults fill every order whole on the first bar
    that trades through it and refuse nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fill_fraction: Fraction = Field(
        default=Decimal(1),
        description="share of an order's quantity that can fill on one bar (0 < f <= 1); "
        "at least one quantity step, never more than remains",
    )
    quantity_step: QuantityStep = Field(
        default=QuantityValue(Decimal(1)), description="the smallest number of shares filled"
    )
    buying_power: Equity | None = Field(
        default=None,
        description="money the account may commit to BUY orders and held shares; unset: unlimited",
    )
    reject_rate: Rate = Field(
        default=Decimal(0),
        description="share of orders refused, decided from a hash of the client order id "
        "and the seed, so a scenario played again refuses the same orders",
    )
    seed: str = Field(default="0", max_length=200, description="seed of the reject decision")
    wash_trade_rule: bool = Field(
        default=False,
        description="refuse a SELL that could trade against an open BUY on its symbol, as "
        "Alpaca does ('potential wash trade detected. use complex orders')",
    )
    pending_cancels: bool = Field(
        default=False,
        description="a cancel is acknowledged as pending (the order stays open, as Alpaca's "
        "pending_cancel) and confirmed when the order is next looked up",
    )
