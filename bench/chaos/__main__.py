"""python -m bench.chaos [--quick] [--campaigns N] [--seed S] [--worker-kills K]
[--pg-outage-seconds T] [--workdir DIR] [--notes TEXT]

Exits 0 when every check passed, 1 when one failed, 2 when a run could not be carried out. A run
carried out records its verdict (passed or not) in ``bench/results/chaos.json``."""

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from bench.chaos.run import Options, report_lines, run_chaos, verdict
from bench.record import add_notes_argument, record


def _options(argv: list[str]) -> tuple[Options, str]:
    """The run's options, and the notes its results file is to carry."""
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the CI size: ~20 campaigns")
    parser.add_argument("--campaigns", type=int)
    parser.add_argument("--seed", type=int, default=1, help="draws the faults' moments")
    parser.add_argument("--worker-kills", type=int)
    parser.add_argument("--pg-outage-seconds", type=float)
    parser.add_argument("--pg-outages", type=int)
    parser.add_argument("--temporal-restarts", type=int)
    parser.add_argument("--api-kills", type=int)
    parser.add_argument("--wave", type=int, help="campaigns played side by side")
    parser.add_argument("--stall-seconds", type=float, help="wait for a campaign at most")
    parser.add_argument("--workdir", type=Path, help="keep the logs and data here")
    add_notes_argument(parser)
    args = parser.parse_args(argv)
    given = {
        name: value
        for name, value in {
            "campaigns": args.campaigns,
            "seed": args.seed,
            "worker_kills": args.worker_kills,
            "pg_outage_seconds": args.pg_outage_seconds,
            "pg_outages": args.pg_outages,
            "temporal_restarts": args.temporal_restarts,
            "api_kills": args.api_kills,
            "wave": args.wave,
            "stall_seconds": args.stall_seconds,
            "workdir": args.workdir,
        }.items()
        if value is not None
    }
    return (Options.quick(**given) if args.quick else Options(**given)), args.notes


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through every stack's cleanup


def main(argv: list[str]) -> int:
    options, notes = _options(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        report = asyncio.run(run_chaos(options))
    except KeyboardInterrupt:
        print("\ninterrupted; every process started was stopped", file=sys.stderr)
        return 130
    except Exception as error:  # a run that could not be carried out says why
        print(f"\nthe chaos run could not be carried out: {error!r}", file=sys.stderr)
        return 2
    print("\n".join(report_lines(report)))
    record("chaos", "chaos", verdict(report), notes)
    return 0 if report.ok else 1


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio can abort the interpreter as it finalizes: leave with our own code.
    os._exit(code)
