"""The embedded PostgreSQL server (pgserver) used when no DATABASE_URL is given."""

from collections.abc import Callable
from pathlib import Path

from campaign_engine.db.engine import sync_url


def start_embedded(data_dir: Path, *, stop_at_exit: bool = True) -> tuple[str, Callable[[], None]]:
    """Start (or reuse) a PostgreSQL server keeping its data under ``data_dir/postgres``;
    return its URL and a function that stops it (the data stays). The server listens on a Unix
    socket in that directory only."""
    import pgserver  # a large optional import: only when the embedded server is wanted

    pgdata = (data_dir / "postgres").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop" if stop_at_exit else None)
    return sync_url(server.get_uri()), server.cleanup


def embedded_database_url(data_dir: Path, *, stop_at_exit: bool = True) -> str:
    url, _ = start_embedded(data_dir, stop_at_exit=stop_at_exit)
    return url
