"""The benchmarks, grouped by what they measure: ``micro`` (one part in one process), ``stack``
(the parts together on a Temporal dev server and PostgreSQL), ``scale`` (many campaigns and
workers), ``chaos`` (losing nothing while processes are killed). ``render`` turns the figures
they record in ``results/`` into the benchmark pages of the docs."""
