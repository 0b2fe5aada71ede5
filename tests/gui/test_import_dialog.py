"""Supervisor › Import… in the desk: imports with a progress dialog, lists bad rows by
line next to the file field, and a cancelled import writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QProgressDialog, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from agent_desk.app import DeskApp
from agent_desk.models import Base, Customer
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.import_file import ImportDialog
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 60_000
HEADER = (
    "customer_number,first_name,last_name,street,house_number,postcode,city,"
    "claim_reference,principal,due_date\n"
)


def _row(n: int, principal: str = "100.00") -> str:
    return f"{800000 + n},Anna,Visser {n},Kerkstraat,{n % 90 + 1},3511 AB,Utrecht,IMP-{n},{principal},2026-10-01\n"


def _counts(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return {
            t.name: int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


def _desk(qtbot: QtBot, database: Database, prompter: RecordingPrompter, login: str) -> DeskApp:
    desk = DeskApp(
        database, lang="en", agent_login=login, prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: desk.window is not None and not desk.window.queue_model.loading)
    qtbot.waitUntil(lambda: desk.worker.pending == 0, timeout=WAIT)
    return desk


@pytest.fixture
def boss(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskWindow]:
    desk = _desk(qtbot, database, prompter, "marieke")
    assert desk.window is not None
    yield desk.window
    if desk.window is not None:
        desk.window.close()
    desk.shutdown()


def _open(qtbot: QtBot, window: DeskWindow, kind: str, path: Path) -> ImportDialog:
    assert window.importer.action.isVisible()
    window.importer.action.trigger()
    dialog = window.importer.dialog
    assert isinstance(dialog, ImportDialog) and dialog.isVisible()
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
    dialog.path.setText(str(path))
    return dialog


def test_an_import_from_the_desk_shows_what_it_did(
    qtbot: QtBot, boss: DeskWindow, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + _row(1) + _row(2), encoding="utf-8")
    dialog = _open(qtbot, boss, "customers", path)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=WAIT)
    assert "2 new" in dialog.message.text()
    assert dialog.progress_dialog is None, "the progress dialog closes when done"
    with database.transaction() as session:
        numbers = set(
            session.scalars(
                select(Customer.customer_number).where(Customer.customer_number.like("8000%"))
            )
        )
    assert numbers == {"800001", "800002"}


def test_bad_rows_are_listed_by_line_and_nothing_is_written(
    qtbot: QtBot, boss: DeskWindow, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + _row(1) + _row(2, principal="lots"), encoding="utf-8")
    before = _counts(database)
    dialog = _open(qtbot, boss, "customers", path)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.problems.isVisible(), timeout=WAIT)
    assert "nothing was imported" in dialog.message.text()
    assert dialog.problems.toPlainText().startswith("line 3:")
    assert dialog.start_button.isEnabled()
    assert _counts(database) == before


def test_a_missing_file_is_said_next_to_the_field(
    qtbot: QtBot, boss: DeskWindow, tmp_path: Path
) -> None:
    dialog = _open(qtbot, boss, "payments", tmp_path / "nowhere.csv")
    dialog.start_button.click()
    assert "There is no file" in dialog.message.text()
    assert dialog.progress_dialog is None


def test_cancel_in_the_progress_dialog_writes_nothing(
    qtbot: QtBot, boss: DeskWindow, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "".join(_row(n) for n in range(12_000)), encoding="utf-8")
    before = _counts(database)
    dialog = _open(qtbot, boss, "customers", path)
    dialog.start_button.click()
    progress = dialog.progress_dialog
    assert isinstance(progress, QProgressDialog) and progress.isVisible()
    cancel = progress.findChild(QPushButton)
    assert cancel is not None and cancel.text() == "Cancel"
    cancel.click()
    qtbot.waitUntil(lambda: dialog.progress_dialog is None, timeout=WAIT)
    assert dialog.message.text() == "The import was cancelled; nothing was imported."
    assert dialog.outcome is None
    assert _counts(database) == before


def test_an_agent_has_no_import(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> None:
    desk = _desk(qtbot, database, prompter, "sanne")
    try:
        assert desk.window is not None
        assert not desk.window.importer.action.isVisible()
        assert desk.window.importer.open() is None
    finally:
        if desk.window is not None:
            desk.window.close()
        desk.shutdown()
