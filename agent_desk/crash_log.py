"""A trace of hard crashes: ``faulthandler`` writes into a file in the data folder.

A segmentation fault in Qt or PDFium, or an abort, kills the interpreter before any
Python handler runs; ``faulthandler`` still writes the Python stack of every thread
into ``crash.log``. The file is created empty and 0600 at start and removed again
at a clean exit, so a non-empty ``crash.log`` at the next start means the desk
crashed: it is kept under a dated name (``crash-YYYYmmdd-HHMMSS.log``) and the desk
offers to show it. No Qt here.
"""

from __future__ import annotations

import faulthandler
import os
from datetime import datetime
from pathlib import Path
from typing import TextIO

from agent_desk.private_files import private_dir, private_file

CRASH_LOG = "crash.log"
KEEP = 5  # dated crash logs kept; older ones are removed


class CrashLog:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / CRASH_LOG
        self._file: TextIO | None = None

    def take_previous(self) -> Path | None:
        """The log of a crash since the last clean exit, kept under a dated name."""
        try:
            if not self.path.exists() or self.path.stat().st_size == 0:
                return None
            stamp = datetime.fromtimestamp(self.path.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
            kept = self.folder / f"crash-{stamp}.log"
            os.replace(self.path, kept)
            private_file(kept)
        except OSError:
            return None
        for old in sorted(self.folder.glob("crash-*.log"))[:-KEEP]:
            old.unlink(missing_ok=True)
        return kept

    def enable(self) -> bool:
        """Start writing fatal errors into ``crash.log``; False when the folder is not writable."""
        try:
            private_dir(self.folder)
            private_file(self.path)
            self._file = self.path.open("w", encoding="utf-8")
        except OSError:
            return False
        faulthandler.enable(self._file, all_threads=True)
        return True

    def disable(self) -> None:
        """A clean exit: stop, and remove the (empty) log."""
        if self._file is None:
            return
        faulthandler.disable()
        self._file.close()
        self._file = None
        try:
            if self.path.stat().st_size == 0:
                self.path.unlink()
        except OSError:
            pass


def read_report(path: Path, limit: int = 200_000) -> str:
    """The text of a kept crash log, cut to a size a dialog can show."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    return text[-limit:]
