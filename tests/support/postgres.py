"""PostgreSQL for the tests that need one (integration and end-to-end): the server in
DATABASE_URL when it is set (CI also runs against 127.0.0.1:5432), else an embedded one for the
test session; each test gets a freshly migrated database of its own."""

from collections.abc import Iterator

import pytest

from campaign_engine.stack.databases import (
    Database,
    create_database,
    database_server,
    drop_database,
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Database]:
    """The server: DATABASE_URL when set, else an embedded one for this test session."""
    with database_server("ce-test-pg-") as server:
        yield server


@pytest.fixture
def database_url(postgres_server: Database) -> Iterator[str]:
    database = create_database(postgres_server, "ce_test_")
    yield database.url
    drop_database(postgres_server, database)
