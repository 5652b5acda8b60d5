"""Alembic environment: migrations run on a synchronous psycopg connection."""

import os

from alembic import context
from sqlalchemy import create_engine, pool

from campaign_engine.db.engine import sync_url
from campaign_engine.db.schema import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    # From the command line (developing a migration): DATABASE_URL names the database.
    url = sync_url(config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"])
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
