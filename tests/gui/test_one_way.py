"""One way for each thing: the script's answer carries into F2, one promise, release."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.models import Note
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.log_contact import LogContactDialog
from agent_desk.ui.dialogs.promise import PromiseDialog
from agent_desk.ui.dialogs.release import ReleaseDialog

WAIT = 20_000
CTRL = Qt.KeyboardModifier.ControlModifier


def open_next(qtbot: QtBot, window: DeskWindow) -> int:
    window.show()
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        qtbot.keyClick(window, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    return int(shown.args[0])


def test_someone_else_in_the_script_is_someone_else_in_f2(qtbot: QtBot, window: DeskWindow) -> None:
    open_next(qtbot, window)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_2)  # "Someone else answers"
    qtbot.keyClick(window, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: isinstance(window.open_dialog, LogContactDialog), timeout=WAIT)
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog)
    assert dialog.outcome.currentData() == "third_party"
    assert dialog.outcome.currentText() == "spoke to someone else"
    dialog.reject()


def test_the_saved_promise_shows_in_the_script(qtbot: QtBot, window: DeskWindow) -> None:
    open_next(qtbot, window)
    assert window.script_host.recorded.text() == "Nothing yet."
    qtbot.keyClick(window, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: isinstance(window.open_dialog, PromiseDialog), timeout=WAIT)
    dialog = window.open_dialog
    assert isinstance(dialog, PromiseDialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.amount)
    dialog.amount.setText("25.00")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: "Promise saved (F3)" in window.script_host.recorded.text())
    assert "25.00" in window.script_host.recorded.text()


def test_release_with_a_reason_moves_on_and_notes_why(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    first = open_next(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL | Qt.KeyboardModifier.ShiftModifier)
    dialog = window.release_dialog
    assert isinstance(dialog, ReleaseDialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.reason)
    dialog.reason.setCurrentIndex(dialog.reason.findData("other"))
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return, CTRL)
    assert "Say why" in dialog.error_text("detail")  # "other" needs words
    dialog.detail.setFocus()  # Tab order: reason, details
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.detail)
    qtbot.keyClicks(dialog.detail, "customer asked for Monday")
    qtbot.keyClick(dialog.detail, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)

    def moved_on() -> bool:
        file = window.current_file()
        return file is not None and file.id != first and window.worker.pending == 0

    qtbot.waitUntil(moved_on, timeout=WAIT)  # the next customer, not the same one again
    with database.transaction() as session:
        notes = session.scalars(select(Note.text).where(Note.customer_id == first)).all()
    assert any("Released: Another reason" in n and "Monday" in n for n in notes)


def test_the_file_and_the_verification_show_one_preferred_channel(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    from agent_desk.models import Customer
    from tests.gui.test_verification_dialog import open_verification

    customer_id = open_next(qtbot, window)
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        customer.preferred_channel = None  # only a contact point says "preferred"
    window.refresh()
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    file = window.current_file()
    assert file is not None
    preferred = [p for p in file.contact_points if p.preferred]
    assert preferred, "the demo customer has a preferred contact point"
    channel = {"mobile": "phone", "phone": "phone", "email": "email", "address": "letter"}
    dialog = open_verification(qtbot, window)
    assert dialog.channel.currentData() == channel[preferred[0].kind]  # the same one
    # Saving without touching it does not choose it anew (which could move it).
    assert dialog.channel_to_save() is None
    other = "email" if dialog.channel.currentData() != "email" else "letter"
    dialog.channel.setCurrentIndex(dialog.channel.findData(other))
    assert dialog.channel_to_save() == other  # a real change is saved
    dialog.reject()
