"""One part measured alone, in one process: the pure domain, the database statements, the
simulated and Alpaca brokers' wire, and the raw anchors (a bare Temporal workflow, one
PostgreSQL transaction) that the stack's figures are set beside; ``cpu`` counts where a
benchmark's CPU goes."""
