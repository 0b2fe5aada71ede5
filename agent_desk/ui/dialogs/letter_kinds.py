"""F6's chooser: which letter, and for a confirmation which arrangement.

Shows :func:`agent_desk.domain.letter_choices.letter_options`: a kind that does not
apply is disabled and says why; every arrangement is listed, only those that may be
confirmed can be chosen, the others say why.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QButtonGroup, QComboBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from agent_desk.domain.arrangement_plan import Message
from agent_desk.domain.letter_choices import (
    ArrangementChoice,
    LetterOption,
    default_arrangement,
    letter_options,
)
from agent_desk.i18n import N_
from agent_desk.ui.labels import ARRANGEMENT_STATUS, Words
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.letters import LetterKind
    from agent_desk.services.customer_file import ArrangementLine, CustomerFile

__all__ = ["KINDS", "SHORT_STATUS", "LetterChooser", "arrangement_choices"]

KINDS: dict[LetterKind, tuple[str, str]] = {
    "arrangement": (
        N_("Arrangement confirmation"),
        N_("the agreed total and every instalment, and how to pay"),
    ),
    "fourteen_day": (
        N_("14-day letter"),
        N_("the last reminder before collection costs (art. 6:96 BW)"),
    ),
    "pause": (N_("Pause confirmation"), N_("collection is paused until a date, and why")),
    "debt_help": (N_("Debt-help referral"), N_("where to get free help with money worries")),
}
SHORT_STATUS: dict[str, str] = {
    "pending_approval": N_("awaiting approval"),
    "active": N_("running"),
    "completed": N_("paid in full"),
    "broken": N_("broken off"),
    "declined": N_("not approved"),
    "cancelled": N_("withdrawn"),
}


def arrangement_choices(lines: tuple[ArrangementLine, ...]) -> list[ArrangementChoice]:
    """The file's arrangements, each with the service's reason it gets no confirmation."""
    from agent_desk.services import letters as letter_service

    choices = []
    for line in lines:
        refusal = letter_service.confirmation_refusal(line.id, line.status)
        why = None if refusal is None else Message.of_error(refusal)
        choices.append(ArrangementChoice(line.id, line.created_at, why))
    return choices


class LetterChooser(QWidget):
    """The kinds as radio buttons with their hint or why-not, and the arrangement list."""

    def __init__(self, words: Words, file: CustomerFile, today: date) -> None:
        super().__init__()
        tr = words.tr
        self.words, self.tr_, self.file = words, tr, file
        arrangements = arrangement_choices(file.arrangements)
        self.arrangement_choices = {a.id: a for a in arrangements}
        self.choices: dict[LetterKind, LetterOption] = {
            option.kind: option
            for option in letter_options(
                today=today,
                arrears_cents=file.arrears_cents,
                paused_until=file.paused_until,
                arrangements=arrangements,
            )
        }
        self.kind_group = QButtonGroup(self)
        self.kinds: dict[LetterKind, QRadioButton] = {}
        self.reasons: dict[LetterKind, QLabel] = {}
        kinds_box = QVBoxLayout(self)
        kinds_box.setContentsMargins(0, 0, 0, 0)
        kinds_box.setSpacing(2)
        self.arrangement = QComboBox()
        self.arrangement.setObjectName("arrangementChoice")
        self.arrangement.setToolTip(tr("Which arrangement to confirm"))
        for kind, (label, hint) in KINDS.items():
            choice = self.choices[kind]
            reason = self.say(choice.why_not) if choice.why_not is not None else ""
            button = QRadioButton(tr(label))
            button.setObjectName(f"kind_{kind}")
            button.setEnabled(choice.available)
            button.setToolTip(reason or tr(hint))
            self.kind_group.addButton(button)
            self.kinds[kind] = button
            note = PlainLabel(tr(hint) if choice.available else "⊘ " + reason)
            note.setObjectName("hint")
            note.setWordWrap(True)
            note.setEnabled(choice.available)
            note.setToolTip(button.toolTip())
            self.reasons[kind] = note
            kinds_box.addWidget(button)
            detail = QVBoxLayout()
            detail.setContentsMargins(24, 0, 0, 0)
            detail.setSpacing(4)
            detail.addWidget(note)
            if kind == "arrangement":
                detail.addWidget(self.arrangement)
            kinds_box.addLayout(detail)
            kinds_box.addSpacing(10)
        self._fill_arrangements(arrangements)

    def say(self, message: Message) -> str:
        return message.text(self.tr_, money=self.words.money, day=self.words.day)

    def _fill_arrangements(self, arrangements: list[ArrangementChoice]) -> None:
        """Every arrangement is listed; only active ones can be chosen, the others say why."""
        words, tr = self.words, self.tr_
        chosen = default_arrangement(arrangements)
        model = self.arrangement.model()
        for line in sorted(
            self.file.arrangements, key=lambda a: (a.created_at, a.id), reverse=True
        ):
            count = len(line.instalments)
            text = tr(
                "{total} in {count} instalments · {status}",
                status=words.code(SHORT_STATUS, line.status),
                total=words.money(line.total_cents),
                count=count,
            )
            self.arrangement.addItem(text, line.id)
            index = self.arrangement.count() - 1
            made = tr(
                "{status}, made on {date}",
                status=words.code(ARRANGEMENT_STATUS, line.status),
                date=words.day(line.created_at.date()),
            )
            why = self.arrangement_choices[line.id].why_not
            why_not = self.say(why) if why is not None else ""
            self.arrangement.setItemData(
                index, f"{made}. {why_not}" if why_not else made, Qt.ItemDataRole.ToolTipRole
            )
            if why_not and isinstance(model, QStandardItemModel):
                item = model.item(index)
                if item is not None:
                    item.setEnabled(False)
            if chosen is not None and line.id == chosen.id:
                self.arrangement.setCurrentIndex(index)
        self.arrangement.setEnabled(False)
        self.arrangement.setVisible(bool(self.file.arrangements))

    # -- state ---------------------------------------------------------------------

    def first_available(self) -> LetterKind | None:
        return next((c.kind for c in self.choices.values() if c.available), None)

    def kind(self) -> LetterKind | None:
        for kind in KINDS:
            if self.kinds[kind].isChecked():
                return kind
        return None

    def arrangement_id(self) -> int | None:
        value = self.arrangement.currentData()
        return value if isinstance(value, int) else None

    def select_arrangement(self, arrangement_id: int) -> None:
        """Choose an arrangement without starting a preview (the kind's toggle does)."""
        index = self.arrangement.findData(arrangement_id)
        if index >= 0:
            self.arrangement.blockSignals(True)
            self.arrangement.setCurrentIndex(index)
            self.arrangement.blockSignals(False)

    def set_busy(self, busy: bool) -> None:
        for kind, button in self.kinds.items():
            button.setEnabled(self.choices[kind].available and not busy)
        self.arrangement.setEnabled(not busy and self.kind() == "arrangement")
