"""The parts together on the stack (the Temporal dev server, PostgreSQL, the campaign worker,
the API): decision latency and its cost beside the raw anchors, price latency, the live event
stream and the backtest."""
