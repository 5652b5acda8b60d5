"""A real Prometheus server (Debian's ``prometheus``) for the end-to-end tests: started on a
free port with a configuration of the test's own, asked through its HTTP API."""

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
MISSING = (
    "Debian's prometheus is missing: `apt-get install --no-install-recommends prometheus` "
    "(python3 run.py test installs it where it can)"
)


def available() -> bool:
    return Path(PROMETHEUS).exists()


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # host:port
    bearer_token: str | None = None


def configuration(jobs: Sequence[Job], rules: Sequence[Path], interval: str = "1s") -> str:
    """prometheus.yml scraping ``jobs`` and evaluating ``rules`` every ``interval``."""
    lines = [
        "global:",
        f"  scrape_interval: {interval}",
        f"  evaluation_interval: {interval}",
        "rule_files:",
        *(f"  - {rule}" for rule in rules),
        "scrape_configs:",
    ]
    for job in jobs:
        lines += [f"  - job_name: {job.name}", "    static_configs:"]
        lines += [f"      - targets: ['{job.target}']"]
        if job.bearer_token is not None:
            lines += ["    authorization:", f"      credentials: {job.bearer_token}"]
    return "\n".join(lines) + "\n"


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    async def query(self, expr: str) -> list[tuple[dict[str, str], float]]:
        """An instant query's series: their labels and values."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            answer = (await http.get("/api/v1/query", params={"query": expr})).json()
        assert answer["status"] == "success", answer
        return [(r["metric"], float(r["value"][1])) for r in answer["data"]["result"]]

    async def alerts(self) -> list[dict[str, object]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            answer = (await http.get("/api/v1/alerts")).json()
        alerts: list[dict[str, object]] = answer["data"]["alerts"]
        return alerts


@contextlib.asynccontextmanager
async def running_prometheus(folder: Path, config: str, port: int) -> AsyncIterator[Prometheus]:
    """Prometheus on 127.0.0.1:``port`` with ``config``, its data and log in ``folder``."""
    (folder / "prometheus.yml").write_text(config)
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as http:
            for _ in range(200):
                assert process.poll() is None, (folder / "prometheus.log").read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/-/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield Prometheus(url)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
