"""Databases for the service tests: the same tests run on SQLite and on PostgreSQL.

PostgreSQL: ``AGENT_DESK_TEST_PG_URL`` (default the local test server). Each run
creates its own database and drops it at the end. Without a reachable server the
PostgreSQL tests skip with the reason, unless ``AGENT_DESK_REQUIRE_PG=1`` (CI), where
they fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from agent_desk.models import Base
from agent_desk.services.database import Database


@pytest.fixture(scope="session")
def pg_server_url(fresh_pg: Callable[[str], AbstractContextManager[URL]]) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run."""
    with fresh_pg("agent_desk_test") as url:
        database = Database(url)
        database.upgrade()
        database.dispose()
        yield url.render_as_string(hide_password=False)


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database on each engine."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'desk.sqlite3'}")
        db.upgrade()
    else:
        db = Database(request.getfixturevalue("pg_server_url"))
        _truncate_all(db)
    yield db
    db.dispose()
