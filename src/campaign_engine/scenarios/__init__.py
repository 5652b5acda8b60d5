"""Scenarios the demo plays: a ``scenario.json`` (trading ranges, entry signals, what must
happen) next to the ``prices.csv`` it is played against. Copy a folder, edit it, and play it
with ``campaigns demo --scenario <folder>``; ``generate.py`` rewrites the demo's prices from
per-symbol waypoints."""
