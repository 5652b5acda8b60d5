"""The alert rules, their tests and the Grafana board (``monitoring/``) speak only of metrics the
engine exports: every metric they name is in the table of docs/monitoring.md, or is one of
Prometheus' own (``up``, and the ``_bucket``/``_sum``/``_count`` series of a documented
histogram). Every documented metric is on the board, and the jobs the rules and the board name
are the example scrape config's."""

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
TABLE = ROOT / "docs" / "monitoring.md"

# Series Prometheus writes itself for every target it scrapes.
PROMETHEUS_OWN = frozenset({"up"})
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")

# PromQL words that look like names but are not metrics.
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
# A name not inside another word, a number or a Grafana variable, and not a function's (a
# name followed by its parenthesis).
_NAME = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:]|\s*\()")


def metric_names(expr: str) -> set[str]:
    """The metrics a PromQL expression selects. Label values, label names (in matchers and in
    by/on/... clauses), ranges, numbers, functions and keywords are not metrics."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    return {name for name in _NAME.findall(text) if name.lower() not in _KEYWORDS}


@cache
def documented() -> dict[str, str]:
    """Each metric in the table of docs/monitoring.md (the one headed ``Name``), with its type."""
    metrics: dict[str, str] = {}
    in_table = False
    for line in TABLE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if "|" in line else []
        if not cells:
            in_table = False
        elif cells[0] == "Name":
            in_table = True
        elif in_table and (found := re.fullmatch(r"`([a-z_:][a-z0-9_:]*)`", cells[0])):
            metrics[found.group(1)] = cells[1]
    return metrics


def histograms() -> set[str]:
    return {name for name, kind in documented().items() if kind == "histogram"}


def undocumented(names: Iterable[str]) -> list[str]:
    allowed = set(documented()) | PROMETHEUS_OWN
    allowed |= {h + suffix for h in histograms() for suffix in HISTOGRAM_SERIES}
    return sorted(set(names) - allowed)


def exported(name: str) -> str:
    """The documented metric a series belongs to (a histogram's bucket is the histogram's)."""
    for suffix in HISTOGRAM_SERIES:
        if name.endswith(suffix) and name.removesuffix(suffix) in histograms():
            return name.removesuffix(suffix)
    return name


def _yaml(name: str) -> Any:
    return yaml.safe_load((MONITORING / name).read_text())


def rules() -> list[dict[str, Any]]:
    return [rule for group in _yaml("alerts.yml")["groups"] for rule in group["rules"]]


def rule_exprs() -> list[str]:
    return [str(rule["expr"]) for rule in rules()]


def fed_series() -> set[str]:
    """The metrics of the rules' tests: each input series' name, and any PromQL they check."""
    names: set[str] = set()
    for case in _yaml("alerts.test.yml")["tests"]:
        for series in case.get("input_series", []):
            names |= metric_names(str(series["series"]))
        for check in case.get("promql_expr_test", []):
            names |= metric_names(str(check["expr"]))
    return names


def board_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from board_panels(panel.get("panels", []))  # a collapsed row holds its panels


def board() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return loaded


def board_exprs() -> list[str]:
    return [
        str(target["expr"])
        for panel in board_panels(board()["panels"])
        for target in panel.get("targets", [])
    ]


def _listed(what: str, names: list[str]) -> str:
    return f"{what}:\n  " + "\n  ".join(names)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "sum by (job, le) (rate(campaign_price_delivery_seconds_bucket[5m])) > 5",
            {"campaign_price_delivery_seconds_bucket"},
        ),
        (
            "campaign_portfolio_heat_ratio >= ignoring(level) "
            'campaign_portfolio_heat_threshold_ratio{level="warning"}',
            {"campaign_portfolio_heat_ratio", "campaign_portfolio_heat_threshold_ratio"},
        ),
        (
            'sum by (job) (up{job="campaign_not_a_metric"}) == 0 or absent(up)',
            {"up"},
        ),
        (
            "histogram_quantile(0.9, sum by (le) (rate(x_bucket[$__rate_interval]))) * 1e3",
            {"x_bucket"},
        ),
        ("a offset 5m / on() group_left() b unless c and bool d", {"a", "b", "c", "d"}),
        ('campaign_entries_total{pattern=~"SPRING|SOS"}', {"campaign_entries_total"}),
    ],
)
def test_the_metrics_an_expression_selects_are_found(expr: str, expected: set[str]) -> None:
    assert metric_names(expr) == expected


def test_the_table_is_read() -> None:
    table = documented()
    assert table["campaign_portfolio_heat_ratio"] == "gauge"
    assert table["campaign_price_delivery_seconds"] == "histogram"
    assert table["campaign_decisions_total"] == "counter"
    assert len(table) >= 30


def test_a_name_not_in_the_table_is_listed() -> None:
    names = {
        "campaign_no_such_metric",
        "campaign_portfolio_equity",
        "campaign_price_delivery_seconds_bucket",
        "campaign_portfolio_equity_bucket",  # a gauge has no buckets
        "up",
    }
    assert undocumented(names) == ["campaign_no_such_metric", "campaign_portfolio_equity_bucket"]


def test_the_alert_rules_name_only_documented_metrics() -> None:
    names = set().union(*(metric_names(expr) for expr in rule_exprs()))
    assert names, "no metric found in monitoring/alerts.yml"
    problems = undocumented(names)
    assert not problems, _listed("monitoring/alerts.yml names metrics not in the table", problems)


def test_the_rules_tests_feed_only_documented_metrics() -> None:
    names = fed_series()
    assert names, "no series found in monitoring/alerts.test.yml"
    problems = undocumented(names)
    assert not problems, _listed("monitoring/alerts.test.yml feeds undocumented series", problems)


def test_the_board_names_only_documented_metrics() -> None:
    names = set().union(*(metric_names(expr) for expr in board_exprs()))
    problems = undocumented(names)
    assert not problems, _listed("the board names metrics not in the table", problems)


def test_every_documented_metric_is_on_the_board() -> None:
    shown = {exported(name) for expr in board_exprs() for name in metric_names(expr)}
    missing = sorted(set(documented()) - shown)
    assert not missing, _listed("documented metrics the board does not show", missing)


def test_the_board_reads_its_prometheus_from_an_input() -> None:
    loaded = board()
    assert [i["name"] for i in loaded["__inputs"]] == ["DS_PROMETHEUS"]
    sources = [
        source
        for panel in board_panels(loaded["panels"])
        for source in [
            panel.get("datasource"),
            *(t["datasource"] for t in panel.get("targets", [])),
        ]
        if source is not None
    ]
    assert sources
    assert all(s == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"} for s in sources)


def _jobs(expr: str) -> set[str]:
    jobs: set[str] = set()
    for matcher in re.findall(r'job\s*(=~|=)\s*"([^"]*)"', expr):
        jobs |= set(matcher[1].split("|")) if matcher[0] == "=~" else {matcher[1]}
    return jobs


def test_the_jobs_the_rules_and_the_board_name_are_scraped() -> None:
    config = _yaml("prometheus.yml")
    scraped = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(scraped) == {"campaign-engine-api", "campaign-engine-worker"}
    named = set().union(*(_jobs(expr) for expr in [*rule_exprs(), *board_exprs()]))
    assert named == set(scraped)
    api, worker = scraped["campaign-engine-api"], scraped["campaign-engine-worker"]
    assert api["metrics_path"] == "/metrics"
    assert all(t.endswith(":8000") for s in api["static_configs"] for t in s["targets"])
    assert all(t.endswith(":9464") for s in worker["static_configs"] for t in s["targets"])
    assert config["rule_files"] == ["alerts.yml"]


def test_every_alert_fires_in_a_case_and_stays_quiet_in_another() -> None:
    alerts = {str(rule["alert"]) for rule in rules()}
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in _yaml("alerts.test.yml")["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(str(check["alertname"]))
    assert alerts - firing == set(), "never seen firing"
    assert alerts - quiet == set(), "never seen quiet"
    assert (firing | quiet) <= alerts, "a test names no rule"


def test_every_alert_says_how_bad_and_what_to_do() -> None:
    for rule in rules():
        assert rule["labels"]["severity"] in {"warning", "critical", "page"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]
