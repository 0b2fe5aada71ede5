"""Every control of the desk and of every dialog has an accessible name.

Each dialog is opened the way a user opens it (its action, key or menu item) on a real
desk over the demo database — an agent's desk and a supervisor's — or, for the dialogs
shown before a desk exists (sign-in, the agent picker, the previous-crash notice) and
the conflict notice, built as the desk builds them. The test fails on any control a
screen reader would announce without a name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialog, QHeaderView, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from agent_desk.app import DeskApp
from agent_desk.i18n import Translator
from agent_desk.services.agents import list_agents
from agent_desk.services.conflicts import ChangeLine
from agent_desk.services.database import Database, parse_database_url
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.agent_picker import AgentPicker
from agent_desk.ui.dialogs.conflict import ConflictDialog
from agent_desk.ui.dialogs.note import NoteInput
from agent_desk.ui.dialogs.previous_crash import PreviousCrashDialog
from agent_desk.ui.dialogs.sign_in import SignInDialog
from agent_desk.ui.keyboard import APPLIED, CONTROLS
from agent_desk.ui.labels import Words
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.queue_model import COL_ARREARS, COL_CUSTOMER
from agent_desk.ui.settings import DeskSettings

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
            "QDateEdit",
            "QTimeEdit",
            "QSpinBox",
            "QDoubleSpinBox",
        ):
            continue
        if not widget.accessibleName().strip():
            text = getattr(widget, "text", lambda: "")()
            found.append(f"{type(widget).__name__} {widget.objectName()!r} {text!r}")
    return found


def visible_dialogs() -> list[QDialog]:
    found: list[QDialog] = []
    for top in QApplication.topLevelWidgets():
        for widget in [top, *top.findChildren(QDialog)]:
            if isinstance(widget, QDialog) and widget.isVisible() and widget not in found:
                found.append(widget)
    return found


def check_opened(
    qtbot: QtBot, window: DeskWindow | None, name: str, opener: Callable[[], object]
) -> list[str]:
    """Open one dialog, wait until the desk's rules ran on it, list what has no name."""
    before = visible_dialogs()
    opener()
    qtbot.waitUntil(lambda: [d for d in visible_dialogs() if d not in before] != [], timeout=WAIT)
    if window is not None:
        qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    dialog = [d for d in visible_dialogs() if d not in before][-1]
    qtbot.waitUntil(lambda: bool(dialog.property(APPLIED)), timeout=WAIT)
    if window is not None:
        qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    problems = [f"{name}: {what}" for what in unnamed(dialog)]
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    return problems


def action(window: QWidget, object_name: str) -> QAction:
    found = window.findChild(QAction, object_name)
    assert isinstance(found, QAction), object_name
    return found


def open_a_file(qtbot: QtBot, window: DeskWindow) -> None:
    window.show()
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        window.actions_.next_customer.trigger()
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def test_every_agent_dialog_names_every_control(qtbot: QtBot, window: DeskWindow) -> None:
    open_a_file(qtbot, window)
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
        ("find customer (Ctrl+K)", a.find_customer.trigger),
        ("send message (Ctrl+M)", window.send_message_action.trigger),
        ("objection", action(window, "signalObjection").trigger),
        ("release / skip", window.pane_actions.release.trigger),
        ("about", action(window, "about").trigger),
        ("outbox review", window.open_review),
    ]
    problems: list[str] = []
    for name, opener in openers:
        problems += check_opened(qtbot, window, name, opener)
    problems += [f"desk: {what}" for what in unnamed(window)]
    assert not problems, "\n".join(problems)


@pytest.fixture
def boss(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskWindow]:
    desk = DeskApp(
        database, lang="en", agent_login="marieke", prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
    window = desk.window
    assert window is not None
    qtbot.waitUntil(lambda: not window.queue_model.loading, timeout=WAIT)
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    yield window
    window.close()
    desk.shutdown()


def test_every_supervisor_dialog_names_every_control(qtbot: QtBot, boss: DeskWindow) -> None:
    boss.show()
    a = boss.actions_
    openers: list[tuple[str, Callable[[], object]]] = [
        ("approvals", a.approvals.trigger),
        ("team view", a.team_view.trigger),
        ("reassign", a.reassign.trigger),
        ("audit trail", a.audit_trail.trigger),
        ("team rules", action(boss, "teamRulesAction").trigger),
        ("creditor profile", action(boss, "creditorProfile").trigger),
        ("import", action(boss, "importFile").trigger),
        ("message a selection", action(boss, "campaign").trigger),
    ]
    problems: list[str] = []
    for name, opener in openers:
        problems += check_opened(qtbot, boss, name, opener)
    problems += [f"supervisor desk: {what}" for what in unnamed(boss)]
    assert not problems, "\n".join(problems)


def test_the_dialogs_before_the_desk_and_the_conflict_name_every_control(
    qtbot: QtBot, styled: None, database: Database, tmp_path: Path
) -> None:
    tr = Translator("en")
    with database.transaction() as session:
        agents = list_agents(session, datetime.now(UTC))
    crash = tmp_path / "crash.txt"
    crash.write_text("Traceback: ValueError", encoding="utf-8")
    theirs = ChangeLine(
        at=datetime.now(UTC),
        who="Daan de Vries",
        kind="contact",
        code="voicemail",
        channel="phone",
        detail="Voicemail left.",
    )
    builders: list[tuple[str, Callable[[], QDialog]]] = [
        (
            "sign-in",
            lambda: SignInDialog(tr, parse_database_url("postgresql://eva@db.example/desk")),
        ),
        ("agent picker", lambda: AgentPicker(tr, agents, "demo.sqlite3", "sanne")),
        ("previous crash", lambda: PreviousCrashDialog(tr, crash)),
        (
            "conflict",
            lambda: ConflictDialog(Words(tr), "Anna Jansen", [theirs], NoteInput("mine")),
        ),
    ]
    problems: list[str] = []
    for name, build in builders:
        shown: list[QDialog] = []

        def show(build: Callable[[], QDialog] = build, shown: list[QDialog] = shown) -> None:
            dialog = build()
            qtbot.addWidget(dialog)
            shown.append(dialog)
            dialog.show()

        problems += check_opened(qtbot, None, name, show)
    assert not problems, "\n".join(problems)


def test_the_check_fails_on_a_control_without_a_name(qtbot: QtBot) -> None:
    dialog = QDialog()
    qtbot.addWidget(dialog)
    QPushButton("", dialog)  # an icon-only button that says nothing
    assert unnamed(dialog) == ["QPushButton '' ''"]


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
