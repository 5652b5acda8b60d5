"""Bringing the stack up on one machine, in one place for ``campaigns dev``, the tests, the
benchmarks and the chaos run: Temporal's dev server (``temporal_server``), PostgreSQL
(``databases``: embedded or DATABASE_URL's; ``private_postgres``: one to stop and kill), the
worker and the API as child processes that die with their parent (``processes``,
``children``), stopped in the reverse order of their start, each within a bound
(``ordered_stop``); ``dev`` is ``campaigns dev`` itself."""
