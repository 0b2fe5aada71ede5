"""F2 keeps an upcoming instalment reminder; 'someone else answers' logs a third party."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.domain.arrangement_plan import Mode, Terms
from agent_desk.domain.codes import NextStepKind, Outcome
from agent_desk.models import Customer, NextStep
from agent_desk.services.activity import KEEP
from agent_desk.services.actor import actor_for_login
from agent_desk.services.arrangements import agree_arrangement
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.log_contact import LogContactDialog
from tests.gui.test_date_of_birth_dialog import free_customer, open_file, to_identity_question
from tests.gui.test_desk import idle, next_customer
from tests.gui.test_script_panel import press

WAIT = 20_000


def test_someone_else_answering_prefills_a_third_party(qtbot: QtBot, window: DeskWindow) -> None:
    next_customer(qtbot, window)
    host = window.script_host
    assert host.run is not None
    press(qtbot, window, Qt.Key.Key_2)  # someone else answers
    assert host.run.step.id == "someone_else"
    press(qtbot, window, Qt.Key.Key_F2)
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog) and dialog.isVisible()
    assert dialog.outcome.currentData() == Outcome.THIRD_PARTY.value
    dialog.reject()


# --------------------------------------------------------------------------- F2


def test_f2_after_an_arrangement_keeps_the_instalment_reminder(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = free_customer(database)
    now = window.clock()
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        agree_arrangement(
            session,
            actor_for_login(session, "sanne"),
            customer_id,
            terms=Terms(Mode.COUNT, now.date() + timedelta(days=36), count=3, waive_interest=True),
            now=now,
        )
    with database.transaction() as session:
        reminder = session.scalars(
            select(NextStep).where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
        ).one()
        reminder_id, reminder_due = reminder.id, reminder.due_at
    assert reminder.kind == NextStepKind.INSTALMENT_REMINDER.value
    open_file(qtbot, window, customer_id)

    # From the script: identity confirmed, then log the contact.
    host = to_identity_question(qtbot, window)
    press(qtbot, window, Qt.Key.Key_1)
    assert host.run is not None and host.run.identity_confirmed
    press(qtbot, window, Qt.Key.Key_F2)
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog) and dialog.isVisible()
    words = window.customer_panel.words
    expected = f"keep: instalment reminder {words.day(reminder_due.astimezone().date())}"
    assert dialog.step_kind.currentData() == KEEP
    assert dialog.step_kind.currentText() == expected
    assert not dialog.step_due.isEnabled()
    dialog.choose(dialog.outcome, Outcome.NO_ANSWER.value)  # a failed attempt keeps it too
    assert dialog.step_kind.currentData() == KEEP
    dialog.choose(dialog.outcome, Outcome.REACHED.value)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()
    with database.transaction() as session:
        still_open = session.scalars(
            select(NextStep.id).where(
                NextStep.customer_id == customer_id, NextStep.done_at.is_(None)
            )
        ).all()
    assert still_open == [reminder_id]
    file = window.current_file()
    assert file is not None and file.next_step_kind == "instalment_reminder"

    # Choosing another step replaces it.
    window.actions_.log_contact.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog) and dialog.isVisible()
    assert dialog.step_kind.currentData() == KEEP
    dialog.choose(dialog.step_kind, NextStepKind.CALLBACK.value)
    assert dialog.step_due.isEnabled()
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    file = window.current_file()
    assert file is not None and file.next_step_kind == "callback"
