"""The broker edge: the protocol every broker implements (``protocol``) and the brokers:
``paper`` (fills at once by the SPEC fill model, the demo's default), ``sim`` (a market-driven
simulation: orders rest, fill in parts, are refused; ``BROKER=sim``) and ``alpaca`` (an Alpaca
account, paper or live, with its trade_updates stream; ``BROKER=alpaca``)."""
