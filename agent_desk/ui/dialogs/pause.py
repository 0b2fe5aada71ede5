"""F5: pause automatic collection (reason, until) — or end a running pause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QPushButton, QWidget

from agent_desk.domain.team_day import local_day
from agent_desk.i18n import N_
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.typed_dates import TypedDateEdit

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile

REASONS = (
    N_("waiting for income support"),
    N_("in debt counselling"),
    N_("illness or hospital stay"),
    N_("bereavement"),
    N_("dispute under investigation"),
)


@dataclass(frozen=True)
class PauseInput:
    until: date | None  # None: end the pause
    reason: str


class PauseDialog(FormDialog):
    def __init__(
        self, words: Words, file: CustomerFile, now: datetime, parent: QWidget | None = None
    ) -> None:
        tr = words.tr
        super().__init__(tr, tr("Pause collection for {name}", name=file.name), parent)
        self.setObjectName("pauseDialog")
        self.reason = QComboBox()
        self.reason.setObjectName("reason")
        self.reason.setEditable(True)
        self.reason.addItems([tr(text) for text in REASONS])
        self.reason.setCurrentIndex(-1)
        self.reason.setPlaceholderText(tr("Why is collection paused?"))
        self.until = TypedDateEdit()
        self.until.setObjectName("until")
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("dd-MM-yyyy")
        self.until.setDate(QDate(local_day(now) + timedelta(days=30)))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        self.add_field(tr("Reason"), self.reason, "reason")
        self.add_field(tr("Until"), self.until, "until")
        self.save.setText(tr("Pause collection"))
        self.end = QPushButton(tr("End pause"))
        self.end.setObjectName("endPause")
        self.buttons.addButton(self.end, QDialogButtonBox.ButtonRole.ActionRole)
        paused = file.paused_until is not None and file.paused_until >= local_day(now)
        self.end.setVisible(paused)
        if paused and file.pause_reason:
            self.reason.setCurrentText(file.pause_reason)
        self.end.clicked.connect(self._end_pause)

    def _end_pause(self) -> None:
        self.clear_errors()
        self.set_busy(True)
        self.submitted.emit(PauseInput(None, ""))

    def payload(self) -> PauseInput | None:
        until = self.until.date().toPython()
        assert isinstance(until, date)
        return PauseInput(until, self.reason.currentText())
