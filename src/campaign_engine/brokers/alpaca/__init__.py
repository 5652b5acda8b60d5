"""Alpaca (paper or live) behind the ``Broker`` protocol: ``broker.AlpacaBroker`` for orders
and positions over the REST API, ``stream.TradeUpdatesListener`` for the ``trade_updates``
stream that pushes each order's fills and end to its campaign; ``wire`` says how Alpaca's
JSON maps to the engine's orders and fills. Nothing is imported here, so that the settings
can read ``config`` without loading the HTTP and websocket clients."""
