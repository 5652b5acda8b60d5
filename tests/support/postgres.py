"""PostgreSQL for the tests that need one (integration and end-to-end): the server in
DATABASE_URL when it is set (CI also runs against 127.0.0.1:5432), else an embedded one for the
test session; each test gets a freshly migrated database of its own, a copy of one migrated
once for the session."""

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


@pytest.fixture(scope="session")
def migrated_template(postgres_server: Database) -> Iterator[Database]:
    """A database migrated once, that each test's database is copied from."""
    template = create_database(postgres_server, "ce_template_")
    yield template
    drop_database(postgres_server, template)


@pytest.fixture
def database_url(postgres_server: Database, migrated_template: Database) -> Iterator[str]:
    database = create_database(postgres_server, "ce_test_", template=migrated_template)
    yield database.url
    drop_database(postgres_server, database)
