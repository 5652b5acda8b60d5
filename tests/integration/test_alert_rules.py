"""The alert rules, their tests, the example scrape config and the board's queries, checked by
Prometheus' own promtool (Debian's prometheus). ``python3 run.py test`` installs it where it is
missing (as root, with apt-get); without it these tests are skipped, saying so. No PostgreSQL:
they sit in this tier with the other tests of what runs beside the engine."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
PROMTOOL = Path("/usr/bin/promtool")


def promtool_path() -> Path | None:
    if PROMTOOL.exists():
        return PROMTOOL
    found = shutil.which("promtool")
    return Path(found) if found else None


@pytest.fixture(scope="module")
def promtool() -> Path:
    executable = promtool_path()
    if executable is None:
        pytest.skip(
            "Debian's prometheus is not installed (no promtool): `python3 run.py test` "
            "installs it when run as root, or `apt-get install --no-install-recommends "
            "prometheus`"
        )
    return executable


def run_promtool(promtool: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def succeeded(done: subprocess.CompletedProcess[str]) -> bool:
    """True when promtool passed; otherwise its output is printed, so the failure shows it."""
    if done.returncode != 0:
        print(done.stdout, done.stderr, sep="\n")
    return done.returncode == 0


def _alert_count() -> int:
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
    return sum(len(group["rules"]) for group in groups)


def test_the_rules_load(promtool: Path) -> None:
    done = run_promtool(promtool, "check", "rules", MONITORING / "alerts.yml")
    assert succeeded(done)
    assert f"SUCCESS: {_alert_count()} rules found" in done.stdout


def test_every_rule_passes_its_cases(promtool: Path) -> None:
    done = run_promtool(promtool, "test", "rules", MONITORING / "alerts.test.yml")
    assert succeeded(done)
    assert "SUCCESS" in done.stdout


def test_a_rule_changed_fails_its_cases(promtool: Path, tmp_path: Path) -> None:
    """The cases pin the rules down: the heat warning moved from "at or past the level" to
    "past it" misses the case at exactly the level."""
    rules = (MONITORING / "alerts.yml").read_text()
    moved = rules.replace(">= ignoring(level)", "> ignoring(level)")
    assert moved != rules
    (tmp_path / "alerts.yml").write_text(moved)
    shutil.copy(MONITORING / "alerts.test.yml", tmp_path)
    done = run_promtool(promtool, "test", "rules", tmp_path / "alerts.test.yml")
    assert done.returncode != 0
    assert "alertname: PortfolioHeatWarning, time: 3m" in done.stdout + done.stderr


def test_the_example_scrape_config_loads_with_its_rules(promtool: Path, tmp_path: Path) -> None:
    """As deployed: the config and the rules beside it (promtool checks that every file it
    refers to is there)."""
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(MONITORING / name, tmp_path)
    done = run_promtool(promtool, "check", "config", tmp_path / "prometheus.yml")
    assert succeeded(done)
    assert f"SUCCESS: {_alert_count()} rules found" in done.stdout


def test_every_board_query_parses(promtool: Path, tmp_path: Path) -> None:
    """Each of the board's queries, as a recording rule promtool parses (Grafana's
    ``$__rate_interval`` given a value, as Grafana does before it asks)."""
    board = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [
        target["expr"].replace("$__rate_interval", "1m")
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]
    assert len(exprs) > 20
    recorded = [{"record": f"board:query_{n}", "expr": e} for n, e in enumerate(exprs)]
    rules = tmp_path / "board.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "board", "rules": recorded}]}))
    done = run_promtool(promtool, "check", "rules", rules)
    assert succeeded(done)
    assert f"SUCCESS: {len(exprs)} rules found" in done.stdout
