"""Dialog buttons the way every desk dialog wants them."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox, QPushButton


def plain_button(text: str, object_name: str) -> QPushButton:
    """A button that Enter never presses by accident (typing in a field must not act)."""
    button = QPushButton(text)
    button.setObjectName(object_name)
    button.setAutoDefault(False)
    return button


def button_row(actions: list[QPushButton], close: QPushButton) -> QDialogButtonBox:
    """Action buttons first, then the closing one, in the platform's order."""
    box = QDialogButtonBox()
    for button in actions:
        box.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
    box.addButton(close, QDialogButtonBox.ButtonRole.RejectRole)
    return box
