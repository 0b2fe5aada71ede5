"""Passwords: only the keyring, never a URL, a log line or a message."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from agent_desk.errors import AgentDeskError, UsageError
from agent_desk.services import secrets
from agent_desk.services.database import Database, parse_database_url


def test_password_comes_from_the_keyring_keyed_by_server_and_user() -> None:
    secrets.set_password("db.example.nl", None, "collections", "sanne", "s3cret")
    assert secrets.get_password("db.example.nl", 5432, "collections", "sanne") == "s3cret"
    assert secrets.get_password("db.example.nl", 5432, "collections", "daan") is None
    assert secrets.get_password("other.example.nl", 5432, "collections", "sanne") is None
    database = Database("postgresql://sanne@db.example.nl/collections")
    try:
        assert database.engine.url.password == "s3cret"
        assert "s3cret" not in database.display
        assert "s3cret" not in repr(database.engine.url)
    finally:
        database.dispose()


def test_no_keyring_backend_is_handled_without_plain_text_fallback(tmp_path: object) -> None:
    keyring.set_keyring(fail.Keyring())
    assert not secrets.keyring_available()
    assert secrets.get_password("h", None, "d", "u") is None
    with pytest.raises(AgentDeskError, match="No keyring"):
        secrets.set_password("h", None, "d", "u", "pw")


def test_password_in_the_url_is_refused() -> None:
    with pytest.raises(UsageError, match="keyring"):
        parse_database_url("postgresql://sanne:pw@host/db")


def test_plain_postgresql_urls_get_the_psycopg_driver() -> None:
    assert parse_database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(UsageError, match="server and a database"):
        parse_database_url("postgresql://u@/db")
