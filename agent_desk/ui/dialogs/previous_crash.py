"""The desk stopped suddenly last time: offer the report ``faulthandler`` kept."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk.crash_log import read_report
from agent_desk.i18n import Translator
from agent_desk.ui.plain import PlainLabel


class PreviousCrashDialog(QDialog):
    def __init__(self, tr: Translator, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previousCrashDialog")
        self.path = path
        self.setWindowTitle(tr("Agent Desk stopped unexpectedly"))
        title = PlainLabel(tr("Agent Desk stopped unexpectedly last time"))
        title.setObjectName("dialogTitle")
        intro = PlainLabel(
            tr(
                "Sorry about that. What you saved is safe, and work kept offline is still in "
                "the outbox. A short technical report was kept; it helps the helpdesk find "
                "the cause. It holds no customer data."
            )
        )
        intro.setWordWrap(True)
        where = PlainLabel(tr("Report: {path}", path=str(path)))
        where.setObjectName("hint")
        where.setWordWrap(True)
        self.report = QPlainTextEdit()
        self.report.setObjectName("crashReport")
        self.report.setReadOnly(True)
        self.report.setVisible(False)
        self.show_button = QPushButton(tr("Show the report"))
        self.show_button.setObjectName("showCrashReport")
        self.show_button.clicked.connect(self.show_report)
        self.copy_button = QPushButton(tr("Copy report"))
        self.copy_button.setObjectName("copyReport")
        self.copy_button.clicked.connect(self.copy_report)
        self.copy_button.setVisible(False)
        later = QPushButton(tr("Not now"))
        later.clicked.connect(self.reject)
        buttons = QDialogButtonBox()
        buttons.addButton(self.show_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(later, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(where)
        layout.addWidget(self.report, 1)
        layout.addWidget(buttons)
        self.resize(640, 260)

    def show_report(self) -> None:
        self.report.setPlainText(read_report(self.path))
        self.report.setVisible(True)
        self.show_button.setVisible(False)
        self.copy_button.setVisible(True)
        self.resize(self.width(), 480)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report.toPlainText())
