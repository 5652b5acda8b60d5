"""The chaos run at its CI size (``python -m bench.chaos --quick``): some twenty campaigns
played through PostgreSQL, the Temporal dev server, a worker and the API run as processes of
their own, once as they are and once with the worker killed three times, PostgreSQL stopped
for 5 s, the Temporal server restarted and the API killed right after acknowledging prices;
every campaign, decision, position, order, fill and audit event must come out the same.

It starts its own PostgreSQL and Temporal (on free ports), so it neither needs nor uses
DATABASE_URL: the pass against the machine's PostgreSQL skips it."""

import os
from pathlib import Path

import pytest
from bench.chaos.run import Options, report_lines, run_chaos


@pytest.mark.long(seconds=115)
@pytest.mark.timeout(1200)
async def test_nothing_accepted_is_lost_when_any_part_of_the_stack_dies(tmp_path: Path) -> None:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("starts a PostgreSQL of its own; the run without DATABASE_URL covers it")
    # The tasks queued for a killed worker move on after 3 s, not production's 20: the faults
    # and the comparison are the same, the run a minute shorter.
    options = Options.quick(workdir=tmp_path, sticky_timeout_seconds=3.0)
    report = await run_chaos(options)
    lines = "\n".join(report_lines(report))
    print(lines)
    clean, faulty = report.runs
    assert clean.fault_count == 0
    assert faulty.fault_count >= 6, lines  # 3 worker kills, PostgreSQL, Temporal, the API
    assert clean.created >= 15, lines  # the comparison is about campaigns that ran
    assert report.ok, lines
