"""What the dashboard is pushed: the audit trail as it is written (``socket``), through one
listener per API process (``hub``), with the campaigns and portfolio it changed
(``snapshots``)."""
