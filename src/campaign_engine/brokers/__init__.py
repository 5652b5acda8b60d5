"""The broker edge: the protocol every broker implements (``protocol``) and the brokers:
``paper`` (fills at once by the SPEC fill model, the demo's default) and ``alpaca`` (an Alpaca
account, paper or live, with its trade_updates stream; ``BROKER=alpaca``)."""
