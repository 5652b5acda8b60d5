"""Bringing the whole stack up on one machine (``campaigns dev``): Temporal's dev server, the
database, the worker and the API as child processes that die with their parent and stop in
the reverse order of their start, each within a bound."""
