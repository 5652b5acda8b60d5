"""Which PostgreSQL the settings name, and getting it ready to use. The API, the CLI, the
worker and the dev stack all reach the database through here, so none of them has to load
another's code (the worker's workflows and sandbox) to learn a URL."""

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.embedded import embedded_database_url
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.migrate import migrate
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.runtime.settings import Settings


def database_url(settings: Settings) -> str:
    """DATABASE_URL when it is set, else the embedded server's (started if need be) under
    the data directory."""
    return settings.database_url or embedded_database_url(settings.data_dir)


async def prepare_database(settings: Settings) -> AsyncEngine:
    """Migrate, record the account's equity, and hand back an engine."""
    url = database_url(settings)
    await asyncio.to_thread(migrate, url)
    engine = create_engine_for(url)
    await CampaignRepository(engine).ensure_portfolio(settings.account_equity)
    return engine
