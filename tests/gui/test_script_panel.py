"""The call script beside the file, walked with the keyboard into a logged contact."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from agent_desk.domain.codes import NextStepKind, Outcome
from agent_desk.services.verification import file_needs_verification
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.log_contact import LogContactDialog
from agent_desk.ui.script_panel import ScriptPanelHost
from tests.gui.test_desk import idle, next_customer, timeline_texts

WAIT = 20_000


def press(
    qtbot: QtBot, window: DeskWindow, key: Qt.Key, modifier: Qt.KeyboardModifier | None = None
) -> None:
    """A key pressed while the queue (not a text field) has the focus."""
    target: QWidget = window.queue_panel.view
    target.setFocus()
    if modifier is None:
        qtbot.keyClick(target, key)
    else:
        qtbot.keyClick(target, key, modifier)


def step(host: ScriptPanelHost) -> str:
    assert host.run is not None
    return host.run.step.id


def start_first_time_script(qtbot: QtBot, window: DeskWindow) -> ScriptPanelHost:
    next_customer(qtbot, window)
    host = window.script_host
    assert host.run is not None
    host.switch.setCurrentIndex(host.switch.findData("first_time_arrears"))
    host.switch.activated.emit(host.switch.currentIndex())
    assert host.run.script.id == "first_time_arrears"
    assert step(host) == "greeting"
    return host


def test_a_script_is_chosen_with_its_reason_for_the_customer(
    qtbot: QtBot, window: DeskWindow
) -> None:
    next_customer(qtbot, window)
    host = window.script_host
    file = window.current_file()
    assert file is not None and host.run is not None
    assert host.run.script.language == (file.language if file.language in ("nl", "en") else "nl")
    assert host.reason.text().startswith("chosen because:")
    assert host.script_title.text() == host.run.script.title
    assert host.say.text()  # the opening line, filled in
    assert "{" not in host.say.text()
    assert host.choice_buttons["1"].text().startswith("[1]")
    assert host.identity_banner.isVisible()
    assert "do not discuss the debt" in host.identity_banner.text()


def test_walk_a_script_with_the_keyboard_into_a_logged_contact(
    qtbot: QtBot, window: DeskWindow
) -> None:
    host = start_first_time_script(qtbot, window)
    press(qtbot, window, Qt.Key.Key_1)  # the customer answers
    assert step(host) == "check_identity"
    assert host.identity_banner.isVisible()
    press(qtbot, window, Qt.Key.Key_1)  # details match
    assert step(host) == "identity_confirmed"
    assert not host.identity_banner.isVisible()
    file = window.current_file()
    assert file is not None
    assert host.verify_banner.isVisible() == file_needs_verification(file, window.clock())
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert step(host) == "ask_what_happened"
    press(qtbot, window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert step(host) == "identity_confirmed"
    press(qtbot, window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert step(host) == "check_identity"
    assert host.identity_banner.isVisible()  # back before identity: the banner is back
    press(qtbot, window, Qt.Key.Key_1)
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    press(qtbot, window, Qt.Key.Key_1)  # forgotten, a one-off
    assert step(host) == "quick_solution"

    amount = host.inputs["promise_amount"]
    when = host.inputs["promise_date"]
    qtbot.keyClicks(amount, "twelve")  # digits typed in a field stay in the field
    press(qtbot, window, Qt.Key.Key_1)
    assert step(host) == "quick_solution"
    assert "not an amount" in host.input_errors["promise_amount"].text()
    amount.clear()
    qtbot.keyClicks(amount, "12,50")
    assert step(host) == "quick_solution"
    pays_on = date.today() + timedelta(days=5)
    qtbot.keyClicks(when, pays_on.strftime("%d-%m-%Y"))
    press(qtbot, window, Qt.Key.Key_1)  # pays on the agreed date
    assert step(host) == "promise_confirmed"
    assert host.log_button.isVisible()
    assert "€12.50" in host.recorded.text()
    calculator = host.context_for_calculator()
    assert calculator is not None and calculator["promise_amount_cents"] == 1250

    press(qtbot, window, Qt.Key.Key_F2)
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog) and dialog.isVisible()
    assert dialog.outcome.currentData() == Outcome.PROMISE_MADE.value
    assert dialog.step_kind.currentData() == NextStepKind.WAIT_PAYMENT.value
    note = dialog.note.toPlainText()
    assert "Promise to pay €12.50" in note
    with qtbot.waitSignal(window.queue_model.loaded, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()
    assert "promise made" in timeline_texts(window)[0]
    assert window.customer_panel.timeline.item(0, 2).text() == note
    # The same customer stays on its step after the reload.
    assert step(host) == "promise_confirmed"


def test_switching_scripts_keeps_identity_and_what_was_recorded(
    qtbot: QtBot, window: DeskWindow
) -> None:
    host = start_first_time_script(qtbot, window)
    press(qtbot, window, Qt.Key.Key_1)
    press(qtbot, window, Qt.Key.Key_1)
    assert host.run is not None and host.run.identity_confirmed
    host.switch.setCurrentIndex(host.switch.findData("vulnerability_disclosure"))
    host.switch.activated.emit(host.switch.currentIndex())
    assert host.run.script.id == "vulnerability_disclosure"
    assert host.run.step.identity_confirmed  # not asked to identify twice
    assert not host.identity_banner.isVisible()
    assert host.reason.text().startswith("switched by you; suggested was: ")
    assert host.script_title.text() == host.run.script.title


def test_the_calculator_step_hands_over_what_the_customer_can_pay(
    qtbot: QtBot, window: DeskWindow
) -> None:
    host = start_first_time_script(qtbot, window)
    for key in (Qt.Key.Key_1, Qt.Key.Key_1):
        press(qtbot, window, key)
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    press(qtbot, window, Qt.Key.Key_2)  # money is tight for a while
    assert step(host) == "explore_plan"
    assert host.capacity_box.isVisible()
    qtbot.keyClicks(host.capacity, "45,00")
    triggered: list[bool] = []
    window.actions_.arrangement.triggered.connect(lambda *_: triggered.append(True))
    qtbot.mouseClick(host.action_button, Qt.MouseButton.LeftButton)
    assert triggered
    context = host.context_for_calculator()
    assert context is not None and context["capacity_cents"] == 4500
    dialog = window.arrangement_dialog
    if dialog is not None:
        dialog.reject()
