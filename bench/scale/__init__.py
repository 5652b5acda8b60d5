"""Many campaigns at once: a flood of entries, the workflow cache, price fan-out, a million
price updates, the polls of idle campaigns, over one or more worker processes."""
