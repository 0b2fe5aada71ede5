"""The desk's keyboard rules (docs/keyboard.md), each driven with real key events."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
import shiboken6
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QPlainTextEdit
from pytestqt.qtbot import QtBot

from agent_desk.app import DeskApp
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.log_contact import LogContactDialog
from agent_desk.ui.dialogs.note import NoteDialog
from agent_desk.ui.dialogs.promise import PromiseDialog
from agent_desk.ui.keyboard import APPLIED, first_input, primary_button
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings
from agent_desk.ui.typed_dates import parse_typed_date

WAIT = 20_000
CTRL = Qt.KeyboardModifier.ControlModifier


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def focused() -> object:
    return QApplication.focusWidget()


def open_next(qtbot: QtBot, window: DeskWindow) -> int:
    window.show()
    window.activateWindow()
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        qtbot.keyClick(window, Qt.Key.Key_F8)
    idle(qtbot, window)
    assert shown.args
    return int(shown.args[0])


def dialog_open(qtbot: QtBot, window: DeskWindow, key: Qt.Key, kind: type) -> QDialog:
    qtbot.keyClick(window, key)
    qtbot.waitUntil(lambda: isinstance(window.open_dialog, kind), timeout=WAIT)
    dialog = window.open_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_after_f8_the_keys_answer_the_script(qtbot: QtBot, window: DeskWindow) -> None:
    window.show()
    window.queue_panel.focus_search()
    qtbot.keyClicks(window.queue_panel.search, "x")  # the caret was in the search
    window.queue_panel.leave_search()
    open_next(qtbot, window)
    assert focused() is window.script_host
    panel = window.script_host
    assert panel.run is not None
    before = len(panel.run.history)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_1)
    qtbot.waitUntil(lambda: panel.run is not None and len(panel.run.history) > before)
    assert window.queue_panel.search.text() == ""


def test_escape_in_the_search_clears_it_and_leaves(qtbot: QtBot, window: DeskWindow) -> None:
    window.show()
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    assert focused() is window.queue_panel.search
    qtbot.keyClicks(window.queue_panel.search, "zzzz")
    qtbot.keyClick(window.queue_panel.search, Qt.Key.Key_Escape)
    assert window.queue_panel.search.text() == ""
    assert focused() is window.queue_panel.view


def test_the_queue_is_one_tab_stop_and_ctrl_f6_cycles_the_columns(
    qtbot: QtBot, window: DeskWindow
) -> None:
    open_next(qtbot, window)
    view = window.queue_panel.view
    view.setFocus()
    start = view.currentIndex().row()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == start + 1  # arrows move inside the queue
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert window.pane_of(focused()) == 1  # Tab leaves the queue for the file
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert window.pane_of(focused()) == 2  # and on to the script
    qtbot.keyClick(focused(), Qt.Key.Key_F6, CTRL)
    assert window.pane_of(focused()) == 0
    qtbot.keyClick(focused(), Qt.Key.Key_F6, CTRL)
    assert window.pane_of(focused()) == 1
    qtbot.keyClick(focused(), Qt.Key.Key_F6, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert window.pane_of(focused()) == 0


def test_first_input_enter_moves_on_ctrl_enter_saves_esc_cancels(
    qtbot: QtBot, window: DeskWindow
) -> None:
    open_next(qtbot, window)
    dialog = dialog_open(qtbot, window, Qt.Key.Key_F3, PromiseDialog)
    assert isinstance(dialog, PromiseDialog)
    qtbot.waitUntil(lambda: focused() is dialog.amount)  # the first input, not Save
    with qtbot.assertNotEmitted(dialog.submitted, wait=100):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)  # Enter moves on, never saves
    assert focused() is dialog.due
    qtbot.keyClicks(dialog.due, "15 dec")  # typed dates
    qtbot.keyClick(dialog.due, Qt.Key.Key_Tab)
    expected = parse_typed_date("15 dec", date.today())
    assert dialog.due.date().toPython() == expected
    with qtbot.waitSignal(dialog.submitted, timeout=WAIT) as sent:
        qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    assert sent.args[0].due_date == expected
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    idle(qtbot, window)

    window.actions_.promise.trigger()
    qtbot.waitUntil(lambda: window.open_dialog is not dialog, timeout=WAIT)
    dialog = window.open_dialog
    assert isinstance(dialog, PromiseDialog)
    qtbot.waitUntil(lambda: focused() is dialog.amount)
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_ctrl_enter_saves_a_note_and_enter_is_a_new_line(qtbot: QtBot, window: DeskWindow) -> None:
    open_next(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: isinstance(window.open_dialog, NoteDialog), timeout=WAIT)
    dialog = window.open_dialog
    assert isinstance(dialog, NoteDialog)
    qtbot.waitUntil(lambda: isinstance(focused(), QPlainTextEdit))
    qtbot.keyClicks(focused(), "first line")  # typed at once: lands in the note
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.keyClicks(focused(), "second")
    assert dialog.text.toPlainText() == "first line\nsecond"
    with qtbot.waitSignal(dialog.submitted, timeout=WAIT):
        qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)


def test_every_button_of_a_dialog_has_a_mnemonic(qtbot: QtBot, window: DeskWindow) -> None:
    open_next(qtbot, window)
    dialog = dialog_open(qtbot, window, Qt.Key.Key_F2, LogContactDialog)
    qtbot.waitUntil(lambda: bool(dialog.property("agentDeskConventions")))
    buttons = [b for b in dialog.findChildren(QAbstractButton) if b.isVisible() and b.text()]
    assert buttons
    assert all("&" in b.text() for b in buttons), [b.text() for b in buttons]
    letters = [b.text()[b.text().index("&") + 1].lower() for b in buttons]
    assert len(letters) == len(set(letters))
    save = dialog.save
    letter = save.text()[save.text().index("&") + 1]
    with qtbot.waitSignal(dialog.submitted, timeout=WAIT):
        qtbot.keyClick(
            dialog, getattr(Qt.Key, f"Key_{letter.upper()}"), Qt.KeyboardModifier.AltModifier
        )
    dialog.reject()


def test_click_to_call_hands_the_number_over_and_starts_the_attempt(
    qtbot: QtBot, window: DeskWindow
) -> None:
    opened: list[QUrl] = []
    window.call_opener = opened.append
    window.settings.set_call_url("sip:{number}@pbx.example.nl")
    open_next(qtbot, window)
    number = window.customer_panel.phone_to_call()
    assert number
    qtbot.keyClick(window, Qt.Key.Key_D, CTRL)
    qtbot.waitUntil(lambda: isinstance(window.open_dialog, LogContactDialog), timeout=WAIT)
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    assert [url.toString() for url in opened] == [f"sip:{digits}@pbx.example.nl"]
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog)
    assert dialog.started_at is not None
    assert dialog.channel.currentData() == "phone"
    assert dialog.direction.currentData() == "outbound"
    assert number in dialog.notice.text()
    dialog.reject()


def test_typed_dates() -> None:
    today = date(2026, 12, 1)
    assert parse_typed_date("15-12", today) == date(2026, 12, 15)
    assert parse_typed_date("15 dec", today) == date(2026, 12, 15)
    assert parse_typed_date("3 mrt", today) == date(2027, 3, 3)  # passed: next year
    assert parse_typed_date("+7", today) == date(2026, 12, 8)
    assert parse_typed_date("+2w", today) == date(2026, 12, 15)
    assert parse_typed_date("morgen", today) == date(2026, 12, 2)
    assert parse_typed_date("31-02", today) is None
    assert parse_typed_date("soon", today) is None


# -- the dialogs added today (creditor, team rules, import, find, send message,
#    campaign, objection): the same four rules, each with real key events -------------


def _new_dialog(qtbot: QtBot, before: list[QDialog], opener: Callable[[], object]) -> QDialog:
    opener()

    def shown() -> list[QDialog]:
        return [
            d
            for top in QApplication.topLevelWidgets()
            for d in [top, *top.findChildren(QDialog)]
            if isinstance(d, QDialog) and d.isVisible() and d not in before
        ]

    qtbot.waitUntil(lambda: shown() != [], timeout=WAIT)
    dialog = shown()[-1]
    qtbot.waitUntil(lambda: bool(dialog.property(APPLIED)), timeout=WAIT)
    return dialog


def _visible_dialogs() -> list[QDialog]:
    return [
        d
        for top in QApplication.topLevelWidgets()
        for d in [top, *top.findChildren(QDialog)]
        if isinstance(d, QDialog) and d.isVisible()
    ]


def check_the_rules(
    qtbot: QtBot, window: DeskWindow, name: str, opener: Callable[[], object]
) -> list[str]:
    """First input focused, a unique mnemonic on every button, Esc cancels, Ctrl+Enter
    presses the primary button — for one dialog; returns what broke a rule."""
    problems: list[str] = []
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT)
    dialog = _new_dialog(qtbot, _visible_dialogs(), opener)
    idle(qtbot, window)
    first = first_input(dialog)
    if first is None or focused() is not first:
        problems.append(f"{name}: focus on {focused()!r}, not the first input {first!r}")
    buttons = [b for b in dialog.findChildren(QAbstractButton) if b.isVisible() and b.text()]
    missing = [b.text() for b in buttons if not re.search(r"&\w", b.text())]
    if missing:
        problems.append(f"{name}: buttons without a mnemonic: {missing}")
    letters = [m.group(1).lower() for b in buttons if (m := re.search(r"&(\w)", b.text()))]
    if len(letters) != len(set(letters)):
        problems.append(f"{name}: mnemonics clash: {[b.text() for b in buttons]}")
    qtbot.keyClick(focused() or dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    if dialog.result() != QDialog.DialogCode.Rejected:
        problems.append(f"{name}: Esc did not cancel")
    idle(qtbot, window)

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT)
    dialog = _new_dialog(qtbot, _visible_dialogs(), opener)
    idle(qtbot, window)
    primary = primary_button(dialog)
    pressed_once: list[bool] = []
    if primary is None:
        problems.append(f"{name}: no button for Ctrl+Enter")
    else:
        primary.setEnabled(True)  # pressed even where the form would wait for input
        primary.clicked.connect(lambda: pressed_once.append(True))
        with qtbot.waitSignal(primary.clicked, timeout=WAIT, raising=False) as pressed:
            qtbot.keyClick(focused() or dialog, Qt.Key.Key_Return, CTRL)
        if not (pressed.signal_triggered or pressed_once):
            problems.append(f"{name}: Ctrl+Enter did not press {primary.text()!r}")
    idle(qtbot, window)
    if shiboken6.isValid(dialog) and dialog.isVisible():  # some delete themselves on close
        dialog.reject()
        qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())
    idle(qtbot, window)
    return problems


def _action(window: DeskWindow, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert isinstance(found, QAction), name
    return found


def test_the_agent_dialogs_of_today_keep_the_rules(qtbot: QtBot, window: DeskWindow) -> None:
    open_next(qtbot, window)
    openers: list[tuple[str, Callable[[], object]]] = [
        ("find customer", lambda: qtbot.keyClick(window, Qt.Key.Key_K, CTRL)),
        ("send message", lambda: qtbot.keyClick(window, Qt.Key.Key_M, CTRL)),
        ("objection", _action(window, "signalObjection").trigger),
    ]
    problems: list[str] = []
    for name, opener in openers:
        problems += check_the_rules(qtbot, window, name, opener)
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
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    yield window
    window.close()
    desk.shutdown()


def test_the_supervisor_dialogs_of_today_keep_the_rules(qtbot: QtBot, boss: DeskWindow) -> None:
    boss.show()
    boss.activateWindow()
    openers: list[tuple[str, Callable[[], object]]] = [
        ("creditor profile", _action(boss, "creditorProfile").trigger),
        ("team rules", _action(boss, "teamRulesAction").trigger),
        (
            "import",
            lambda: qtbot.keyClick(boss, Qt.Key.Key_I, CTRL | Qt.KeyboardModifier.ShiftModifier),
        ),
        ("message a selection", _action(boss, "campaign").trigger),
    ]
    problems: list[str] = []
    for name, opener in openers:
        problems += check_the_rules(qtbot, boss, name, opener)
    assert not problems, "\n".join(problems)
