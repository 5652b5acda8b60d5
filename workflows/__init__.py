"""Deterministic orchestration only: Temporal workflows that drive the pure domain.

Nothing in this package performs I/O; every side effect is an activity (see ``activities``).
"""
