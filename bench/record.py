"""A benchmark run's figures as JSON under ``bench/results/<name>.json``: the command, the
date, the machine (cores, Python), and each figure with its unit, the CPU it took per
operation and its raw anchor measured in the same run. ``bench.render`` makes the benchmark
pages from these files, so a figure on a page is always one a run recorded."""

import argparse
import json
import os
import platform
import shlex
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Anchor:
    """What the figure is set beside: the same kind of work done by the bare parts."""

    name: str
    value: float
    unit: str


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    cpu_us_per_op: float | None
    anchor: Anchor | None


def record(name: str, group: str, figures: list[Figure], notes: str = "") -> Path:
    """Write the run's file (replacing the last run of the same name), say where, and answer
    its path."""
    module = sys.modules["__main__"].__spec__
    # A package run with -m is recorded by its own name (``bench.chaos``, not its __main__).
    program = module.name.removesuffix(".__main__") if module is not None else sys.argv[0]
    result = {
        "name": name,
        "group": group,
        "command": shlex.join(["python", "-m", program, *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "arch": platform.machine(),
        },
        "notes": notes,
        "figures": [asdict(f) for f in figures],
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {path}", flush=True)
    return path


def add_notes_argument(parser: argparse.ArgumentParser) -> None:
    """Every bench's ``--notes TEXT``: what is said of the run in its results file (the load
    on the machine, what else ran)."""
    parser.add_argument("--notes", default="", help="said of the run in its results file")
