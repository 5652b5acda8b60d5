"""The benchmark pages of the docs, made from the runs' files in ``bench/results/``:
``docs/benchmarks/index.md`` lists every result file and every benchmark not yet recorded (with
the command that records it), and one page a group shows each recorded run's figures beside
their raw anchors. Pages are never edited by hand: a unit test checks that the committed pages
are what this makes of the committed results.

    .venv/bin/python -m bench.render
"""

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PAGES = ROOT / "docs" / "benchmarks"

GROUPS = {
    "micro": "One part alone, in one process",
    "stack": "The parts together on the stack",
    "scale": "Many campaigns and workers",
    "chaos": "Losing nothing while processes die",
}
# Every benchmark run, by the name its results file takes, and the command that records it.
BENCHES = {
    "domain_bench": ("micro", "python -m bench.micro.domain_bench"),
    "db_bench": ("micro", "python -m bench.micro.db_bench"),
    "sim_bench": ("micro", "python -m bench.micro.sim_bench"),
    "alpaca_bench": ("micro", "python -m bench.micro.alpaca_bench"),
    "temporal_bench": ("stack", "python -m bench.stack.temporal_bench"),
    "price_latency_bench": ("stack", "python -m bench.stack.price_latency_bench"),
    "stream_bench": ("stack", "python -m bench.stack.stream_bench"),
    "burst_bench": ("stack", "python -m bench.stack.burst_bench"),
    "dashboard_bench": ("stack", "python -m bench.stack.dashboard_bench"),
    "observability_bench": ("stack", "python -m bench.stack.observability_bench"),
    "backtest_bench": ("stack", "python -m bench.stack.backtest_bench"),
    "scale_flood": ("scale", "python -m bench.scale.scale_bench flood"),
    "scale_cache": ("scale", "python -m bench.scale.scale_bench cache"),
    "scale_prices": ("scale", "python -m bench.scale.scale_bench prices"),
    "scale_entries": ("scale", "python -m bench.scale.scale_bench entries"),
    "scale_million": ("scale", "python -m bench.scale.scale_bench million"),
    "scale_polls": ("scale", "python -m bench.scale.scale_polls"),
    "chaos": ("chaos", "python -m bench.chaos"),
}
NOTICE = "<!-- Made by `python -m bench.render` from bench/results/*.json: do not edit. -->\n"


def load() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _run(result: dict[str, Any]) -> list[str]:
    machine = result["machine"]
    lines = [
        f"## {result['name']}",
        "",
        f"`{result['command']}`, {result['date']}, {machine['cores']} cores, "
        f"{machine['python']} on {machine['arch']}.",
        "",
    ]
    if result["notes"]:
        lines += [result["notes"], ""]
    lines += [
        "| figure | value | CPU per op | raw anchor (same run) | ratio |",
        "|---|---|---|---|---|",
    ]
    for f in result["figures"]:
        cpu = "" if f["cpu_us_per_op"] is None else f"{_number(f['cpu_us_per_op'])} us"
        anchor, ratio = f["anchor"], ""
        shown = "none"
        if anchor is not None:
            shown = f"{anchor['name']}: {_number(anchor['value'])} {anchor['unit']}"
            if anchor["value"]:
                ratio = f"{f['value'] / anchor['value']:.3g}x"
        lines.append(
            f"| {f['name']} | {_number(f['value'])} {f['unit']} | {cpu} | {shown} | {ratio} |"
        )
    return [*lines, ""]


def pages(results: list[dict[str, Any]]) -> dict[str, str]:
    """Each page's file name and text."""
    recorded = {r["name"] for r in results}
    index = [NOTICE, "# Benchmarks", "", "How they are run and read: [method](method.md).", ""]
    index += ["## Recorded results", "", "| run | group | date | command |", "|---|---|---|---|"]
    for r in results:
        page = f"[{r['group']}]({r['group']}.md)"
        index.append(f"| `{r['name']}.json` | {page} | {r['date']} | `{r['command']}` |")
    index += ["", "## Not yet recorded in results", ""]
    missing = [(n, g, c) for n, (g, c) in BENCHES.items() if n not in recorded]
    index += [f"- {name} ({group}): `{command}`" for name, group, command in missing]
    if not missing:
        index.append("None: every benchmark has a run recorded.")
    made = {"index.md": "\n".join(index) + "\n"}
    for group, title in GROUPS.items():
        text = [NOTICE, f"# {title} (`bench/{group}`)", ""]
        runs = [r for r in results if r["group"] == group]
        for r in runs:
            text += _run(r)
        if not runs:
            text += ["No run of this group is recorded in results yet (see the index).", ""]
        made[f"{group}.md"] = "\n".join(text)
    return made


def main() -> None:
    PAGES.mkdir(parents=True, exist_ok=True)
    for name, text in pages(load()).items():
        (PAGES / name).write_text(text)
        print(f"wrote {PAGES / name}")


if __name__ == "__main__":
    main()
