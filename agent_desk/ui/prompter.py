"""The one seam through which the desk tells or asks the agent something.

Widgets never call ``QMessageBox`` directly: they call a ``Prompter``. The real one
opens window-modal boxes with ``open()`` (the event loop keeps running); tests pass a
``RecordingPrompter`` that stores the messages and answers at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


class Prompter:
    def inform(self, parent: QWidget | None, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=parent)
        box.setObjectName("informBox")
        box.setTextFormat(Qt.TextFormat.PlainText)  # messages may quote customer data
        box.open()

    def warn(self, parent: QWidget | None, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
        box.setObjectName("warnBox")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    def confirm(
        self, parent: QWidget | None, title: str, text: str, then: Callable[[bool], None]
    ) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            parent,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.finished.connect(lambda result: then(result == QMessageBox.StandardButton.Yes))
        box.open()


class RecordingPrompter(Prompter):
    """For tests: remembers every message; ``confirm`` answers ``answer``."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.messages: list[tuple[str, str, str]] = []

    def inform(self, parent: QWidget | None, title: str, text: str) -> None:
        self.messages.append(("inform", title, text))

    def warn(self, parent: QWidget | None, title: str, text: str) -> None:
        self.messages.append(("warn", title, text))

    def confirm(
        self, parent: QWidget | None, title: str, text: str, then: Callable[[bool], None]
    ) -> None:
        self.messages.append(("confirm", title, text))
        then(self.answer)
