"""Shared test set-up: no test touches the user's real data, settings or keyring."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring so tests never read or write the real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def _isolated_user_files(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("AGENT_DESK_DATA_DIR", str(data))
    monkeypatch.delenv("AGENT_DESK_DATABASE_URL", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield data
    keyring.set_keyring(previous)


PG_URL = os.environ.get(
    "AGENT_DESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("AGENT_DESK_REQUIRE_PG") == "1"


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[URL]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards.

    Without a reachable server the test skips with the reason, unless
    ``AGENT_DESK_REQUIRE_PG=1`` (CI), where it fails.
    """
    admin_url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
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
    try:
        yield admin_url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def fresh_pg() -> Callable[[str], AbstractContextManager[URL]]:
    """``with fresh_pg("prefix") as url:`` a database of the test's own."""
    return fresh_pg_database
