"""Worker tasks per desk action: a click on a queue row, a saved note (issue 18).

Run: ``QT_QPA_PLATFORM=offscreen python bench/bench_tasks.py``. Offscreen, the real
desk window (``DeskApp`` with its worker, live sync listening, the offline outbox) on
a fresh SQLite demo database (300 customers, agent sanne). It counts the tasks
queued on the one database worker from the action until the desk is quiet again
(nothing pending, and no live-sync wake for a settle period), and prints exactly::

    tasks per queue click: N
    tasks per saved note: N

Before issue 18: 4 and 5-6 (the file loaded twice, the whole queue reloaded, and the
desk's own change came back through live sync). Target: 1 (the file) and 2 (the save
plus at most one refresh).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

SETTLE = 1.0  # seconds of quiet after an action (the poller looks every 20 ms)


def spin(app: QApplication, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the desk did not get there in time")
        app.processEvents()
        time.sleep(0.002)


def settle(app: QApplication, pending: Callable[[], int]) -> None:
    """Until nothing is pending and nothing new arrived for ``SETTLE`` seconds."""
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < SETTLE:
        app.processEvents()
        if pending():
            quiet_since = time.monotonic()
        time.sleep(0.002)


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    folder = Path(tempfile.mkdtemp(prefix="bench-tasks-"))
    os.environ["XDG_DATA_HOME"] = str(folder / "data")  # the outbox and settings: private
    from agent_desk.app import DeskApp
    from agent_desk.demo import load_demo
    from agent_desk.services.database import Database
    from agent_desk.ui.dialogs.note import NoteDialog
    from agent_desk.ui.prompter import RecordingPrompter
    from agent_desk.ui.settings import DeskSettings

    database = Database(f"sqlite:///{folder / 'demo.sqlite3'}")
    database.upgrade()
    with database.transaction() as session:
        load_demo(session, customers=300, seed=1)
    desk = DeskApp(
        database, lang="en", agent_login="sanne", prompter=RecordingPrompter(),
        settings=DeskSettings(),
    )  # fmt: skip
    try:
        desk.start()
        spin(app, lambda: desk.window is not None)
        window = desk.window
        assert window is not None
        window.show()
        spin(
            app,
            lambda: (
                not window.queue_model.loading
                and window.live_sync.listener is not None
                and window.live_sync.online is True
            ),
        )
        worker = desk.worker
        settle(app, lambda: worker.pending)

        before = worker.submitted
        window.queue_panel.view.activated.emit(window.queue_model.index(0, 0))
        spin(app, lambda: window.current_file() is not None)
        settle(app, lambda: worker.pending)
        print(f"tasks per queue click: {worker.submitted - before}")

        dialog = window.recorder.note()
        assert isinstance(dialog, NoteDialog)
        dialog.text.setPlainText("Called back after six, as agreed.")
        before = worker.submitted
        dialog.save.click()
        spin(app, lambda: not dialog.isVisible())
        settle(app, lambda: worker.pending)
        print(f"tasks per saved note: {worker.submitted - before}")
        window.close()
    finally:
        desk.shutdown()
        database.dispose()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
