"""``campaigns backtest`` as a user runs it, in a subprocess, on the exported demo: the report
files are written and the summary printed; bad input leaves with code 2 and says where."""

import json
import os
import subprocess
import sys
from pathlib import Path

from campaign_engine.scenarios import export_demo

CLI = [sys.executable, "-c", "from campaign_engine.cli import main; main()"]


def _backtest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "backtest", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},  # messages on one line
    )


def test_the_exported_demo_through_the_command(tmp_path: Path) -> None:
    folder = export_demo(tmp_path / "demo")
    done = _backtest(str(folder), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "AAPL-2024-10-01" in done.stdout and "PORTFOLIO_HEAT 2" in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["portfolio"]["final_equity"] == "123981.50"
    assert "<svg" in (tmp_path / "out" / "report.html").read_text()
    json_only = _backtest(str(folder), "--out", str(tmp_path / "j"), "--json-only")
    assert json_only.returncode == 0, json_only.stderr
    assert sorted(p.name for p in (tmp_path / "j").iterdir()) == ["report.json"]


def test_bad_input_is_refused_readably(tmp_path: Path) -> None:
    signals = tmp_path / "signals.json"
    signals.write_text(json.dumps([{"symbol": "AAPL"}]))
    bars = tmp_path / "bars.csv"
    bars.write_text("symbol,as_of,open,high,low,close\nAAPL,2024-10-15T15:00:00Z,1,2,x,1\n")
    done = _backtest("--signals", str(signals), "--bars", str(bars), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "record 1, signal_id: Field required" in done.stderr
    neither = _backtest("--out", str(tmp_path))
    assert neither.returncode == 2 and "give a scenario folder" in neither.stderr
    missing = _backtest(str(tmp_path / "nowhere"), "--out", str(tmp_path))
    assert missing.returncode == 2 and "no such scenario file" in missing.stderr
