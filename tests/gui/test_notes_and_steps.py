"""Ctrl+N notes and F12 next steps on the real desk (SQLite demo database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QDateTime, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.app import DeskApp
from agent_desk.models import Customer, NextStep, Note
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.next_step import NextStepDialog
from agent_desk.ui.dialogs.note import NoteDialog
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 20_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def next_customer(qtbot: QtBot, window: DeskWindow) -> int:
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    customer_id = shown.args[0]
    assert isinstance(customer_id, int)
    return customer_id


def timeline_notes(window: DeskWindow) -> list[str]:
    table = window.customer_panel.timeline
    return [table.item(row, 2).text() for row in range(table.rowCount())]


@pytest.fixture
def dutch_window(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskWindow]:
    desk = DeskApp(
        database, lang="nl", agent_login="sanne", prompter=prompter, settings=DeskSettings()
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


def test_keys_for_note_and_next_step_need_an_open_customer(
    qtbot: QtBot, window: DeskWindow
) -> None:
    actions = window.actions_
    assert actions.note.shortcut().toString() == "Ctrl+N"
    assert actions.next_step.shortcut().toString() == "F12"
    assert not actions.note.isEnabled() and not actions.next_step.isEnabled()
    assert {"Ctrl+N", "F12"} <= set(dict(window.shortcuts()))
    next_customer(qtbot, window)
    assert actions.note.isEnabled() and actions.next_step.isEnabled()


def test_a_note_is_checked_next_to_its_field_then_shows_in_the_timeline(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = next_customer(qtbot, window)
    window.actions_.note.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, NoteDialog)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)  # empty
    assert "empty" in dialog.error_text("note") and dialog.isVisible()
    # Too long: the service refuses it next to the field and keeps every character.
    dialog.text.setPlainText("x" * 4001)
    assert "4001 of 4000" in dialog.count.text()
    assert dialog.count.property("over") == "true"
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.error_text("note")), timeout=WAIT)
    assert "too long" in dialog.error_text("note")
    assert len(dialog.text.toPlainText()) == 4001 and dialog.isVisible()
    dialog.text.setPlainText("Prefers to be called after 18:00.")
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()
    assert "Prefers to be called after 18:00." in timeline_notes(window)
    with database.transaction() as session:
        texts = session.scalars(select(Note.text).where(Note.customer_id == customer_id)).all()
    assert texts.count("Prefers to be called after 18:00.") == 1


def test_a_next_step_on_its_own_replaces_the_open_one(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = next_customer(qtbot, window)
    window.actions_.next_step.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, NextStepDialog)
    file = window.current_file()
    assert file is not None
    if file.next_step_kind in ("retry", "callback", "letter", "wait_payment"):
        assert dialog.kind.currentData() == file.next_step_kind  # starts from the open step
    dialog.kind.setCurrentIndex(0)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    assert "Choose a next step" in dialog.error_text("next_step")
    dialog.kind.setCurrentIndex(dialog.kind.findData("letter"))
    dialog.due.setDateTime(QDateTime(datetime.now() - timedelta(days=2)))
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.error_text("next_step_due")), timeout=WAIT)
    assert "cannot be in the past" in dialog.error_text("next_step_due")
    due = (datetime.now() + timedelta(days=3)).replace(hour=11, minute=0, second=0, microsecond=0)
    dialog.due.setDateTime(QDateTime(due))
    dialog.note.setText("send the 14-day letter first")
    with qtbot.waitSignal(window.queue_model.loaded, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()
    assert "send a letter" in window.customer_panel.next_step.text()
    with database.transaction() as session:
        open_steps = session.scalars(
            select(NextStep).where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
        ).all()
        customer = session.get(Customer, customer_id)
    assert [(s.kind, s.note) for s in open_steps] == [("letter", "send the 14-day letter first")]
    assert open_steps[0].due_at == due.astimezone()
    assert customer is not None and customer.next_step_kind == "letter"


def test_a_save_queues_behind_earlier_offline_work_for_the_same_customer(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = next_customer(qtbot, window)
    qtbot.waitUntil(lambda: window.live_sync.online is True, timeout=WAIT)
    # Offline work from earlier that has not been sent yet (the replay has not run).
    earlier = window.offline.outbox.enqueue_note(
        customer_id=customer_id,
        agent_login=window.actor.login,
        now=datetime.now().astimezone() - timedelta(minutes=5),
        text="written offline first",
    )
    window.offline.refresh()  # written beside the desk: its writer reads the file again
    qtbot.waitUntil(lambda: bool(window.offline.waiting_for(customer_id)), timeout=WAIT)
    window._show_waiting()
    assert "note" in window.customer_panel.waiting.text()
    window.actions_.note.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, NoteDialog)
    dialog.text.setPlainText("written online second")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: not window.offline.pending(), timeout=WAIT)
    idle(qtbot, window)
    with database.transaction() as session:
        texts = session.scalars(
            select(Note.text)
            .where(Note.customer_id == customer_id, Note.operation_id.is_not(None))
            .order_by(Note.id)
        ).all()
    assert texts == ["written offline first", "written online second"]
    assert window.offline.outbox.get(earlier.operation_id).status == "done"  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.customer_panel.waiting.isHidden(), timeout=WAIT)


def test_a_refusal_with_values_shows_in_dutch_next_to_its_field(
    qtbot: QtBot, dutch_window: DeskWindow
) -> None:
    window = dutch_window
    next_customer(qtbot, window)
    window.actions_.note.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, NoteDialog)
    dialog.text.setPlainText("x" * 4001)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.error_text("note")), timeout=WAIT)
    # The service's English template, translated, with its values filled in.
    assert "De notitie is te lang (4001 tekens; hoogstens 4000)." in dialog.error_text("note")
    assert "too long" not in dialog.error_text("note") and "{" not in dialog.error_text("note")
    assert len(dialog.text.toPlainText()) == 4001 and dialog.isVisible()
    dialog.reject()
