"""Render the desk's main screens offscreen to PNG for the README.

    QT_SCALE_FACTOR=1.25 python scripts/screenshots.py [--out docs]

Uses a throw-away demo database in a temporary folder (``AGENT_DESK_DATA_DIR``), so
no real settings or data are touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["AGENT_DESK_DATA_DIR"] = tempfile.mkdtemp(prefix="agent-desk-shots-")

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QWidget

from agent_desk.app import DeskApp, style_application
from agent_desk.domain.codes import Outcome
from agent_desk.services.database import Database
from agent_desk.services.demo import load_demo
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.log_contact import LogContactDialog
from agent_desk.ui.prompter import RecordingPrompter


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the desk did not get there in time")
        QCoreApplication.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        QCoreApplication.processEvents()


def save(widget: QWidget, path: Path) -> None:
    widget.grab().save(str(path))
    print(f"wrote {path}")


def shoot(database: Database, lang: str, out: Path) -> None:
    desk = DeskApp(database, lang=lang, prompter=RecordingPrompter())
    desk.start()
    wait_until(lambda: desk.picker is not None and desk.picker.isVisible())
    assert desk.picker is not None
    for row in range(desk.picker.list.count()):
        if "Sanne" in desk.picker.list.item(row).text():
            desk.picker.list.setCurrentRow(row)
    save(desk.picker, out / f"screenshot-agent-picker-{lang}.png")
    desk.picker.start.click()
    wait_until(lambda: desk.window is not None and not desk.window.queue_model.loading)
    window = desk.window
    assert isinstance(window, DeskWindow)
    window.resize(1440, 900)
    window.actions_.next_customer.trigger()
    wait_until(lambda: window.current_file() is not None and window.worker.pending == 0)
    save(window, out / f"screenshot-desk-{lang}.png")

    window.actions_.log_contact.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog)
    dialog.choose(dialog.outcome, Outcome.REACHED.value)
    dialog.note.setPlainText(
        "Klant verwacht salaris op de 25e." if lang == "nl" else "Expects salary on the 25th."
    )
    dialog.save.click()
    wait_until(lambda: window.worker.pending == 0 and dialog.error_text("next_step"))
    save(dialog, out / f"screenshot-log-contact-{lang}.png")
    dialog.reject()

    window.actions_.promise.trigger()
    promise = window.open_dialog
    assert promise is not None
    wait_until(lambda: promise.isVisible())
    save(promise, out / f"screenshot-promise-{lang}.png")
    promise.reject()
    window.releasing_on_close = True
    window.close()
    desk.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs")
    parser.add_argument("--customers", type=int, default=1500)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    style_application(app)
    path = Path(os.environ["AGENT_DESK_DATA_DIR"]) / "shots.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.transaction() as session:
        load_demo(session, customers=args.customers, seed=42)
    for lang in ("en", "nl"):
        shoot(database, lang, args.out)
    database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
