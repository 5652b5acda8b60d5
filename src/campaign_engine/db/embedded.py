"""The embedded PostgreSQL server (pgserver) used when no DATABASE_URL is given."""

from pathlib import Path

from campaign_engine.db.engine import sync_url


def embedded_database_url(data_dir: Path, *, stop_at_exit: bool = True) -> str:
    """Start (or reuse) a PostgreSQL server keeping its data under ``data_dir/postgres`` and
    return its URL. The server listens on a Unix socket in that directory only."""
    import pgserver  # a large optional import: only when the embedded server is wanted

    pgdata = (data_dir / "postgres").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop" if stop_at_exit else None)
    return sync_url(server.get_uri())
