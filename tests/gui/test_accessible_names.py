"""Every control of the desk and of every dialog has an accessible name."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHeaderView, QWidget
from pytestqt.qtbot import QtBot

from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.keyboard import CONTROLS
from agent_desk.ui.queue_model import COL_ARREARS, COL_CUSTOMER

WAIT = 20_000


def unnamed(root: QWidget) -> list[str]:
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QHeaderView):
            continue  # part of its table
        if widget.parentWidget() is not None and type(widget.parentWidget()).__name__ in (
            "QComboBox",
            "QDateTimeEdit",
            "QSpinBox",
        ):
            continue
        if not widget.accessibleName().strip():
            found.append(f"{type(widget).__name__} {widget.objectName()!r}")
    return found


def visible_dialog(window: DeskWindow) -> QDialog | None:
    for widget in window.findChildren(QDialog):
        if widget.isVisible():
            return widget
    return None


def test_every_dialog_names_every_control(qtbot: QtBot, window: DeskWindow) -> None:
    window.show()
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        window.actions_.next_customer.trigger()
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    a = window.actions_
    openers: list[tuple[str, Callable[[], object]]] = [
        ("log contact", a.log_contact.trigger),
        ("promise", a.promise.trigger),
        ("pause", a.pause.trigger),
        ("note", a.note.trigger),
        ("next step", a.next_step.trigger),
        ("arrangement", a.arrangement.trigger),
        ("letters", a.letter.trigger),
        ("verification", a.verify.trigger),
        ("shortcuts", a.shortcuts.trigger),
    ]
    problems = []
    for name, opener in openers:
        opener()
        qtbot.waitUntil(lambda: visible_dialog(window) is not None, timeout=WAIT)
        qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
        dialog = visible_dialog(window)
        assert dialog is not None
        qtbot.waitUntil(lambda d=dialog: bool(d.property("agentDeskConventions")), timeout=WAIT)
        problems += [f"{name}: {what}" for what in unnamed(dialog)]
        dialog.reject()
        qtbot.waitUntil(lambda d=dialog: not d.isVisible(), timeout=WAIT)
    problems += [f"desk: {what}" for what in unnamed(window)]
    assert not problems, "\n".join(problems)


def test_the_painted_queue_rows_have_accessible_text(window: DeskWindow) -> None:
    model = window.queue_model
    index = model.index(0, COL_CUSTOMER)
    text = model.data(index, Qt.ItemDataRole.AccessibleTextRole)
    row = model.queue_row(0)
    assert row is not None
    assert row.name in text and row.customer_number in text and "Arrears" in text
    assert "€" in model.data(model.index(0, COL_ARREARS), Qt.ItemDataRole.AccessibleTextRole)
    assert window.queue_panel.view.accessibleName()
    assert window.script_host.accessibleName()
