"""The creditor profile (Supervisor menu) and a customer's objection (Customer menu)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from agent_desk.app import DeskApp
from agent_desk.models import CreditorProfileVersion, SignalObjection
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.creditor import CreditorDialog, ObjectionDialog
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 20_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


@pytest.fixture
def boss(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskWindow]:
    desk = DeskApp(
        database, lang="en", agent_login="marieke", prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
    assert desk.window is not None
    window = desk.window
    qtbot.waitUntil(lambda: not window.queue_model.loading, timeout=WAIT)
    idle(qtbot, window)
    yield window
    window.close()
    desk.shutdown()


def _versions(database: Database) -> int:
    with database.transaction() as s:
        return int(s.scalar(select(func.max(CreditorProfileVersion.version))) or 0)


def _open_profile(qtbot: QtBot, window: DeskWindow) -> CreditorDialog:
    action = window.findChild(QAction, "creditorProfile")
    assert action is not None
    action.trigger()
    qtbot.waitUntil(lambda: window.findChild(CreditorDialog) is not None, timeout=WAIT)
    dialog = window.findChild(CreditorDialog)
    assert isinstance(dialog, CreditorDialog)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=WAIT)
    return dialog


def test_a_supervisor_edits_the_profile_with_errors_beside_the_field(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    before = _versions(database)  # the demo set up a housing association
    assert before >= 1
    dialog = _open_profile(qtbot, boss)
    iban = dialog.inputs["iban"]
    assert isinstance(iban, QLineEdit) and iban.accessibleName() == "IBAN"
    iban.setText("NL91 ABNA 0417 1643 01")
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "not a valid IBAN" in dialog.error_text("iban")
    assert dialog.isVisible() and _versions(database) == before
    iban.setText("NL02ABNA0123456789")
    signatory = dialog.inputs["signatory"]
    assert isinstance(signatory, QLineEdit)
    signatory.setText("Team Huurincasso")
    sector = dialog.inputs["sector"]
    assert isinstance(sector, QComboBox) and sector.currentData() == "housing"
    assert "must send early signals" in dialog.duty.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    idle(qtbot, boss)
    assert _versions(database) == before + 1


def test_escape_cancels_and_saves_nothing(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    before = _versions(database)
    dialog = _open_profile(qtbot, boss)
    sector = dialog.inputs["sector"]
    assert isinstance(sector, QComboBox)
    sector.setCurrentIndex(sector.findData("other"))
    assert "no early-signal duty" in dialog.duty.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    idle(qtbot, boss)
    assert _versions(database) == before


def test_an_agent_has_no_profile_screen(window: DeskWindow) -> None:
    assert window.findChild(QAction, "creditorProfile") is None


def test_an_agent_records_an_objection_and_the_file_shows_it(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    customer_id = shown.args[0]
    action = window.findChild(QAction, "signalObjection")
    assert action is not None
    action.trigger()
    dialog = window.findChild(ObjectionDialog)
    assert isinstance(dialog, ObjectionDialog)
    dialog.channel.setCurrentIndex(dialog.channel.findData("letter"))
    qtbot.waitUntil(dialog.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    idle(qtbot, window)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    idle(qtbot, window)
    with database.transaction() as s:
        row = s.scalars(
            select(SignalObjection).where(SignalObjection.customer_id == customer_id)
        ).one()
        assert row.channel == "letter" and row.kind == "objection"
    qtbot.waitUntil(
        lambda: any(
            "objects to an early signal" in (window.customer_panel.timeline.item(r, 1).text())
            for r in range(window.customer_panel.timeline.rowCount())
        ),
        timeout=WAIT,
    )
