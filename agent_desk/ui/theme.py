"""The desk's look: the style sheet, the system's light/dark scheme, high contrast.

``apply_theme`` loads ``resources/ui/desk.qss`` and, on top of it, ``desk-dark.qss``
when the system asks for a dark scheme (``QStyleHints.colorScheme``) or
``desk-contrast.qss`` when the agent chose high contrast (View › High contrast). It
follows the system while the desk runs. It also installs the keyboard and
accessibility rules of ``agent_desk.ui.keyboard`` for every dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from agent_desk.resources import read_text
from agent_desk.ui import keyboard

SCHEMES = ("system", "light", "dark", "contrast")
_state = {"scheme": "system", "connected": False}


def system_is_dark(app: QApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def effective_scheme(app: QApplication, scheme: str | None = None) -> str:
    """ "light", "dark" or "contrast": what the desk shows for the chosen ``scheme``."""
    chosen = scheme or _state["scheme"]
    if chosen == "system":
        return "dark" if system_is_dark(app) else "light"
    return str(chosen)


def style_sheet(effective: str) -> str:
    sheet = read_text("ui", "desk.qss")
    if effective == "dark":
        sheet += "\n" + read_text("ui", "desk-dark.qss")
    elif effective == "contrast":
        sheet += "\n" + read_text("ui", "desk-contrast.qss")
    return sheet


def apply_theme(app: QApplication, scheme: str | None = None) -> str:
    """Style the whole application; returns the scheme in effect."""
    if scheme is not None:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown colour scheme {scheme!r}")
        _state["scheme"] = scheme
    effective = effective_scheme(app)
    app.setProperty("agentDeskScheme", effective)
    app.setStyleSheet(style_sheet(effective))
    keyboard.install(app)
    if not _state["connected"]:
        _state["connected"] = True
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
    return effective
