"""A colleague's change meets the agent's save: both shown side by side, nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.models import ContactAttempt
from agent_desk.services.activity import NextStepInput, log_contact_attempt
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.conflict import ConflictDialog
from agent_desk.ui.dialogs.log_contact import LogContactDialog

WAIT = 20_000
MINE = "Afgesproken: betaalt vrijdag."
THEIRS = "Voicemail ingesproken, terugbelverzoek."


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def open_file_and_type(qtbot: QtBot, window: DeskWindow) -> tuple[int, LogContactDialog]:
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    customer_id = shown.args[0] if shown.args else None
    assert isinstance(customer_id, int)
    window.actions_.log_contact.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog) and dialog.isVisible()
    dialog.choose(dialog.outcome, Outcome.REACHED.value)
    dialog.choose(dialog.step_kind, NextStepKind.CALLBACK.value)
    dialog.step_due.setDateTime(QDateTime(datetime.now() + timedelta(days=2)))
    qtbot.keyClicks(dialog.note, MINE)
    return customer_id, dialog


def colleague_logs_an_attempt(database: Database, customer_id: int) -> None:
    now = datetime.now(UTC)
    with database.transaction() as session:  # Daan, on his own desk, meanwhile
        log_contact_attempt(
            session,
            actor_for_login(session, "daan"),
            customer_id,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.VOICEMAIL,
            note=THEIRS,
            next_step=NextStepInput(NextStepKind.RETRY, now + timedelta(days=1)),
            now=now,
        )


def save_into_conflict(
    qtbot: QtBot, window: DeskWindow, dialog: LogContactDialog
) -> ConflictDialog:
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            window.recorder.conflict_dialog is not None
            and window.recorder.conflict_dialog.isVisible()
        ),
        timeout=WAIT,
    )
    idle(qtbot, window)
    conflict = window.recorder.conflict_dialog
    assert conflict is not None
    return conflict


def test_the_colleagues_attempt_is_shown_beside_mine_and_mine_saves_on_the_latest(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id, dialog = open_file_and_type(qtbot, window)
    old_version = window.current_file().version  # type: ignore[union-attr]
    colleague_logs_an_attempt(database, customer_id)

    conflict = save_into_conflict(qtbot, window, dialog)
    theirs = "\n".join(conflict.their_texts())
    assert "Daan Bakker" in theirs
    assert "voicemail" in theirs and THEIRS in theirs
    assert "try again" in theirs  # the next step Daan set
    assert MINE not in theirs
    assert conflict.mine_text("Note") == MINE
    assert conflict.mine_text("Outcome") == "reached the customer"
    assert "call back" in conflict.mine_text("Next step")
    # Behind it the form still holds everything typed; the latest file is loaded.
    assert dialog.isVisible() and dialog.note.toPlainText() == MINE
    file = window.current_file()
    assert file is not None and file.version > old_version

    qtbot.mouseClick(conflict.save_mine, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    idle(qtbot, window)
    assert window.recorder.conflict_dialog is None
    assert window.customer_panel.timeline.item(0, 2).text() == MINE
    with database.transaction() as session:  # nothing lost: both attempts are there
        notes = session.scalars(
            select(ContactAttempt.note).where(ContactAttempt.customer_id == customer_id)
        ).all()
    assert MINE in notes and THEIRS in notes


def test_keep_editing_returns_to_the_form_with_the_text(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id, dialog = open_file_and_type(qtbot, window)
    colleague_logs_an_attempt(database, customer_id)
    conflict = save_into_conflict(qtbot, window, dialog)
    qtbot.mouseClick(conflict.keep_editing, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not conflict.isVisible(), timeout=WAIT)
    assert dialog.isVisible() and dialog.save.isEnabled()
    assert dialog.note.toPlainText() == MINE
    assert "A colleague changed this customer" in dialog.notice.text()
    qtbot.keyClicks(dialog.note, " Bevestigd per sms.")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    idle(qtbot, window)
    assert window.customer_panel.timeline.item(0, 2).text() == MINE + " Bevestigd per sms."
