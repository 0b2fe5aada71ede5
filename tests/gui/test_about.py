"""Help › About: the version, the data folder and the bundled fonts' licence; the icon."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QGuiApplication
from pytestqt.qtbot import QtBot

import agent_desk
from agent_desk import config
from agent_desk.resources import read_text
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.about import AboutDialog


def test_help_about_shows_version_data_folder_and_font_licence(
    qtbot: QtBot, window: DeskWindow
) -> None:
    action = window.findChild(QAction, "about")
    assert action is not None and action.text() == "About Agent Desk"
    action.trigger()
    dialog = window.findChild(AboutDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.version.text() == f"Agent Desk {agent_desk.__version__}"
    assert dialog.data_folder.text() == f"Data folder: {config.data_dir()}"
    assert "Database:" in dialog.database.text()
    licence = dialog.licence.toPlainText()
    assert licence == read_text("fonts", "LICENSE-DejaVu.txt")
    assert "Bitstream Vera" in licence  # the licence itself, not just a name
    dialog.copy_folder()
    assert QGuiApplication.clipboard().text() == str(config.data_dir())
    dialog.reject()


def test_the_window_icon_is_the_desks_in_every_size(window: DeskWindow) -> None:
    icon = QGuiApplication.windowIcon()
    assert not icon.isNull()
    sizes = {size.width() for size in icon.availableSizes()}
    assert {16, 32, 48, 256} <= sizes
    assert window.windowIcon().cacheKey() == icon.cacheKey()
    icons = Path(__file__).resolve().parents[2] / "resources" / "icons"
    assert (icons / "agent-desk.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
