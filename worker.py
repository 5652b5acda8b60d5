"""Composition root: wires settings, activities and workflows into a Temporal worker.

The Temporal worker arrives with the workflow issue; until then this module only names the
task queue the rest of the system agrees on (SPEC section 8).
"""

TASK_QUEUE = "campaigns"
