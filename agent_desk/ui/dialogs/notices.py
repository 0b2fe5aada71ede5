"""Small informational dialogs: keyboard shortcuts, an empty database, cannot start."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.i18n import N_, Translator
from agent_desk.ui.plain import PlainLabel

EMPTY_DATABASE_TEXT = N_(
    "This database has no agents or customers yet, so there is no work to show.\n\n"
    "To try Agent Desk with demo data, start it with:\n"
    "    agent-desk --demo\n"
    "(a separate demo database), or fill this database with:\n"
    "    agent-desk demo\n\n"
    "To work with your team, connect to the team server:\n"
    "    agent-desk --database postgresql://user@server/database"
)


def _close_buttons(tr: Translator, dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox()
    close = QPushButton(tr("Close"))
    buttons.addButton(close, QDialogButtonBox.ButtonRole.RejectRole)
    close.clicked.connect(dialog.reject)
    return buttons


class ShortcutsDialog(QDialog):
    def __init__(
        self, tr: Translator, shortcuts: Sequence[tuple[str, str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle(tr("Keyboard shortcuts"))
        table = QTableWidget(len(shortcuts), 2)
        table.setObjectName("shortcutsTable")
        table.setAccessibleName(tr("Keyboard shortcuts"))
        table.setHorizontalHeaderLabels([tr("Key"), tr("Action")])
        table.verticalHeader().setVisible(False)
        table.setShowGrid(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.setColumnWidth(0, 120)
        for row, (key, action) in enumerate(shortcuts):
            table.setItem(row, 0, QTableWidgetItem(key))
            table.setItem(row, 1, QTableWidgetItem(action))
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(_close_buttons(tr, self))
        self.table = table
        self.resize(480, 420)


class MessageDialog(QDialog):
    """A message with copyable text (commands, URLs) — for starting problems."""

    def __init__(
        self, tr: Translator, title: str, intro: str, body: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("messageDialog")
        self.setWindowTitle(title)
        heading = PlainLabel(intro)
        heading.setObjectName("dialogTitle")
        heading.setWordWrap(True)
        self.body = QPlainTextEdit(body)
        self.body.setObjectName("messageBody")
        self.body.setReadOnly(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(heading)
        layout.addWidget(self.body, 1)
        layout.addWidget(_close_buttons(tr, self))
        self.resize(620, 360)
