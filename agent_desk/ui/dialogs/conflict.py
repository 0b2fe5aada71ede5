"""A save met a colleague's newer change: show both side by side, lose nothing.

Left, "What your colleague changed" (read on the worker by
``services.conflicts.colleague_changes``); right, "What you were saving" — the agent's
typed values, read-only. "Save mine on the latest" (accept) saves the same values on
the fresh version; "Keep editing" (reject) goes back to the form with everything typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk.i18n import N_
from agent_desk.ui.dialogs.log_contact import ContactInput
from agent_desk.ui.dialogs.next_step import StepInput
from agent_desk.ui.dialogs.note import NoteInput
from agent_desk.ui.dialogs.pause import PauseInput
from agent_desk.ui.dialogs.promise import PromiseInput
from agent_desk.ui.labels import CHANNELS, NEXT_STEPS, OUTCOMES, Words
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.services.conflicts import ChangeLine

#: (action, entity) of an audit event → what it means in plain words.
EVENTS: dict[tuple[str, str], str] = {
    ("create", "promise_to_pay"): N_("recorded a promise to pay"),
    ("create", "note"): N_("added a note"),
    ("create", "contact_point"): N_("added contact details"),
    ("verify", "contact_point"): N_("checked the contact details"),
    ("verify", "customer"): N_("checked the contact details"),
    ("reassign", "customer"): N_("moved the customer to another agent"),
    ("create", "arrangement"): N_("proposed an arrangement"),
    ("approve", "arrangement"): N_("approved an arrangement"),
    ("decline", "arrangement"): N_("declined an arrangement"),
}


def describe(words: Words, line: ChangeLine) -> str:
    """One colleague change in the desk's language."""
    tr = words.tr
    if line.kind == "contact":
        text = tr(
            "logged a contact attempt ({channel}): {outcome}",
            channel=words.code(CHANNELS, line.channel),
            outcome=words.code(OUTCOMES, line.code),
        )
        return f"{text}\n“{line.detail}”" if line.detail else text
    if line.kind == "next_step":
        step = words.code(NEXT_STEPS, line.code)
        if line.due_at is None:
            return tr("set the next step: {step}", step=step)
        return tr("set the next step: {step}, {when}", step=step, when=words.moment(line.due_at))
    if line.kind == "pause":
        if line.until is None:
            return tr("ended the pause")
        return tr(
            "paused collection until {date}: {reason}",
            date=words.day(line.until),
            reason=line.detail,
        )
    known = EVENTS.get((line.action, line.entity))
    text = tr(known) if known else f"{line.action} {line.entity}".replace("_", " ")
    return f"{text}: {line.detail}" if line.detail else text


def typed_values(words: Words, value: object) -> list[tuple[str, str]]:
    """(label, value) rows of what the agent typed, as the form showed them."""
    tr = words.tr
    if isinstance(value, ContactInput):
        step = (
            tr(
                "{step}, {when}",
                step=words.code(NEXT_STEPS, value.next_step_kind),
                when=words.moment(value.next_step_due),
            )
            if value.next_step_kind is not None
            else tr("none")
        )
        return [
            (tr("Outcome"), words.code(OUTCOMES, value.outcome)),
            (tr("Channel"), words.code(CHANNELS, value.channel)),
            (tr("Note"), value.note),
            (tr("Next step"), step),
        ]
    if isinstance(value, PromiseInput):
        return [
            (tr("Amount"), words.money(value.amount_cents)),
            (tr("Date"), words.day(value.due_date)),
        ]
    if isinstance(value, PauseInput):
        until = words.day(value.until) if value.until is not None else tr("end the pause")
        return [(tr("Reason"), value.reason), (tr("Until"), until)]
    if isinstance(value, NoteInput):
        return [(tr("Note"), value.text)]
    if isinstance(value, StepInput):
        step = tr(
            "{step}, {when}",
            step=words.code(NEXT_STEPS, value.kind),
            when=words.moment(value.due_at),
        )
        return [(tr("Next step"), step), (tr("Note"), value.note)]
    plan = getattr(value, "plan", None)  # an arrangement (its dialog imports this one)
    instalments = getattr(plan, "instalments", None)
    if instalments:
        first, last = instalments[0], instalments[-1]
        amount, count = words.money(first.amount), len(instalments)
        terms = (
            tr("{count} instalments of {amount}", count=count, amount=amount)
            if first.amount == last.amount
            else tr(
                "{count} instalments of {amount}, the last {last}",
                count=count,
                amount=amount,
                last=words.money(last.amount),
            )
        )
        return [(tr("Arrangement"), terms), (tr("Date"), words.day(first.due))]
    return [(tr("What"), tr("your verification decisions"))]


