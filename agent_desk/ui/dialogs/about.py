"""Help › About: version, where the desk keeps its files, and the bundled fonts' licence."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk import __version__
from agent_desk.config import data_dir
from agent_desk.i18n import Translator
from agent_desk.resources import read_text, resource_path
from agent_desk.ui.plain import PlainLabel

FONT_LICENCE = ("fonts", "LICENSE-DejaVu.txt")


class AboutDialog(QDialog):
    def __init__(
        self,
        tr: Translator,
        database: str,  # the status bar's "Database: …" line
        folder: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(tr("About Agent Desk"))
        self.folder = folder if folder is not None else data_dir()
        title = PlainLabel(tr("Agent Desk {version}", version=__version__))
        title.setObjectName("dialogTitle")
        icon = QLabel()
        icon.setPixmap(QGuiApplication.windowIcon().pixmap(64, 64))
        built = PlainLabel(
            f"Python {platform.python_version()} · PySide6 {pyside_version} · Qt {qVersion()}"
        )
        built.setObjectName("hint")
        self.version = title
        self.data_folder = PlainLabel(tr("Data folder: {folder}", folder=str(self.folder)))
        self.data_folder.setObjectName("aboutDataFolder")
        self.data_folder.setWordWrap(True)
        self.database = PlainLabel(database)
        self.database.setWordWrap(True)
        fonts = PlainLabel(
            tr(
                "The letters and the desk use the DejaVu fonts, shipped unmodified under "
                "their own licence:"
            )
        )
        fonts.setWordWrap(True)
        self.licence = QPlainTextEdit(read_text(*FONT_LICENCE))
        self.licence.setObjectName("fontLicence")
        self.licence.setAccessibleName(tr("Font licence"))
        self.licence.setReadOnly(True)
        self.licence.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # keep its lines
        self.licence_path = resource_path(*FONT_LICENCE)
        qt = PlainLabel(
            tr("Qt for Python (PySide6) is used under the GNU Lesser General Public License v3.")
        )
        qt.setObjectName("hint")
        qt.setWordWrap(True)
        copy = QPushButton(tr("Copy data folder"))
        copy.setObjectName("copyDataFolder")
        copy.clicked.connect(self.copy_folder)
        buttons = QDialogButtonBox()
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        close = QPushButton(tr("Close"))
        buttons.addButton(close, QDialogButtonBox.ButtonRole.RejectRole)
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(icon)
        layout.addWidget(title)
        layout.addWidget(built)
        layout.addWidget(self.data_folder)
        layout.addWidget(self.database)
        layout.addWidget(fonts)
        layout.addWidget(self.licence, 1)
        layout.addWidget(qt)
        layout.addWidget(buttons)
        self.resize(720, 580)

    def copy_folder(self) -> None:
        QGuiApplication.clipboard().setText(str(self.folder))


def add_about_action(
    menu: QMenu, window: QWidget, tr: Translator, database: Callable[[], str]
) -> QAction:
    """Help › About Agent Desk (the dialog is a child of ``window``)."""
    action = menu.addAction(tr("About Agent Desk"))
    action.setObjectName("about")
    action.setMenuRole(QAction.MenuRole.AboutRole)

    def show() -> None:
        dialog = AboutDialog(tr, database(), parent=window)
        dialog.open()

    action.triggered.connect(show)
    return action
