"""The simulated broker (``BROKER=sim``): limit entries rest until a bar trades through them,
fills come in parts, some orders are refused, and its book is in PostgreSQL.

``config`` (what it does, from ``SIM_*``), ``matching`` and ``refusals`` (pure rules), ``book``
(its SQL), ``broker`` (the ``Broker`` the worker calls) and ``exchange`` (the market, driven by
the bars the price publisher accepts)."""
