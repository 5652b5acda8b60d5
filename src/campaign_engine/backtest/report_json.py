"""The report as JSON: money, prices, shares, percentages and R as decimal strings (never
floats), times as UTC ISO-8601, as the REST API writes them."""

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from campaign_engine.backtest.report import Report

_REPORT: TypeAdapter[Report] = TypeAdapter(Report)


def report_data(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = _REPORT.dump_python(report, mode="json")
    return data


def write_json(report: Report, path: Path) -> Path:
    path.write_text(json.dumps(report_data(report), indent=1) + "\n", encoding="utf-8")
    return path
