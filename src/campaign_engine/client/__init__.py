"""The orchestrator's and operator's Python client (SPEC section 8): start campaigns with
their first signal, send signals and prices (through the coalescing price feed), read state.
It talks to Temporal only; it loads no workflow code but the search attributes' names."""
