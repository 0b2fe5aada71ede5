"""The sign-in dialog: prefilled from the URL, password to the keyring only when asked."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QFormLayout
from pytestqt.qtbot import QtBot

from agent_desk.app import DeskApp
from agent_desk.errors import DatabaseUnavailableError
from agent_desk.i18n import Translator
from agent_desk.services import secrets
from agent_desk.services.database import Database, parse_database_url
from agent_desk.ui.dialogs.sign_in import SignIn, SignInDialog, needs_sign_in
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

URL = "postgresql://sanne@desk.example.nl:6543/collections"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(previous)


def make(qtbot: QtBot, problem: str = "") -> SignInDialog:
    dialog = SignInDialog(Translator("en"), parse_database_url(URL), problem=problem)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_dialog_is_prefilled_from_the_url(qtbot: QtBot) -> None:
    dialog = make(qtbot, "The server refused user 'sanne'.")
    assert dialog.server.text() == "desk.example.nl:6543"
    assert dialog.database.text() == "collections"
    assert dialog.user.text() == "sanne"
    assert dialog.password.text() == ""
    assert dialog.password.echoMode() is dialog.password.EchoMode.Password
    assert dialog.problem.isVisible()
    assert dialog.remember.isEnabled()
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_signing_in_remembers_the_password_only_in_the_keyring(qtbot: QtBot) -> None:
    dialog = make(qtbot)
    dialog.password.setText("geheim")
    dialog.remember.setChecked(True)
    with qtbot.waitSignal(dialog.signed_in) as signed:
        dialog.submit()
    value = signed.args[0]
    assert isinstance(value, SignIn)
    assert value.password == "geheim"
    assert value.url.password is None
    assert "geheim" not in repr(value)
    assert "geheim" not in value.url.render_as_string(hide_password=False)
    assert secrets.get_password("desk.example.nl", 6543, "collections", "sanne") is None
    assert value.remember_in_keyring()
    assert secrets.get_password("desk.example.nl", 6543, "collections", "sanne") == "geheim"


def test_without_remember_nothing_is_stored(qtbot: QtBot) -> None:
    dialog = make(qtbot)
    dialog.user.setText("daan")
    dialog.password.setText("geheim")
    with qtbot.waitSignal(dialog.signed_in) as signed:
        dialog.submit()
    value = signed.args[0]
    assert value.url.username == "daan"
    assert not value.remember_in_keyring()
    assert secrets.get_password("desk.example.nl", 6543, "collections", "daan") is None


def test_without_a_keyring_the_checkbox_says_so(qtbot: QtBot, no_keyring: None) -> None:
    assert not secrets.keyring_available()
    dialog = make(qtbot)
    assert not dialog.remember.isEnabled()
    assert not dialog.remember.isChecked()
    assert dialog.keyring_note.text() == (
        "No keyring on this computer: you will be asked each session"
    )
    dialog.password.setText("geheim")
    with qtbot.waitSignal(dialog.signed_in) as signed:
        dialog.submit()
    assert not signed.args[0].remember_in_keyring()


def test_the_dialog_speaks_dutch(qtbot: QtBot, no_keyring: None) -> None:
    dialog = SignInDialog(Translator("nl"), parse_database_url(URL))
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Aanmelden bij de teamserver"
    assert "sleutelhanger" in dialog.keyring_note.text()


def test_the_problem_is_shown_under_the_password_field(qtbot: QtBot) -> None:
    dialog = make(qtbot, "The server refused user 'sanne'.")
    password = dialog.form.getWidgetPosition(dialog.password)
    problem = dialog.form.getWidgetPosition(dialog.problem)
    assert isinstance(password, tuple) and isinstance(problem, tuple)
    assert problem == (password[0] + 1, QFormLayout.ItemRole.FieldRole)
    assert dialog.problem.isVisible()
    dialog.show_problem("")
    assert not dialog.problem.isVisible()
    assert not make(qtbot).problem.isVisible()


def test_asked_again_the_remember_choice_is_kept(qtbot: QtBot) -> None:
    dialog = SignInDialog(Translator("en"), parse_database_url(URL), remember=True)
    qtbot.addWidget(dialog)
    assert dialog.remember.isChecked()


def test_without_a_keyring_there_is_nothing_to_remember_in(qtbot: QtBot, no_keyring: None) -> None:
    dialog = SignInDialog(Translator("en"), parse_database_url(URL), remember=True)
    qtbot.addWidget(dialog)
    assert not dialog.remember.isChecked()


def test_nothing_is_submitted_without_a_password(qtbot: QtBot) -> None:
    dialog = make(qtbot)
    assert dialog.value() is None
    dialog.password.setText("x")
    dialog.server.setText("desk.example.nl:port")
    assert dialog.value() is None
    assert "port" in dialog.problem.text()


def test_an_authentication_failure_asks_to_sign_in(qtbot: QtBot, styled: None) -> None:
    refused = DatabaseUnavailableError(
        "The server at desk.example.nl:6543 refused user 'sanne': check the password."
    )
    assert needs_sign_in(refused)
    assert not needs_sign_in(DatabaseUnavailableError("Cannot reach the database server."))
    database = Database(URL)
    desk = DeskApp(database, lang="en", prompter=RecordingPrompter(), settings=DeskSettings())
    try:
        desk._cannot_start(refused)
        assert desk.sign_in is not None
        assert desk.sign_in.user.text() == "sanne"
        assert "refused user" in desk.sign_in.problem.text()
        qtbot.addWidget(desk.sign_in)
    finally:
        desk.shutdown()
        database.dispose()


def test_a_server_that_cannot_be_reached_goes_back_to_the_dialog(
    qtbot: QtBot, styled: None
) -> None:
    """A mistyped server or port: the dialog comes back with the reason, not 'cannot start'."""
    database = Database("postgresql://sanne@127.0.0.1:1/collections")
    desk = DeskApp(database, lang="en", prompter=RecordingPrompter(), settings=DeskSettings())
    try:
        first = desk.ask_sign_in("The server refused user 'sanne': check the password.")
        qtbot.addWidget(first)
        first.password.setText("secret")
        first.submit()
        qtbot.waitUntil(
            lambda: desk.sign_in is not None and desk.sign_in is not first, timeout=20_000
        )
        again = desk.sign_in
        assert again is not None and again.isVisible()
        qtbot.addWidget(again)
        assert again.server.text() == "127.0.0.1:1" and again.user.text() == "sanne"
        assert "127.0.0.1:1" in again.problem.text()
        assert desk.message is None  # no "Agent Desk cannot start"
    finally:
        desk.shutdown()
        database.dispose()
