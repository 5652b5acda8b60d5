"""Engines and URLs: one place that knows how PostgreSQL is reached."""

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def _with_driver(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {parsed.drivername!r}")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The URL as libpq reads it, for a connection of its own outside the pool (a LISTEN, a
    session's advisory lock): SQLAlchemy's ``postgresql+psycopg`` scheme is not libpq's."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    return _with_driver(url)


def async_url(url: str) -> str:
    return _with_driver(url)


DEFAULT_POOL_SIZE = 10
CONNECT_TIMEOUT = 5  # seconds: an unreachable server fails a connection, never hangs it


def create_engine_for(url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> AsyncEngine:
    # No pre-ping: a connection lost with a database restart fails its activity, and the
    # activity's retry takes a fresh one; pinging would cost every query a round trip.
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )
