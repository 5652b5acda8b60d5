"""The chaos run: nothing the engine accepted is lost when any part of the stack dies.

    python -m bench.chaos            # 200 campaigns, 10 worker kills, a 30 s PostgreSQL stop
    python -m bench.chaos --quick    # the CI size (tests/e2e/test_chaos.py)

The project's seeded random scenarios (several symbols each; Spring, SOS and LPS entries,
ladders of targets, stop-outs and invalidations) are played twice through the real stack run
as separate processes (``stack``): a private PostgreSQL, the Temporal dev server on a database
file, a worker (``python -m campaign_engine.worker``) and the API (``campaigns api``), driven
over HTTP as an orchestrator would (``driver``). The first play has no faults; the second
(fresh databases) has the worker killed, PostgreSQL stopped, the Temporal server restarted and
the API killed while prices flow, each at a moment drawn from ``--seed`` (``faults``).

"The same" (``compare``): every row of campaigns, positions, orders with their broker book
rows and fills, allocation decisions and the audit trail is equal between the two runs, column
for column, matched by the engine's own deterministic ids; only columns the database or the
wall clock fills in are left out (audit ``seq``, ``txid``, ``recorded_at``, a plan's ``seq``,
the book's ``submitted_at``/``updated_at``). An audit trail is compared per campaign, in the
order it was written. Besides: no order placed twice (one book row per client order id, no
fill recorded twice, never more filled than ordered), every price batch acknowledged with 202
reached its campaigns, and every request got a final answer other than a refusal.
"""
