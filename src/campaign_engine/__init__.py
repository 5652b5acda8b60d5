"""campaign-engine: durable, deterministic management of Wyckoff trading campaigns."""
