"""Ctrl+K / Ctrl+F find anyone, driven with real key events on the real desk."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QListWidget, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.domain.search_keys import fold
from agent_desk.models import Agent, Customer
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.find_customer import FindCustomerDialog

WAIT = 20_000


def _idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def _dialog(qtbot: QtBot, window: DeskWindow, key: Qt.Key) -> FindCustomerDialog:
    window.activateWindow()
    qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: (
            isinstance(QApplication.activeModalWidget(), FindCustomerDialog)
            or any(isinstance(w, FindCustomerDialog) and w.isVisible() for w in window.children())
        ),
        timeout=WAIT,
    )
    found = [w for w in window.children() if isinstance(w, FindCustomerDialog) and w.isVisible()]
    assert len(found) == 1
    return found[0]


def _accented_colleague_customer(window: DeskWindow) -> tuple[int, str, str]:
    """A customer with an accent in the name who is not in Sanne's queue."""

    def find(session: object) -> tuple[int, str, str]:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        sanne = session.scalar(select(Agent.id).where(Agent.login == "sanne"))
        for customer in session.scalars(
            select(Customer).where(Customer.assigned_agent_id != sanne).order_by(Customer.id)
        ):
            if fold(customer.name) != customer.name.lower():
                return customer.id, customer.name, customer.customer_number
        raise AssertionError("no accented colleague's customer in the demo data")

    return window.worker.run_and_wait(find)  # type: ignore[arg-type]


def test_ctrl_k_finds_without_accents_and_enter_opens_outside_the_queue(
    qtbot: QtBot, window: DeskWindow
) -> None:
    customer_id, name, number = _accented_colleague_customer(window)
    queue_ids = {
        window.queue_model.queue_row(r).customer_id  # type: ignore[union-attr]
        for r in range(window.queue_model.rowCount())
        if window.queue_model.queue_row(r) is not None
    }
    assert customer_id not in queue_ids
    dialog = _dialog(qtbot, window, Qt.Key.Key_K)
    qtbot.waitUntil(dialog.query.hasFocus, timeout=WAIT)
    # The customer's name typed without accents and in capitals, then the number.
    qtbot.keyClicks(dialog.query, fold(name).upper())
    qtbot.waitUntil(lambda: dialog.results.count() > 0, timeout=WAIT)
    _idle(qtbot, window)
    assert dialog.results.currentRow() == 0
    rows = [dialog.results.item(r).text() for r in range(dialog.results.count())]
    assert all("name" in row for row in rows)
    wanted = next(r for r, row in enumerate(rows) if number in row)
    for _ in range(wanted):
        qtbot.keyClick(dialog.query, Qt.Key.Key_Down)
    assert dialog.results.currentRow() == wanted
    if wanted:
        qtbot.keyClick(dialog.query, Qt.Key.Key_Up)
        qtbot.keyClick(dialog.query, Qt.Key.Key_Down)
    assert dialog.selected() is not None and dialog.selected().customer_number == number  # type: ignore[union-attr]
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    assert shown.args == [customer_id]
    assert not dialog.isVisible()
    _idle(qtbot, window)
    file = window.current_file()
    assert file is not None and file.customer_number == number and file.name == name


def test_ctrl_f_opens_it_too_esc_closes_and_enter_waits_for_the_answer(
    qtbot: QtBot, window: DeskWindow
) -> None:
    dialog = _dialog(qtbot, window, Qt.Key.Key_F)
    qtbot.keyClick(dialog.query, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    assert window.current_file() is None
    # Typed and Enter at once (before the search ran): the best match opens.
    customer_number = window.worker.run_and_wait(
        lambda s: s.scalar(select(Customer.customer_number).order_by(Customer.id.desc()).limit(1))
    )
    dialog = _dialog(qtbot, window, Qt.Key.Key_K)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.keyClicks(dialog.query, str(customer_number))
        qtbot.keyClick(dialog.query, Qt.Key.Key_Enter)
    _idle(qtbot, window)
    file = window.current_file()
    assert file is not None and file.customer_number == customer_number


def test_nothing_found_is_said_in_words_and_every_control_has_a_name(
    qtbot: QtBot, window: DeskWindow
) -> None:
    dialog = _dialog(qtbot, window, Qt.Key.Key_K)
    qtbot.keyClicks(dialog.query, "zzqqxx")
    qtbot.waitUntil(lambda: "No customer found" in dialog.status.text(), timeout=WAIT)
    assert dialog.results.count() == 0 and not dialog.open_button.isEnabled()
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)  # nothing to open: stays
    assert dialog.isVisible()
    controls = dialog.findChildren(QWidget)
    for control in controls:
        if isinstance(control, QLineEdit | QListWidget | QAbstractButton):
            assert control.accessibleName(), control.objectName()
    assert dialog.status.accessibleName()
    dialog.reject()
