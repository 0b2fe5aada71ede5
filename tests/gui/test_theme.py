"""Colours follow the system scheme or the agent's choice; high contrast is offered."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from agent_desk.resources import read_text
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.theme import apply_theme, effective_scheme


def test_the_desk_offers_dark_and_high_contrast(window: DeskWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    try:
        assert window.set_colour_scheme("dark") == "dark"
        assert read_text("ui", "desk-dark.qss").strip() in app.styleSheet()
        assert window.settings.colour_scheme() == "dark"
        assert window.set_colour_scheme("contrast") == "contrast"
        assert read_text("ui", "desk-contrast.qss").strip() in app.styleSheet()
        assert window.findChild(type(window.actions_.quit), "scheme_contrast") is not None
        # "system" follows the platform's light/dark hint.
        system = "dark" if app.styleHints().colorScheme() == Qt.ColorScheme.Dark else "light"
        assert window.set_colour_scheme("system") == system
        assert effective_scheme(app) == system
    finally:
        apply_theme(app, "system")
        window.settings.set_colour_scheme("system")
