"""Databases for the service tests: the same tests run on SQLite and on PostgreSQL.

PostgreSQL: ``AGENT_DESK_TEST_PG_URL`` (default the local test server). Each run
creates its own database and drops it at the end. Without a reachable server the
PostgreSQL tests skip with the reason, unless ``AGENT_DESK_REQUIRE_PG=1`` (CI), where
they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agent_desk.models import Base
from agent_desk.services.database import Database

PG_URL = os.environ.get(
    "AGENT_DESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("AGENT_DESK_REQUIRE_PG") == "1"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run."""
    admin_url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"agent_desk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        message = (
            f"PostgreSQL not reachable at {admin_url.render_as_string()}: {type(error).__name__}"
        )
        if REQUIRE_PG:
            pytest.fail(message + " (AGENT_DESK_REQUIRE_PG=1)")
        pytest.skip(message)
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    database.upgrade()
    database.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
