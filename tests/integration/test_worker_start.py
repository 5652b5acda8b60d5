"""A worker started while its database is down waits for it instead of exiting."""

import asyncio

from sqlalchemy import text

from campaign_engine.db.bootstrap import prepare_database
from campaign_engine.runtime.settings import Settings
from campaign_engine.stack.private_postgres import private_postgres
from campaign_engine.worker import when_up


async def test_the_worker_waits_for_its_database_and_starts_when_it_answers() -> None:
    with private_postgres() as server:
        server.stop()
        settings = Settings(database_url=server.url, metrics_port=None)
        starting = asyncio.create_task(when_up("database", lambda: prepare_database(settings)))
        await asyncio.sleep(2)
        assert not starting.done()  # still waiting, not failed
        server.start()
        engine = await asyncio.wait_for(starting, 30)
        try:
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT count(*) FROM portfolio")) == 1
        finally:
            await engine.dispose()
