"""The later entry's true floor: a raw update answering through one local activity that runs
one PostgreSQL transaction of a reservation's shape (lock a row, read, write), the same way the
engine's reservation runs it (one engine, psycopg, a pipeline per round trip).

Kept apart from ``raw_anchor`` so that the workflow sandbox imports no database code."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from campaign_engine.db.statements import driver

CREATE = text(
    "CREATE TABLE IF NOT EXISTS bench_anchor (id int PRIMARY KEY, n bigint NOT NULL, "
    "answer text); INSERT INTO bench_anchor VALUES (1, 0, '') ON CONFLICT DO NOTHING"
)
LOCK = "SELECT n, answer FROM bench_anchor WHERE id = 1 FOR UPDATE"
READ = "SELECT count(*) FROM bench_anchor"
WRITE = "UPDATE bench_anchor SET n = n + 1, answer = %(answer)s WHERE id = 1"


class RawTransaction:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def prepare(self) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(CREATE)

    @activity.defn(name="raw_transaction")
    async def raw_transaction(self, value: str) -> str:
        """Lock the row and read beside it in one round trip, then write: a reservation's
        two round trips in one transaction."""
        async with self._engine.begin() as conn:
            pg = await driver(conn)
            async with pg.pipeline():
                locked = await pg.execute(LOCK)
                others = await pg.execute(READ)
            await locked.fetchone()
            await others.fetchall()
            async with pg.pipeline():
                await pg.execute(WRITE, {"answer": value})
        return value
