"""Customers' data on a shared laptop: the desk's folders 0700, its files 0600."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from agent_desk.private_files import private_dir, private_file, private_log, private_sqlite

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_existing_install_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "agent-desk"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    data = folder / "outbox.sqlite3"
    data.write_text("x")
    os.chmod(data, 0o644)
    wal = folder / "outbox.sqlite3-wal"
    wal.write_text("x")
    os.chmod(wal, 0o644)
    private_dir(folder)
    private_sqlite(data)
    assert (_mode(folder), _mode(data), _mode(wal)) == (0o700, 0o600, 0o600)
    assert data.read_text() == "x", "tightening keeps the content"


def test_new_files_are_born_private_even_with_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        folder = private_dir(tmp_path / "new" / "agent-desk")
        settings = private_file(folder / "desk.ini")
    finally:
        os.umask(old)
    assert (_mode(folder), _mode(settings)) == (0o700, 0o600)


def test_the_log_and_its_rotated_files_are_private(tmp_path: Path) -> None:
    handler = private_log(tmp_path / "logs")
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    handler.maxBytes = 200
    logger = logging.getLogger("test_private_log")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for n in range(20):
            logger.warning("customer note %d: %s", n, "x" * 40)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted((tmp_path / "logs").iterdir())
    assert len(files) >= 2, "the log rotated"
    assert {_mode(f) for f in files} == {0o600}
    assert _mode(tmp_path / "logs") == 0o700


def test_the_outbox_and_the_embedded_database_are_private(tmp_path: Path) -> None:
    from sqlalchemy import text

    from agent_desk.config import data_dir
    from agent_desk.services.database import Database
    from agent_desk.services.outbox import Outbox

    folder = data_dir()  # the tests' own data folder (AGENT_DESK_DATA_DIR)
    os.chmod(folder, 0o755)
    outbox = Outbox(folder / "outbox.sqlite3")
    outbox.close()
    database = Database(f"sqlite:///{folder / 'agent-desk.sqlite3'}")
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x)"))
    database.dispose()
    assert _mode(folder) == 0o700
    for name in ("outbox.sqlite3", "agent-desk.sqlite3"):
        assert _mode(folder / name) == 0o600, name
    # A database the user put elsewhere keeps its folder's mode.
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir(mode=0o755)
    os.chmod(elsewhere, 0o755)
    other = Database(f"sqlite:///{elsewhere / 'team.sqlite3'}")
    with other.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x)"))
    other.dispose()
    assert _mode(elsewhere) == 0o755
