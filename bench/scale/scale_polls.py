"""What open campaigns cost while nothing happens: N campaigns opened on one worker, then no
prices and no entries, only what runs by itself (the campaigns' broker polls, the holdings
reconciler), measured in windows as the campaigns age.

    .venv/bin/python -m bench.scale.scale_polls [--campaigns 2000] [--windows 3] [--window 20] \
        [--gap 40] [--notes TEXT]

Each window prints the workflow tasks started a second and the CPU a second of the bench and
worker / Temporal dev server / PostgreSQL processes, recorded as ``scale_polls``: each window's
tasks a second with the CPU per task (every process), and its CPU a second. It uses only the
scale bench's stack, so the same file measures an older worker too (run from that version's
tree).
"""

import argparse
import asyncio
import os
import platform
import sys
import time
from decimal import Decimal

from bench.record import Figure, add_notes_argument, record
from bench.scale.scale_bench import EQUITY, POLICY, SYMBOLS
from bench.scale.scale_phases import tasks_per_second
from bench.scale.scale_stack import open_campaigns, spring, stack, trading_range

D = Decimal


async def main(args: argparse.Namespace) -> list[Figure]:
    print(
        f"campaign-engine idle campaigns, CPython {sys.version.split()[0]} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )
    count = args.campaigns
    async with stack(EQUITY, POLICY) as stack_:
        settings = stack_.settings(workflow_cache_size=max(count, 1000))
        client = stack_.client(settings)
        signals = [spring(trading_range(SYMBOLS[i % 10], i), D(5) / count) for i in range(count)]
        async with stack_.worker(settings):
            started = time.perf_counter()
            approved = await open_campaigns(client, signals)
            opened = time.perf_counter()
            print(f"  {sum(approved)} of {count} campaigns opened in {opened - started:.0f} s")
            figures = [Figure("campaigns opened", sum(approved), "campaigns", None, None)]
            for n in range(args.windows):
                if n:
                    await asyncio.sleep(args.gap)
                since = time.perf_counter() - opened
                tasks, cpu = await tasks_per_second(stack_, args.window)
                print(
                    f"  window {n + 1} ({since:.0f}-{since + args.window:.0f} s after the last "
                    f"opened): {tasks:.1f} tasks/s, CPU ms per s {cpu.per(args.window)}, "
                    f"load {os.getloadavg()[0]:.2f}"
                )
                started = round(tasks * args.window)
                # No task in the window: its CPU is the processes' own upkeep, not per task.
                per_task = cpu.us_per(started) if started else None
                cpu_ms = 1000 * sum(cpu.seconds.values()) / args.window
                figures += [
                    Figure(f"window {n + 1}: workflow tasks", tasks, "tasks/s", per_task, None),
                    Figure(f"window {n + 1}: CPU, every process", cpu_ms, "ms/s", None, None),
                ]
    print(f"  load at the end {os.getloadavg()[0]:.2f}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=2000)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--gap", type=float, default=40.0)
    add_notes_argument(parser)
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments))
    record("scale_polls", "scale", figures, arguments.notes)
    sys.stdout.flush()
    os._exit(0)
