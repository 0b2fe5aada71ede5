"""F12: plan the customer's next step on its own, without logging a contact.

For when the plan changes between calls: a colleague's advice, a letter that should
go first, a callback the customer asked for by e-mail. It replaces the open step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLineEdit, QWidget

from agent_desk.domain.codes import NextStepKind
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.dialogs.steps import step_due_edit, step_kind_combo
from agent_desk.ui.labels import Words

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile


@dataclass(frozen=True)
class StepInput:
    kind: NextStepKind
    due_at: datetime
    note: str


class NextStepDialog(FormDialog):
    def __init__(
        self, words: Words, file: CustomerFile, now: datetime, parent: QWidget | None = None
    ) -> None:
        tr = words.tr
        super().__init__(tr, tr("Next step for {name}", name=file.name), parent)
        self.setObjectName("nextStepDialog")
        local_now = now.astimezone()
        current = file.next_step_due_at
        start = (
            current.astimezone()
            if current is not None and current > now
            else (local_now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        )
        self.kind = step_kind_combo(words)
        self.due = step_due_edit(start)
        index = self.kind.findData(file.next_step_kind)
        if index > 0:
            self.kind.setCurrentIndex(index)
        self.note = QLineEdit()
        self.note.setObjectName("stepNote")
        self.note.setMaxLength(200)
        self.note.setPlaceholderText(tr("Optional: what to do, e.g. 'ask about the new job'"))
        self.add_field(tr("Next step"), self.kind, "next_step")
        self.add_field(tr("When"), self.due, "next_step_due")
        self.add_field(tr("Note"), self.note, "note")
        self.save.setText(tr("Save next step"))

    def payload(self) -> StepInput | None:
        kind = self.kind.currentData()
        if not kind:
            self.show_error(
                "next_step",
                self.tr_("Choose a next step before you move on: every open customer needs one."),
            )
            return None
        due = self.due.dateTime().toPython()
        assert isinstance(due, datetime)
        return StepInput(NextStepKind(kind), due.astimezone(), self.note.text().strip())
