"""Ctrl+N: write a note on the customer file (no contact made, nothing else changes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QPlainTextEdit, QWidget

from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile


@dataclass(frozen=True)
class NoteInput:
    text: str


class NoteDialog(FormDialog):
    def __init__(self, words: Words, file: CustomerFile, parent: QWidget | None = None) -> None:
        tr = words.tr
        super().__init__(tr, tr("Note on {name}", name=file.name), parent)
        self.setObjectName("noteDialog")
        self.text = QPlainTextEdit()
        self.text.setObjectName("noteText")
        self.text.setPlaceholderText(
            tr("What colleagues should know, e.g. 'prefers to be called after 18:00'")
        )
        self.text.setTabChangesFocus(True)
        self.text.setMinimumHeight(140)
        self.count = PlainLabel()
        self.count.setObjectName("hint")
        self.add_field(tr("Note"), self.text, "note")
        self.form.addRow(PlainLabel(), self.count)
        self.save.setText(tr("Save note"))
        self.text.textChanged.connect(self._count)
        self._count()

    def _count(self) -> None:
        from agent_desk.services.activity import MAX_NOTE

        used = len(self.text.toPlainText().strip())
        self.count.setText(self.tr_("{used} of {most} characters", used=used, most=MAX_NOTE))
        self.count.setProperty("over", "true" if used > MAX_NOTE else "false")

    def payload(self) -> NoteInput | None:
        text = self.text.toPlainText()
        if not text.strip():
            self.show_error("note", self.tr_("The note is empty."))
            return None
        return NoteInput(text)
