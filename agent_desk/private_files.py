"""Files that hold customers' data belong to the desk's user alone.

A home-working agent's laptop is often a family laptop: other accounts must not read
the outbox (notes, promises), the log, the settings or the embedded database. Folders
the desk owns are 0700 and its files 0600 — also on an existing install, whose modes
are tightened at start. SQLite gives its ``-wal`` and ``-shm`` files the mode of the
database file, so creating that file 0600 first covers them.

On Windows the POSIX modes do not apply (the profile folder is private already).
"""

from __future__ import annotations

import logging
import os
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_POSIX = os.name == "posix"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; the folder itself becomes 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if _POSIX:
        os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists and only its owner may read or write it."""
    if _POSIX:
        descriptor = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, PRIVATE_FILE)
        os.close(descriptor)
        os.chmod(path, PRIVATE_FILE)
    else:  # pragma: no cover - not POSIX
        path.touch(exist_ok=True)
    return path


def private_sqlite(path: Path) -> Path:
    """A SQLite database file and its companions (``-wal``, ``-shm``, ``-journal``)."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists() and _POSIX:
            os.chmod(companion, PRIVATE_FILE)
    return path


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose every file, also after rotation, is 0600."""

    def _open(self) -> TextIOWrapper:
        private_file(Path(self.baseFilename))
        return super()._open()

    def doRollover(self) -> None:
        super().doRollover()
        for index in range(1, self.backupCount + 1):
            rotated = Path(f"{self.baseFilename}.{index}")
            if rotated.exists() and _POSIX:
                os.chmod(rotated, PRIVATE_FILE)


def private_log(folder: Path, name: str = "agent-desk.log") -> logging.Handler:
    private_dir(folder)
    return PrivateRotatingFileHandler(
        folder / name, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
