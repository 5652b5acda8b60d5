"""Run the Alembic migrations to head (idempotent: safe at every start)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool

from campaign_engine.db.engine import sync_url

_HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            # One migrator at a time, even when several processes start together.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