class ConflictDialog(QDialog):
    """Accepted: save mine on the latest version; rejected: keep editing."""

    def __init__(
        self,
        words: Words,
        customer_name: str,
        changes: list[ChangeLine],
        typed: object,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        tr = words.tr
        self.setObjectName("conflictDialog")
        title = tr("A colleague changed {name}", name=customer_name)
        self.setWindowTitle(title)
        self.setMinimumWidth(760)
        heading = PlainLabel(title)
        heading.setObjectName("dialogTitle")
        heading.setWordWrap(True)
        explain = PlainLabel(
            tr(
                "Someone else saved changes to this customer while you were working. "
                "Nothing was overwritten and your text is kept. Compare, then save yours "
                "on the latest version or go back and edit it."
            )
        )
        explain.setWordWrap(True)

        theirs_box = QGroupBox(tr("What your colleague changed"))
        theirs_layout = QVBoxLayout(theirs_box)
        self.theirs = QListWidget()
        self.theirs.setObjectName("theirs")
        self.theirs.setWordWrap(True)
        self.theirs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.theirs.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        for line in changes:
            who = line.who or tr("Agent Desk")
            head = tr("{who}, {when}", who=who, when=words.moment(line.at))
            self.theirs.addItem(QListWidgetItem(f"{head}\n{describe(words, line)}"))
        if not changes:
            self.theirs.addItem(
                QListWidgetItem(
                    tr(
                        "The customer's details were changed; "
                        "the latest file is now on your screen."
                    )
                )
            )
        theirs_layout.addWidget(self.theirs)

        mine_box = QGroupBox(tr("What you were saving"))
        mine_form = QFormLayout(mine_box)
        self.mine: dict[str, QWidget] = {}
        for label, text in typed_values(words, typed):
            shown: QWidget
            if label == tr("Note"):
                note = QPlainTextEdit(text)
                note.setReadOnly(True)
                note.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
                note.setMaximumHeight(90)
                shown = note
            else:
                field = PlainLabel(text)
                field.setWordWrap(True)
                field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                shown = field
            self.mine[label] = shown
            mine_form.addRow(PlainLabel(label), shown)

        sides = QHBoxLayout()
        sides.addWidget(theirs_box, 1)
        sides.addWidget(mine_box, 1)

        self.save_mine = QPushButton(tr("Save mine on the latest"))
        self.save_mine.setObjectName("saveMine")
        self.keep_editing = QPushButton(tr("Keep editing"))
        self.keep_editing.setObjectName("keepEditing")
        self.keep_editing.setDefault(True)
        buttons = QDialogButtonBox()
        buttons.addButton(self.save_mine, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.keep_editing, QDialogButtonBox.ButtonRole.RejectRole)
        self.save_mine.clicked.connect(self.accept)
        self.keep_editing.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.addWidget(heading)
        layout.addWidget(explain)
        layout.addLayout(sides, 1)
        layout.addWidget(buttons)
        self.keep_editing.setFocus()

    def their_texts(self) -> list[str]:
        return [self.theirs.item(row).text() for row in range(self.theirs.count())]

    def mine_text(self, label: str) -> str:
        widget = self.mine.get(label)
        if isinstance(widget, QPlainTextEdit):
            return widget.toPlainText()
        return widget.text() if isinstance(widget, QLabel) else ""
