"""Prices from a market-data vendor, into the same durable intake as ``POST /api/v1/prices``:
Alpaca's bars (``alpaca_wire`` reads its messages and pages; the stream and the history
clients beside it)."""
