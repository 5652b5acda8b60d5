"""The pure campaign domain (SPEC sections 1-6).

No I/O, no clocks, no randomness and no Temporal import: every function takes what it needs
(including ``now``) and returns new values, so a workflow can replay it deterministically.
"""
