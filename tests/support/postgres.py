"""PostgreSQL for the tests that need one (integration and end-to-end): the server in
DATABASE_URL when it is set (CI also runs against 127.0.0.1:5432), else an embedded one for the
test session; each test gets a freshly migrated database of its own."""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from campaign_engine.db.embedded import start_embedded
from campaign_engine.db.migrate import migrate


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The server: DATABASE_URL when set (CI also runs against 127.0.0.1:5432), else an
    embedded one for this test session, in a directory of its own (pytest prunes old
    ``pytest-N`` directories, which would pull the data from under a session still running)."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    data = Path(tempfile.mkdtemp(prefix="ce-test-pg-"))
    url, stop = start_embedded(data)
    yield url
    stop()
    shutil.rmtree(data, ignore_errors=True)


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    name = f"ce_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_dsn(postgres_server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
