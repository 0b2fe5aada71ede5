"""Release / skip this customer, with a reason (issue 13).

The agent lets the customer go for now: the reason is written as a note on the file,
the customer comes back at the chosen time as a new attempt (so the next F8 does not
hand out the same customer again), and the desk's hold is released so a colleague may
take them. Nothing about the debt changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from agent_desk.errors import ValidationError
from agent_desk.i18n import N_
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.typed_dates import TypedDateTimeEdit

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile

REASONS: dict[str, str] = {
    "not_now": N_("Not the right moment to call"),
    "colleague": N_("Needs a colleague or the supervisor"),
    "waiting": N_("Waiting for information from the customer or a third party"),
    "conflict": N_("I know this customer personally"),
    "other": N_("Another reason (say which)"),
}


@dataclass(frozen=True)
class ReleaseInput:
    reason_code: str
    reason: str  # in the desk's language, as written on the file
    detail: str
    back_at: datetime


class ReleaseDialog(FormDialog):
    def __init__(
        self, words: Words, file: CustomerFile, now: datetime, parent: QWidget | None = None
    ) -> None:
        tr = words.tr
        super().__init__(tr, tr("Release or skip {name}", name=file.name), parent)
        self.setObjectName("releaseDialog")
        self.words = words
        self.now = now.astimezone()
        self.reason = QComboBox()
        self.reason.setObjectName("releaseReason")
        for code, text in REASONS.items():
            self.reason.addItem(tr(text), code)
        self.detail = QLineEdit()
        self.detail.setObjectName("releaseDetail")
        self.detail.setPlaceholderText(tr("In a few words, for the colleague who picks it up"))
        self.back_at = TypedDateTimeEdit(QDateTime(self.now + timedelta(hours=2)))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        self.back_at.setObjectName("releaseBackAt")
        self.add_field(tr("Reason"), self.reason, "reason")
        self.add_field(tr("Details"), self.detail, "detail")
        self.add_field(tr("Back in the queue at"), self.back_at, "back_at")
        self.save.setText(tr("Release customer"))

    def payload(self) -> ReleaseInput | None:
        code = str(self.reason.currentData())
        detail = self.detail.text().strip()
        if code == "other" and not detail:
            self.show_error("detail", self.tr_("Say why you release this customer."))
            return None
        back = self.back_at.dateTime().toPython()
        assert isinstance(back, datetime)
        back = back.astimezone()
        if back <= self.now:
            self.show_error("back_at", self.tr_("Choose a time after now."))
            return None
        return ReleaseInput(code, self.tr_(REASONS[code]), detail, back)


def release_note(words: Words, value: ReleaseInput) -> str:
    text = words.tr("Released: {reason}", reason=value.reason)
    return f"{text} — {value.detail}" if value.detail else text


__all__ = ["REASONS", "ReleaseDialog", "ReleaseInput", "ValidationError", "release_note"]
