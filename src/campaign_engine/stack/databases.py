"""The stack's PostgreSQL: the server DATABASE_URL names, or an embedded one in a folder of
its own, and databases of their own on it, created fresh and dropped afterwards (a test's, a
benchmark's), so that runs sharing one server cannot see each other's campaigns."""

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from campaign_engine.db.embedded import start_embedded
from campaign_engine.db.migrate import migrate


@dataclass(frozen=True)
class Database:
    """A database's URL, its name, and the embedded server's data directory it lives in
    (None on the server of DATABASE_URL), which tells whose PostgreSQL processes are its."""

    url: str
    name: str
    data_dir: Path | None


@contextlib.contextmanager
def database_server(prefix: str = "ce-pg-") -> Iterator[Database]:
    """The server: DATABASE_URL when set, else an embedded one in a temporary directory of
    its own (not pytest's ``pytest-N``, which it prunes under a session still running), stopped
    and removed on the way out."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        yield Database(url, make_url(url).database or "postgres", None)
        return
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    url, stop = start_embedded(folder)
    try:
        yield Database(url, make_url(url).database or "postgres", folder / "postgres")
    finally:
        stop()
        shutil.rmtree(folder, ignore_errors=True)


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(
    server: Database, prefix: str, *, migrated: bool = True, template: Database | None = None
) -> Database:
    """A new database on ``server`` named ``prefix`` and a random suffix, migrated; or a copy
    of ``template`` (a migrated database nobody is connected to), which the server makes
    without running a migration (a test's database in 0.05 s instead of 0.15 s)."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    copied = f' TEMPLATE "{template.name}"' if template is not None else ""
    with psycopg.connect(_admin_dsn(server.url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copied}')
    url = make_url(server.url).set(database=name).render_as_string(hide_password=False)
    if migrated and template is None:
        migrate(url)
    return Database(url, name, server.data_dir)


def drop_database(server: Database, database: Database) -> None:
    """Drop ``database``, ending the sessions still on it."""
    with psycopg.connect(_admin_dsn(server.url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


@contextlib.contextmanager
def own_database(prefix: str, *, migrated: bool = True) -> Iterator[Database]:
    """A fresh database of its own on the server (DATABASE_URL's or an embedded one for the
    block), dropped on the way out."""
    with database_server(f"{prefix.replace('_', '-')}pg-") as server:
        database = create_database(server, prefix, migrated=migrated)
        try:
            yield database
        finally:
            drop_database(server, database)
