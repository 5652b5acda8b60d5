"""Every side effect of the engine: persistence, broker orders and notifications."""
