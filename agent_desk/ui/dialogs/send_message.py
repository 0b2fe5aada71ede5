"""Send an e-mail or SMS to the customer on screen: kind, channel, recipient, preview.

The recipient is chosen from the customer's own addresses (verified ones first, a
bounced or invalid one not at all); the preview is the exact text that will leave,
composed on the database worker from the message templates, with the SMS character
and part count (GSM-7 or UCS-2). Ctrl+Enter sends, Esc cancels. Sending queues the
message in the outbox; on a desk that may send (one desk, or a supervisor) it is handed
to the mail server / SMS provider at once, within the sending policy; an agent's desk
on a team database leaves that to the team's sender (``agent-desk messages
send-due``), and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from agent_desk.domain.actor import Actor
from agent_desk.domain.messaging import MessageChannel, MessageKind, sms_length
from agent_desk.errors import ValidationError
from agent_desk.i18n import N_, Translator
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services import messages as msgs
    from agent_desk.services.customer_file import CustomerFile

KIND_NAMES: dict[MessageKind, str] = {
    MessageKind.ARRANGEMENT_CONFIRMATION: N_("Arrangement confirmation (with the PDF)"),
    MessageKind.INSTALMENT_REMINDER: N_("Reminder of the next instalment"),
    MessageKind.MISSED_INSTALMENT: N_("Missed instalment"),
    MessageKind.PROMISE_REMINDER: N_("Reminder of a promise to pay"),
    MessageKind.MISSED_CALL: N_("We tried to call you"),
    MessageKind.ANNOUNCEMENT: N_("We will call you (announcement)"),
    MessageKind.FREE_TEXT: N_("Your own text"),
}
CHANNEL_NAMES = {MessageChannel.EMAIL: N_("E-mail"), MessageChannel.SMS: N_("SMS")}
STATUS_NAMES = {
    "queued": N_("waiting to be sent"),
    "sending": N_("being sent"),
    "handed_over": N_("being sent"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "failed": N_("failed"),
    "bounced": N_("bounced"),
    "cancelled": N_("not sent"),
    "in_doubt": N_("may have been sent; check"),
}


def describe_message(tr: Translator, kind: str, values: dict[str, str]) -> str:
    """A timeline line: "✉ e-mail to …: We tried to call you — delivered"."""
    channel = values.get("channel", "email")
    try:
        name = tr(KIND_NAMES[MessageKind(kind)])
    except ValueError:
        name = kind
    status = values.get("status", "")
    return tr(
        "{icon} {channel} to {to}: {kind} — {status}",
        icon="✉" if channel == "email" else "💬",
        channel=tr(CHANNEL_NAMES.get(MessageChannel(channel), channel))
        if channel in ("email", "sms")
        else channel,
        to=values.get("to", ""),
        kind=name,
        status=tr(STATUS_NAMES.get(status, status)),
    )


@dataclass(frozen=True)
class Request:
    customer_id: int
    kind: MessageKind
    channel: MessageChannel
    contact_point_id: int | None
    text: str
    when: str


def _draft(session: Session, actor: Actor, request: Request) -> msgs.Draft:
    from agent_desk.models import Customer
    from agent_desk.services import messages as msgs

    customer = session.get(Customer, request.customer_id)
    if customer is None:
        raise ValidationError("This customer no longer exists.")
    subject = msgs.subject_for(session, customer, request.kind)
    return msgs.compose(
        session,
        customer,
        request.kind,
        request.channel,
        subject=subject,
        agent_name=actor.display_name,
        text=request.text or None,
        when=request.when or None,
        contact_point_id=request.contact_point_id,
    )


class SendMessageDialog(QDialog):
    def __init__(
        self,
        *,
        worker: DatabaseWorker,
        actor: Actor,
        tr: Translator,
        clock: Callable[[], datetime],
        file: CustomerFile,
        kind: MessageKind = MessageKind.MISSED_CALL,
        channel: MessageChannel = MessageChannel.SMS,
        sent: Callable[[int], None] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.worker, self.actor, self.tr_, self.clock, self.file = worker, actor, tr, clock, file
        self._sent = sent
        self._token = 0
        self.result_status: str | None = None
        self.setObjectName("sendMessageDialog")
        self.setWindowTitle(tr("Send a message to {name}", name=file.name))
        self.setAccessibleName(self.windowTitle())

        self.kind_box = QComboBox()
        self.kind_box.setObjectName("messageKind")
        self.kind_box.setAccessibleName(tr("Kind of message"))
        for value, name in KIND_NAMES.items():
            self.kind_box.addItem(tr(name), value.value)
        self.kind_box.setCurrentIndex(self.kind_box.findData(kind.value))
        self.channel_box = QComboBox()
        self.channel_box.setObjectName("messageChannel")
        self.channel_box.setAccessibleName(tr("Channel"))
        for channel_value, channel_name in CHANNEL_NAMES.items():
            self.channel_box.addItem(tr(channel_name), channel_value.value)
        self.channel_box.setCurrentIndex(self.channel_box.findData(channel.value))
        self.to_box = QComboBox()
        self.to_box.setObjectName("messageTo")
        self.to_box.setAccessibleName(tr("Send to"))
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("messageText")
        self.text_edit.setAccessibleName(tr("Your text"))
        self.text_edit.setPlaceholderText(tr("Write your message (no amounts in an SMS)"))
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setMaximumHeight(90)
        self.when_edit = QLineEdit()
        self.when_edit.setObjectName("messageWhen")
        self.when_edit.setAccessibleName(tr("When we will call"))
        self.when_edit.setPlaceholderText(tr("e.g. tomorrow between 10 and 12"))
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("messagePreview")
        self.preview.setAccessibleName(tr("Preview of the message"))
        self.preview.setReadOnly(True)
        self.count = PlainLabel("")
        self.count.setObjectName("messageCount")
        self.count.setAccessibleName(tr("Length of the SMS"))
        self.error = PlainLabel("")
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.status = PlainLabel("")
        self.status.setObjectName("messageStatus")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow(tr("&Kind"), self.kind_box)
        form.addRow(tr("C&hannel"), self.channel_box)
        form.addRow(tr("&To"), self.to_box)
        form.addRow(tr("Te&xt"), self.text_edit)
        form.addRow(tr("&When"), self.when_edit)
        for row_label in (form.labelForField(w) for w in (self.kind_box, self.channel_box)):
            if row_label is not None:
                row_label.setObjectName("formLabel")

        self.send_button = QPushButton(tr("&Send"))
        self.send_button.setObjectName("sendMessage")
        self.send_button.setAccessibleName(tr("Send the message"))
        self.send_button.setToolTip(tr("Send (Ctrl+Enter)"))
        self.send_button.setAutoDefault(False)
        self.cancel_button = QPushButton(tr("&Cancel"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAutoDefault(False)
        self.send_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(self.reject)
        from agent_desk.ui.keyboard import mark_primary  # kept off the import block

        mark_primary(self.send_button)  # the desk's Ctrl+Enter rule presses it
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self.send_button.click)  # nothing while disabled

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        title = PlainLabel(tr("Preview"))
        title.setObjectName("sectionTitle")
        layout.addWidget(title)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(560, 520)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.refresh_preview)
        self.kind_box.currentIndexChanged.connect(self._changed)
        self.channel_box.currentIndexChanged.connect(self._channel_changed)
        self.to_box.currentIndexChanged.connect(self._changed)
        self.text_edit.textChanged.connect(self._changed)
        self.when_edit.textChanged.connect(self._changed)
        self._channel_changed()

    # ----------------------------------------------------------------- state

    @property
    def kind(self) -> MessageKind:
        return MessageKind(str(self.kind_box.currentData()))

    @property
    def channel(self) -> MessageChannel:
        return MessageChannel(str(self.channel_box.currentData()))

    def request(self) -> Request:
        point = self.to_box.currentData()
        return Request(
            self.file.id,
            self.kind,
            self.channel,
            int(point) if point is not None else None,
            self.text_edit.toPlainText(),
            self.when_edit.text(),
        )

    def _channel_changed(self) -> None:
        from agent_desk.services import messages as msgs

        tr = self.tr_
        self.to_box.blockSignals(True)
        self.to_box.clear()
        wanted = msgs.CHANNEL_KIND[self.channel]
        points = [p for p in self.file.contact_points if p.kind == wanted and not p.invalid]
        points.sort(key=lambda p: (p.verified_at is None, not p.preferred))
        for p in points:
            mark = tr("verified") if p.verified_at else tr("not verified")
            self.to_box.addItem(f"{p.value} ({mark})", p.id)
        self.to_box.blockSignals(False)
        confirmation = self.kind_box.findData(MessageKind.ARRANGEMENT_CONFIRMATION.value)
        item = self.kind_box.model().index(confirmation, 0)
        sms = self.channel is MessageChannel.SMS
        self.kind_box.model().setData(  # the PDF travels only by e-mail
            item, 0 if sms else 33, Qt.ItemDataRole.UserRole - 1
        )
        if sms and self.kind is MessageKind.ARRANGEMENT_CONFIRMATION:
            self.kind_box.setCurrentIndex(self.kind_box.findData(MessageKind.MISSED_CALL.value))
        self._changed()

    def _changed(self) -> None:
        self.text_edit.setEnabled(self.kind is MessageKind.FREE_TEXT)
        self.when_edit.setEnabled(self.kind is MessageKind.ANNOUNCEMENT)
        self.send_button.setEnabled(False)
        self._timer.start()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # --------------------------------------------------------------- preview

    def refresh_preview(self) -> None:
        tr = self.tr_
        self._token += 1
        token = self._token
        if self.to_box.count() == 0:
            self.preview.setPlainText("")
            self._show_error(
                tr("This customer has no address for this channel; add one in F7 first.")
            )
            return
        request, actor = self.request(), self.actor
        self.worker.submit(
            lambda s: _draft(s, actor, request),
            lambda draft: self._previewed(token, draft),
            lambda error: self._preview_failed(token, error),
            busy=tr("Preparing the message…"),
        )

    def done(self, result: int) -> None:
        """Closed (and deleted on close): a preview still on its way is ignored."""
        self._token += 1
        super().done(result)

    def _previewed(self, token: int, draft: msgs.Draft) -> None:
        if token != self._token:
            return
        tr = self.tr_
        self._show_error("")
        text = f"{draft.subject}\n\n{draft.body}" if draft.subject else draft.body
        self.preview.setPlainText(text)
        if draft.channel is MessageChannel.SMS:
            length = sms_length(draft.body)
            self.count.setText(
                tr.n(
                    "{characters} characters · {segments} SMS part ({encoding}) · "
                    "{remaining} left in this part",
                    "{characters} characters · {segments} SMS parts ({encoding}) · "
                    "{remaining} left in this part",
                    length.segments,
                    characters=length.characters,
                    segments=length.segments,
                    encoding=length.encoding,
                    remaining=length.remaining,
                )
            )
        else:
            self.count.setText(
                tr("With the confirmation as PDF attached.")
                if draft.kind is MessageKind.ARRANGEMENT_CONFIRMATION
                else ""
            )
        self.send_button.setEnabled(True)

    def _preview_failed(self, token: int, error: BaseException) -> None:
        if token != self._token:
            return
        self.preview.setPlainText("")
        self._show_error(self.tr_.error(error))

    # ------------------------------------------------------------------ send

    def send(self) -> None:
        if not self.send_button.isEnabled():
            return
        tr = self.tr_
        self.send_button.setEnabled(False)
        request, actor, now = self.request(), self.actor, self.clock()
        may_send = actor.is_supervisor or self.worker.database.is_sqlite

        def queue(session: Session) -> int:
            from agent_desk.models import Customer
            from agent_desk.services import messages as msgs

            draft = _draft(session, actor, request)
            if request.kind is MessageKind.ARRANGEMENT_CONFIRMATION:
                subject = msgs.subject_for(
                    session, session.get_one(Customer, request.customer_id), request.kind
                )
                draft = msgs.attach_confirmation(
                    session, actor, draft, int(subject.values["arrangement_id"]), now
                )
            return msgs.queue(session, actor, draft, now).message_id

        def queued(message_id: int) -> None:
            if not may_send:
                self._finish(message_id, "queued", None)
                return
            self.worker.submit_raw(
                lambda database: self._dispatch(database, message_id, now),
                lambda outcome: self._finish(message_id, *outcome),
                self._send_failed,
                busy=tr("Sending…"),
            )

        self.worker.submit(queue, queued, self._send_failed, busy=tr("Sending…"))

    @staticmethod
    def _dispatch(database: Any, message_id: int, now: datetime) -> tuple[str, str | None]:
        from agent_desk.services import messages as msgs
        from agent_desk.services import sending

        with database.transaction() as s:
            transports = sending.ConfiguredTransports(msgs.team_settings(s))
        sending.dispatch(database, transports, now, only_ids=[message_id])
        with database.transaction() as s:
            from agent_desk.models import Message

            row = s.get_one(Message, message_id)
            return row.status, row.held_reason

    def _finish(self, message_id: int, status: str, reason: str | None) -> None:
        tr = self.tr_
        self.result_status = status
        words = tr(STATUS_NAMES.get(status, status))
        if status == "queued" and reason:
            self.status.setText(
                tr("Queued; it goes when the rules allow ({reason}).", reason=reason)
            )
        elif status == "queued":
            self.status.setText(tr("Queued; the team's sender sends it shortly."))
        else:
            self.status.setText(tr("Message {status}.", status=words))
        if self._sent is not None:
            self._sent(self.file.id)
        if status in ("sent", "delivered", "queued"):
            self.accept()
        else:
            self.send_button.setEnabled(True)

    def _send_failed(self, error: BaseException) -> None:
        self._show_error(self.tr_.error(error))
        self.send_button.setEnabled(True)
