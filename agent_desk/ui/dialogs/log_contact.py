"""F2: log a contact attempt — channel, direction, outcome, note and the next step.

When the customer has an open instalment reminder, promise check or callback, the
next step starts as "keep: instalment reminder 29 Dec": a contact does not undo what
was agreed. The agent can still choose another step, which then replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QComboBox, QPlainTextEdit, QWidget

from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome, TimeOfDay
from agent_desk.domain.scheduling import suggest_retry
from agent_desk.domain.scripts import ScriptOutcome
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.dialogs.steps import step_due_edit, step_kind_combo
from agent_desk.ui.labels import CHANNELS, DIRECTIONS, NEXT_STEPS, OUTCOMES, Words
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile


@dataclass(frozen=True)
class ContactInput:
    channel: Channel
    direction: Direction
    outcome: Outcome
    note: str
    next_step_kind: NextStepKind | None
    next_step_due: datetime
    #: Keep the open instalment reminder, promise check or callback (no new step).
    keep_next_step: bool = False
    #: When the call began (click-to-call); the attempt is recorded at that time.
    started_at: datetime | None = None


def failed_attempts(file: CustomerFile) -> list[datetime]:
    found = []
    for item in file.timeline:
        if item.kind != "contact" or item.summary not in Outcome.__members__.values():
            continue
        if Outcome(item.summary).is_failed_attempt:
            found.append(item.at.astimezone())
    return found


class LogContactDialog(FormDialog):
    def __init__(
        self, words: Words, file: CustomerFile, now: datetime, parent: QWidget | None = None
    ) -> None:
        tr = words.tr
        super().__init__(tr, tr("Log contact with {name}", name=file.name), parent)
        self.setObjectName("logContactDialog")
        self.words = words
        self.now = now.astimezone()
        best = file.best_time if file.best_time in TimeOfDay.__members__.values() else None
        self.suggested = suggest_retry(
            self.now, failed_attempts(file), TimeOfDay(best) if best else None
        )
        self.channel = self._combo(words, CHANNELS, "channel")
        self.direction = self._combo(words, DIRECTIONS, "direction")
        self.outcome = self._combo(words, OUTCOMES, "outcome")
        self.note = QPlainTextEdit()
        self.note.setObjectName("note")
        self.note.setPlaceholderText(tr("What was said or agreed, in a few words"))
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(96)
        self.step_kind = step_kind_combo(words)
        self.step_due = step_due_edit(self.suggested)
        self.kept_due = self._offer_keep(file)
        self.retry_hint = tr(
            "Suggested retry: {when}, a different part of the day than the last failed attempt.",
            when=words.moment(self.suggested),
        )
        self.hint = PlainLabel(self.retry_hint)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.add_field(tr("Channel"), self.channel)
        self.add_field(tr("Direction"), self.direction)
        self.add_field(tr("Outcome"), self.outcome, "outcome")
        self.add_field(tr("Note"), self.note, "note")
        self.add_field(tr("Next step"), self.step_kind, "next_step")
        self.add_field(tr("When"), self.step_due, "next_step_due")
        self.form.addRow(PlainLabel(), self.hint)
        self.save.setText(tr("Save contact"))
        self.started_at: datetime | None = None
        self.outcome.currentIndexChanged.connect(self._outcome_changed)
        self.step_kind.currentIndexChanged.connect(self._step_changed)
        self._step_changed()

    def _offer_keep(self, file: CustomerFile) -> datetime | None:
        """Offer (and choose) "keep: …" when the customer has a step a contact keeps."""
        from agent_desk.services.activity import KEEP, KEPT_STEPS

        kind, due = file.next_step_kind, file.next_step_due_at
        # As the service: only a step still ahead is kept (one due now is this contact).
        if kind not in {k.value for k in KEPT_STEPS} or due is None or due <= self.now:
            return None
        due = due.astimezone()
        text = self.tr_(
            "keep: {step} {day}",
            step=self.words.code(NEXT_STEPS, kind),
            day=self.words.day(due.date()),
        )
        self.step_kind.insertItem(1, text, KEEP)
        self.step_kind.setCurrentIndex(1)
        return due

    def _step_changed(self) -> None:
        """A kept step keeps its own time: the time field shows it and cannot change it."""
        from agent_desk.services.activity import KEEP

        keep = self.step_kind.currentData() == KEEP
        if self.kept_due is None or keep == (not self.step_due.isEnabled()):
            return
        self.step_due.setEnabled(not keep)
        self.step_due.setDateTime(QDateTime(self.kept_due if keep else self.suggested))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        self.hint.setText(
            self.tr_("It stays as agreed; choose another next step only to replace it.")
            if keep
            else self.retry_hint
        )

    @staticmethod
    def _combo(words: Words, table: dict[str, str], name: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        for code in table:
            combo.addItem(words.code(table, code), code)
        return combo

    def choose(self, combo: QComboBox, code: str | None) -> None:
        index = combo.findData(code)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _outcome_changed(self) -> None:
        outcome = Outcome(self.outcome.currentData())
        if outcome.is_failed_attempt and self.step_kind.currentData() in (None, "retry"):
            self.choose(self.step_kind, NextStepKind.RETRY.value)
            self.step_due.setDateTime(QDateTime(self.suggested))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs

    def prefill(self, outcome: ScriptOutcome) -> None:
        """Fill in what the call script recorded, so nothing is typed twice."""
        tr, words = self.tr_, self.words
        if outcome.outcome_code in OUTCOMES:
            self.choose(self.outcome, outcome.outcome_code)
        elif outcome.identity_confirmed:
            self.choose(self.outcome, Outcome.REACHED.value)
        else:
            # The script ran but identity was never confirmed: whoever answered, the
            # desk cannot say it reached the customer.
            self.choose(self.outcome, Outcome.THIRD_PARTY.value)
        if outcome.script_id == "inbound_call":
            self.choose(self.direction, Direction.INBOUND.value)
        lines: list[str] = []
        if outcome.vulnerability_disclosed and outcome.vulnerability_consent:
            lines.append(
                tr(
                    "Shared a difficult situation and agreed that we record it: {note}",
                    note=outcome.vulnerability_note or tr("(no details)"),
                )
            )
        if outcome.promise_requested or outcome.promise_amount_cents:
            amount = (
                words.money(outcome.promise_amount_cents)
                if outcome.promise_amount_cents
                else tr("(amount not noted)")
            )
            when = (
                words.day(outcome.promise_date) if outcome.promise_date else tr("(date not noted)")
            )
            lines.append(tr("Promise to pay {amount} on {date}.", amount=amount, date=when))
        if outcome.debt_help_referral:
            lines.append(tr("Referred to free debt help."))
        if outcome.pause_requested:
            if outcome.pause_requested_until:
                lines.append(
                    tr(
                        "Asked to pause collection until {date}.",
                        date=words.day(outcome.pause_requested_until),
                    )
                )
            else:
                lines.append(tr("Asked to pause collection."))
        if outcome.callback_requested:
            lines.append(tr("Asked to be called back."))
        if outcome.note:
            lines.append(outcome.note)
        if lines:
            self.note.setPlainText("\n".join(lines))
        step_due = None
        if outcome.promise_date is not None:
            self.choose(self.step_kind, NextStepKind.WAIT_PAYMENT.value)
            step_due = datetime.combine(outcome.promise_date + timedelta(days=1), self.now.timetz())
        elif outcome.callback_requested:
            self.choose(self.step_kind, NextStepKind.CALLBACK.value)
        if step_due is not None and step_due > self.now:
            self.step_due.setDateTime(QDateTime(step_due))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs

    def start_call(self, number: str, started: datetime) -> None:
        """Click-to-call: an outgoing phone call to ``number`` that began at ``started``."""
        self.started_at = started.astimezone()
        self.choose(self.channel, Channel.PHONE.value)
        self.choose(self.direction, Direction.OUTBOUND.value)
        self.notice.setText(
            self.tr_(
                "☎ Call to {number} started at {time}.",
                number=number,
                time=self.started_at.strftime("%H:%M"),
            )
        )
        self.notice.show()
        self.outcome.setFocus()

    def payload(self) -> ContactInput | None:
        from agent_desk.services.activity import KEEP

        kind = self.step_kind.currentData()
        keep = kind == KEEP
        due = self.step_due.dateTime().toPython()
        assert isinstance(due, datetime)
        return ContactInput(
            channel=Channel(self.channel.currentData()),
            direction=Direction(self.direction.currentData()),
            outcome=Outcome(self.outcome.currentData()),
            note=self.note.toPlainText(),
            next_step_kind=NextStepKind(kind) if kind and not keep else None,
            next_step_due=due.astimezone(),
            keep_next_step=keep,
            started_at=self.started_at,
        )
