"""The start-up check "is the database current?" agrees with Alembic, without loading it."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from agent_desk.services.database import Database
from agent_desk.services.migrate import alembic_config, is_at_head, script_heads


def test_the_heads_read_from_the_scripts_are_alembics() -> None:
    assert script_heads() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_is_at_head_on_sqlite_empty_current_and_behind(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'heads.sqlite3'}")
    try:
        assert not is_at_head(database.engine)  # no schema yet
        database.upgrade()
        assert is_at_head(database.engine)
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        assert not is_at_head(database.engine)
    finally:
        database.dispose()
