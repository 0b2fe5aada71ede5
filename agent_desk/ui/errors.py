"""Unexpected errors and Qt's own messages (qutebrowser's crashsignal/qtlog pattern).

An exception nobody caught is a bug: it is logged with its traceback and shown in a
dialog with a report the agent can copy to the helpdesk; the desk keeps running.
Qt's warnings go into Python logging (and so make the tests fail).
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk import __version__
from agent_desk.i18n import Translator
from agent_desk.ui.plain import PlainLabel

log = logging.getLogger("agent_desk.crash")
qt_log = logging.getLogger("qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def qt_message_handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    where = f" ({context.file}:{context.line})" if context.file else ""
    qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s%s", message, where)


def install_qt_logging() -> None:
    qInstallMessageHandler(qt_message_handler)


def crash_report(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> str:
    lines = "".join(traceback.format_exception(kind, value, tb))
    return (
        f"Agent Desk {__version__} · Python {platform.python_version()} · "
        f"PySide6 {pyside_version} · {platform.platform()}\n\n{lines}"
    )


class CrashDialog(QDialog):
    """Says something went wrong, that nothing typed is lost, and offers the report."""

    def __init__(self, report: str, tr: Translator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle(tr("Something went wrong"))
        intro = PlainLabel(
            tr(
                "Agent Desk ran into an unexpected problem. You can keep working; what you "
                "saved is safe. Please copy the report below and send it to the helpdesk."
            )
        )
        intro.setWordWrap(True)
        self.report = QPlainTextEdit(report)
        self.report.setReadOnly(True)
        self.report.setObjectName("crashReport")
        copy = QPushButton(tr("Copy report"))
        copy.setObjectName("copyReport")
        copy.clicked.connect(self.copy_report)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.report)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report.toPlainText())


class ExceptHook:
    """``sys.excepthook`` replacement: log, then show a ``CrashDialog``."""

    def __init__(self, tr: Callable[[], Translator], parent: Callable[[], QWidget | None]) -> None:
        self._tr = tr
        self._parent = parent
        self.dialogs: list[CrashDialog] = []
        self._previous = sys.excepthook

    def __call__(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous(kind, value, tb)
            return
        log.error("Unexpected error", exc_info=(kind, value, tb))
        dialog = CrashDialog(crash_report(kind, value, tb), self._tr(), self._parent())
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [dialog]
        dialog.open()

    def install(self) -> None:
        sys.excepthook = self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self._previous
