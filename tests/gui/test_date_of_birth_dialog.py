"""F7 records the date of birth the customer states; the file shows it masked."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.domain.verification import FlowStep
from agent_desk.models import Arrangement, AuditEvent, Customer
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.script_panel import ScriptPanelHost
from tests.gui.test_desk import idle, next_customer
from tests.gui.test_script_panel import press
from tests.gui.test_verification_dialog import (
    buttons,
    click,
    confirm_page,
    field,
    open_verification,
)

WAIT = 20_000


def free_customer(database: Database, login: str = "sanne") -> int:
    """One of the agent's open customers in arrears with no arrangement running."""
    with database.transaction() as session:
        agent = actor_for_login(session, login)
        running = select(Arrangement.customer_id).where(
            Arrangement.status.in_(["active", "pending_approval"])
        )
        customer_id = session.scalar(
            select(Customer.id)
            .where(
                Customer.assigned_agent_id == agent.agent_id,
                Customer.status == "open",
                Customer.arrears_cents >= 30000,
                Customer.paused_until.is_(None),
                Customer.id.not_in(running),
            )
            .order_by(Customer.id)
        )
        assert customer_id is not None
        return int(customer_id)


def set_born(database: Database, customer_id: int, born: date | None) -> None:
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        customer.date_of_birth = born


def open_file(qtbot: QtBot, window: DeskWindow, customer_id: int) -> None:
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        window.open_customer(customer_id)
    idle(qtbot, window)


def to_identity_question(qtbot: QtBot, window: DeskWindow) -> ScriptPanelHost:
    host = window.script_host
    assert host.run is not None
    host.switch.setCurrentIndex(host.switch.findData("first_time_arrears"))
    host.switch.activated.emit(host.switch.currentIndex())
    press(qtbot, window, Qt.Key.Key_1)  # the customer answers
    assert host.run.step.id == "check_identity"
    return host


# --------------------------------------------------------------------------- F7


def test_f7_explains_a_wrong_date_of_birth_next_to_the_field_and_saves_a_good_one(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = next_customer(qtbot, window)
    set_born(database, customer_id, date(1970, 6, 1))
    window.refresh()
    idle(qtbot, window)
    dialog = open_verification(qtbot, window)
    click(qtbot, dialog.next)
    while dialog.flow.step in (FlowStep.PHONES, FlowStep.EMAILS, FlowStep.ADDRESSES):
        confirm_page(qtbot, dialog)
        click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.DATE_OF_BIRTH
    on_file = [
        label.text() for label in dialog.page.findChildren(type(dialog.progress), "birthOnFile")
    ]
    assert on_file == ["On file: ••-••-1970 (only the year is shown)."]  # never in full

    typed = field(dialog, "birth_date_of_birth")
    qtbot.keyClicks(typed, "12-03-2020")
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.DATE_OF_BIRTH
    error = dialog.error_text("date_of_birth")
    assert error == "⚠ The date of birth makes the customer younger than 16."
    assert dialog.birth_editor is not None
    error_label = dialog.birth_editor.error
    assert error_label.isVisible() and error_label.parent() is typed.parent()  # beside it
    assert typed.text() == "12-03-2020"  # what was typed stays

    typed.clear()
    qtbot.keyClicks(typed, "1981-03-12")
    click(qtbot, buttons(dialog, "recordBirthButton")[0])
    states = [
        label.text() for label in dialog.page.findChildren(type(dialog.progress), "birthState")
    ]
    assert states == ["✎ differs from the date on file: it is corrected to 12-03-1981"]
    assert dialog.error_text("date_of_birth") == ""
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.PREFERENCES
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.SUMMARY
    summary = dialog.page.findChildren(type(dialog.progress), "summary")[0].text()
    assert "Date of birth" in summary and "12-03-1981" in summary
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        click(qtbot, dialog.save)
    idle(qtbot, window)
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None and customer.date_of_birth == date(1981, 3, 12)
        details = session.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.customer_id == customer_id, AuditEvent.action == "verify"
            )
        ).all()
    assert "date of birth corrected" in details
    panel = window.customer_panel
    assert panel.born.text() == "born ••-••-1981"
    panel.born_toggle.click()
    assert panel.born.text() == "born 12-03-1981"
    panel.born_toggle.click()
    assert panel.born.text() == "born ••-••-1981"
