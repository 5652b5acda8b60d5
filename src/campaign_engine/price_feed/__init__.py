"""The price feed between a price's arrival and the campaigns (SPEC section 9): the coalescing
publisher, what it holds per symbol and per campaign, who it sends bars to, the leader that
delivers the durable intake, and the bad-print screen of a publisher fed directly. It talks to
Temporal (updates) and to the database (the intake, holds, targets); it decides nothing a
campaign decides."""
