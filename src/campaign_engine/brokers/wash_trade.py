"""The wash-trade rule of a broker that protects its users from trading with themselves, as
Alpaca documents it: an order is refused (Alpaca: 403, code 40310000, "potential wash trade
detected. use complex orders") while an order of the other side on the same symbol is open in
the same account and the two could execute against each other: either is a market order, or
the sell's limit is at or below the buy's.

An order whose cancel was asked for but not yet confirmed (Alpaca's ``pending_cancel``) is still
open. So a campaign's exit waits until its own unfilled entry is confirmed cancelled (or
filled), and until any other campaign's resting buy on the symbol has gone: see
``activities/effects.py``. Per broker: Alpaca has the rule; the simulated broker has it when
``SIM_WASH_TRADE_RULE`` is on; the paper broker fills at once and has none.
"""

from decimal import Decimal

WASH_TRADE_CODE = 40310000
WASH_TRADE_MESSAGE = "potential wash trade detected. use complex orders"


def could_trade_against(*, sell_limit: Decimal | None, buy_limit: Decimal | None) -> bool:
    """Whether a sell (None: at market) and a resting buy (None: at market) of one account on
    one symbol could execute against each other."""
    return sell_limit is None or buy_limit is None or sell_limit <= buy_limit
