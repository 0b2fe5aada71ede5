"""F4's left top: what the books say is owed, and the waivers of its costs and interest.

Shows :func:`agent_desk.domain.arrangement_summary.owed_notes`; decides nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.arrangement_plan import Message, Owed
from agent_desk.domain.arrangement_summary import OwedNotes
from agent_desk.i18n import Translator
from agent_desk.ui.plain import PlainLabel

__all__ = ["RIGHT", "OwedBox", "WaiverBox", "error_line", "hint_row"]

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
Say = Callable[[Message], str]


def hint_row(widget: QWidget, hint: QLabel) -> QWidget:
    """An input (or value) with a grey hint to its right."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(10)
    widget.setMaximumWidth(160)
    row.addWidget(widget)
    row.addWidget(hint, 1)
    return box


def error_line() -> QLabel:
    """A field's (initially hidden) error line."""
    label = PlainLabel()
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.hide()
    return label


class OwedBox(QWidget):
    """The total owed, its parts, why there are costs, since when interest runs."""

    def __init__(self, tr: Translator, money: Callable[[int], str], say: Say) -> None:
        super().__init__()
        self.tr_, self.money, self.say = tr, money, say
        self.amount = PlainLabel(tr("Reading the books…"))
        self.amount.setObjectName("owedTotal")
        self.amount.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # as high as an input, so the total sits on the line of its label
        self.amount.setMinimumHeight(QLineEdit().sizeHint().height())
        self.amount_parts = QWidget()
        self.amount_parts.setObjectName("amountParts")
        parts = QGridLayout(self.amount_parts)
        parts.setContentsMargins(0, 2, 0, 0)
        parts.setHorizontalSpacing(12)
        parts.setVerticalSpacing(1)
        self.principal_part, self.costs_part, self.interest_part = (PlainLabel() for _ in range(3))
        self.costs_note, self.interest_note = PlainLabel(), PlainLabel()
        rows = (
            (tr("Principal"), self.principal_part),
            (tr("Collection costs"), self.costs_part),
            (tr("Statutory interest"), self.interest_part),
        )
        for row, (text, value) in enumerate(rows):
            caption = PlainLabel(text)
            caption.setObjectName("hint")
            value.setObjectName("amountPart")
            value.setAlignment(RIGHT)
            parts.addWidget(caption, row * 2, 0)
            parts.addWidget(value, row * 2, 1)
        # Why there are costs (or none) can be long in Dutch: a line of its own.
        self.costs_note.setObjectName("partNote")
        self.costs_note.setWordWrap(True)
        parts.addWidget(self.costs_note, 3, 0, 1, 3)
        self.interest_note.setObjectName("hint")
        self.interest_note.setWordWrap(True)  # "since … · provisional from …" is read in full
        parts.addWidget(self.interest_note, 4, 2)
        parts.setColumnStretch(2, 1)
        self.later_line = PlainLabel()
        self.later_line.setObjectName("partNote")
        self.later_line.setWordWrap(True)
        self.later_line.hide()
        parts.addWidget(self.later_line, 6, 0, 1, 3)
        self.amount_parts.hide()
        owed_col = QVBoxLayout(self)
        owed_col.setContentsMargins(0, 0, 0, 0)
        owed_col.setSpacing(0)
        source = PlainLabel(tr("from the books, up to today"))
        source.setObjectName("hint")
        owed_col.addWidget(hint_row(self.amount, source))
        owed_col.addWidget(self.amount_parts)

    def show_owed(self, owed: Owed, notes: OwedNotes) -> None:
        money, say = self.money, self.say
        self.amount.setText(money(owed.total))
        self.principal_part.setText(money(owed.principal))
        self.costs_part.setText(money(notes.costs) if notes.costs is not None else self.tr_("none"))
        self.costs_note.setText(say(notes.costs_note))
        self.interest_part.setText(money(notes.interest))
        self.interest_note.setText(" · ".join(say(m) for m in notes.interest_notes))
        tooltip = notes.interest_tooltip
        self.interest_note.setToolTip(say(tooltip) if tooltip is not None else "")
        self.later_line.setText(say(notes.later) if notes.later is not None else "")
        self.later_line.setVisible(notes.later is not None)
        self.amount_parts.show()


class WaiverBox(QWidget):
    """The two waivers, each with its error line (``costs``, ``interest``)."""

    def __init__(self, tr: Translator, say: Say) -> None:
        super().__init__()
        self.say = say
        self.waive_costs = QCheckBox()
        self.waive_costs.setObjectName("waiveCosts")
        self.waive_interest = QCheckBox()
        self.waive_interest.setObjectName("waiveInterest")
        self.waive_costs.setText(tr("No collection costs"))
        self.waive_interest.setText(tr("No statutory interest"))
        self.waive_costs.setEnabled(False)
        self.waive_interest.setEnabled(False)
        self.costs_error, self.interest_error = error_line(), error_line()
        charges_col = QVBoxLayout(self)
        charges_col.setContentsMargins(0, 0, 0, 0)
        charges_col.setSpacing(4)
        charges_col.addWidget(self.waive_costs)
        charges_col.addWidget(self.costs_error)
        charges_col.addWidget(self.waive_interest)
        charges_col.addWidget(self.interest_error)

    def show_owed(self, notes: OwedNotes) -> None:
        """What may be waived: what is zero cannot be (and is not left ticked)."""
        for box, label, allowed in (
            (self.waive_costs, notes.waive_costs, notes.can_waive_costs),
            (self.waive_interest, notes.waive_interest, notes.can_waive_interest),
        ):
            box.setText(self.say(label))
            if not allowed:
                box.setChecked(False)
            box.setEnabled(allowed)
