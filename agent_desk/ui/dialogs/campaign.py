"""Supervisor ▸ Message a selection: a proactive message to customers with a known
trigger (e.g. the introductory discount ends next month), with the count per channel,
who cannot be reached and an example text before anything is queued (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from agent_desk.domain.actor import Actor
from agent_desk.domain.codes import Trigger
from agent_desk.domain.messaging import MessageKind
from agent_desk.i18n import N_, Translator
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.campaigns import CampaignResult, Selection

TRIGGER_NAMES = {
    Trigger.DISCOUNT_ENDING: N_("introductory discount ends"),
    Trigger.PRICE_CHANGE: N_("price change"),
    Trigger.AWAITING_SUPPORT: N_("waiting for government support"),
    Trigger.INCOME_DROP: N_("income dropped"),
}


def _qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


class CampaignDialog(QDialog):
    def __init__(
        self,
        *,
        worker: DatabaseWorker,
        actor: Actor,
        tr: Translator,
        clock: Callable[[], datetime],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.worker, self.actor, self.tr_, self.clock = worker, actor, tr, clock
        self.preview: CampaignResult | None = None
        self.setObjectName("campaignDialog")
        self.setWindowTitle(tr("Message a selection of customers"))
        today = clock().date()
        self.name = QLineEdit(f"actie-{today.isoformat()}")
        self.name.setObjectName("campaignName")
        self.name.setAccessibleName(tr("Name of the campaign"))
        self.trigger = QComboBox()
        self.trigger.setObjectName("campaignTrigger")
        self.trigger.setAccessibleName(tr("Known trigger"))
        for value, label in TRIGGER_NAMES.items():
            self.trigger.addItem(tr(label), value.value)
        self.date_from = QDateEdit(_qdate(today))
        self.date_to = QDateEdit(_qdate(today.replace(day=28)))
        for edit, name in ((self.date_from, "campaignFrom"), (self.date_to, "campaignTo")):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd-MM-yyyy")
        self.date_from.setAccessibleName(tr("Trigger date from"))
        self.date_to.setAccessibleName(tr("Trigger date to"))
        self.when = QLineEdit()
        self.when.setObjectName("campaignWhen")
        self.when.setAccessibleName(tr("When we will call"))
        self.when.setPlaceholderText(tr("e.g. tomorrow between 10 and 12"))
        self.summary = QPlainTextEdit()
        self.summary.setObjectName("campaignPreview")
        self.summary.setAccessibleName(tr("Count and example"))
        self.summary.setReadOnly(True)
        self.error = PlainLabel("")
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow(tr("&Name"), self.name)
        form.addRow(tr("T&rigger"), self.trigger)
        form.addRow(tr("&From"), self.date_from)
        form.addRow(tr("&Until"), self.date_to)
        form.addRow(tr("&When we call"), self.when)
        self.preview_button = QPushButton(tr("&Preview and count"))
        self.preview_button.setObjectName("campaignPreviewButton")
        self.send_button = QPushButton(tr("&Send"))
        self.send_button.setObjectName("campaignSend")
        self.send_button.setAccessibleName(tr("Queue the messages"))
        self.send_button.setEnabled(False)
        self.cancel_button = QPushButton(tr("&Cancel"))
        for button in (self.preview_button, self.send_button, self.cancel_button):
            button.setAutoDefault(False)
        self.preview_button.clicked.connect(self.run_preview)
        self.send_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(self.reject)
        from agent_desk.ui.keyboard import mark_primary  # kept off the import block

        mark_primary(self.send_button)  # the desk's Ctrl+Enter rule presses it
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self.send_button.click)  # nothing while disabled
        self.name.textChanged.connect(self._changed)
        self.when.textChanged.connect(self._changed)
        self.date_from.dateChanged.connect(self._changed)
        self.date_to.dateChanged.connect(self._changed)
        self.trigger.currentIndexChanged.connect(self._changed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.resize(560, 460)

    def _changed(self) -> None:
        self.preview = None
        self.send_button.setEnabled(False)  # always a fresh count before sending

    def _selection(self) -> Selection:
        from agent_desk.services.campaigns import Selection

        return Selection(
            str(self.trigger.currentData()),
            self.date_from.date().toPython(),  # type: ignore[arg-type]
            self.date_to.date().toPython(),  # type: ignore[arg-type]
        )

    def _task(self, send: bool) -> Callable[[Session], CampaignResult]:
        from agent_desk.services.campaigns import run_campaign

        actor, name, selection, when, now = (
            self.actor,
            self.name.text(),
            self._selection(),
            self.when.text(),
            self.clock(),
        )
        return lambda s: run_campaign(
            s, actor, name, selection, MessageKind.ANNOUNCEMENT, now, when=when, send=send
        )

    def run_preview(self) -> None:
        self.error.hide()
        self.worker.submit(
            self._task(False), self._previewed, self._failed, busy=self.tr_("Counting…")
        )

    def _previewed(self, result: CampaignResult) -> None:
        tr = self.tr_
        self.preview = result
        lines = [
            tr(
                "{selected} customers; {count} messages would be queued ({email} by e-mail, "
                "{sms} by SMS).",
                selected=result.selected,
                count=sum(result.by_channel.values()),
                email=result.by_channel.get("email", 0),
                sms=result.by_channel.get("sms", 0),
            )
        ]
        for reason, count in sorted(result.unreachable.items()):
            lines.append(tr("Not reachable ({reason}): {count}", reason=reason, count=count))
        if result.already_queued:
            lines.append(
                tr("Already queued by this campaign: {count}", count=result.already_queued)
            )
        if result.example:
            lines += ["", tr("Example:"), result.example["body"]]
        self.summary.setPlainText("\n".join(lines))
        self.send_button.setEnabled(sum(result.by_channel.values()) > 0)

    def send(self) -> None:
        if self.preview is None or not self.send_button.isEnabled():
            return
        self.send_button.setEnabled(False)
        self.worker.submit(self._task(True), self._sent, self._failed, busy=self.tr_("Queueing…"))

    def _sent(self, result: CampaignResult) -> None:
        self.preview = result
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.error.setText(self.tr_.error(error))
        self.error.show()
