"""Signing in to the team server: server, database, user and a password.

The password goes to the connection (in memory) and, only when the agent asks for it
and a keyring exists, to the OS keyring. Never to a file or the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from agent_desk.errors import DatabaseUnavailableError
from agent_desk.i18n import Translator
from agent_desk.ui.keyboard import enter_submits
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


@dataclass(frozen=True)
class SignIn:
    """What the agent typed; ``url`` never carries the password."""

    url: URL
    password: str = field(repr=False)
    remember: bool

    @property
    def host(self) -> str:
        return self.url.host or ""

    def remember_in_keyring(self) -> bool:
        """Store the password in the keyring if asked (and possible); True when stored."""
        from agent_desk.services import secrets

        if not self.remember or not secrets.keyring_available():
            return False
        secrets.set_password(
            self.host,
            self.url.port,
            self.url.database or "",
            self.url.username or "",
            self.password,
        )
        return True


def needs_sign_in(error: BaseException) -> bool:
    """Did the server refuse the user (wrong or missing password)?"""
    return isinstance(error, DatabaseUnavailableError) and "refused user" in str(error)


def _server_text(url: URL) -> str:
    host = url.host or ""
    return f"{host}:{url.port}" if url.port else host


class SignInDialog(QDialog):
    signed_in = Signal(object)  # SignIn

    def __init__(
        self,
        tr: Translator,
        url: URL,
        parent: QWidget | None = None,
        *,
        problem: str = "",
        remember: bool = False,
    ) -> None:
        from agent_desk.services import secrets

        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.tr_, self.base_url = tr, url.set(password=None)
        self.setWindowTitle(tr("Sign in to the team server"))
        title = PlainLabel(tr("Sign in to the team server"))
        title.setObjectName("dialogTitle")
        self.problem = PlainLabel(tr(problem) if problem else "")
        self.problem.setObjectName("fieldError")
        self.problem.setWordWrap(True)
        self.server = QLineEdit(_server_text(url))
        self.server.setObjectName("serverEdit")
        self.database = QLineEdit(url.database or "")
        self.database.setObjectName("databaseEdit")
        self.user = QLineEdit(url.username or "")
        self.user.setObjectName("userEdit")
        self.password = QLineEdit()
        enter_submits(self.password)  # Enter signs in: nothing typed can be lost
        self.password.setObjectName("passwordEdit")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox(tr("Remember password"))
        self.remember.setObjectName("rememberCheck")
        self.keyring_note = PlainLabel()
        self.keyring_note.setObjectName("hint")
        self.keyring_note.setWordWrap(True)
        if secrets.keyring_available():
            self.remember.setChecked(remember)  # kept when asked again after a refusal
            self.keyring_note.setText(tr("The password is kept in this computer's keyring."))
        else:
            self.remember.setEnabled(False)
            self.remember.setChecked(False)
            self.keyring_note.setText(
                tr("No keyring on this computer: you will be asked each session")
            )
        self.form = form = QFormLayout()
        form.addRow(PlainLabel(tr("Server")), self.server)
        form.addRow(PlainLabel(tr("Database")), self.database)
        form.addRow(PlainLabel(tr("User")), self.user)
        form.addRow(PlainLabel(tr("Password")), self.password)
        form.addRow(PlainLabel(), self.problem)  # beside the password: almost always the reason
        form.addRow(PlainLabel(), self.remember)
        form.setRowVisible(self.problem, bool(problem))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(tr("Sign in"))
        ok.setObjectName("signInButton")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(tr("Cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.buttons)
        for edit in (self.server, self.database, self.user):
            edit.textChanged.connect(self._changed)
        self.password.textChanged.connect(self._changed)
        self._changed()
        self.setMinimumWidth(440)
        (self.password if self.user.text() else self.user).setFocus()

    def _changed(self) -> None:
        complete = all(
            edit.text().strip() for edit in (self.server, self.database, self.user)
        ) and bool(self.password.text())
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(complete)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.form.setRowVisible(self.problem, bool(text))

    def value(self) -> SignIn | None:
        server = self.server.text().strip()
        host, _, port_text = server.partition(":")
        if not host or not self.database.text().strip() or not self.user.text().strip():
            return None
        if not self.password.text():
            return None
        port: int | None = None
        if port_text:
            if not port_text.isdigit():
                self.show_problem(self.tr_("The server port must be a number."))
                return None
            port = int(port_text)
        url = self.base_url.set(
            host=host,
            port=port,
            database=self.database.text().strip(),
            username=self.user.text().strip(),
            password=None,
        )
        return SignIn(url, self.password.text(), self.remember.isChecked())

    def submit(self) -> None:
        value = self.value()
        if value is None:
            return
        self.signed_in.emit(value)
        self.accept()
