"""An arrangement's instalments on the customer file: paid / due / missed, icon and word.

Shows the arrangement that matters now (one running or waiting for approval, else the
most recent), with a one-line summary and a short table scrolled to the first
instalment still to be paid. Colour only follows the word and the icon.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.codes import ArrangementStatus, InstalmentStatus
from agent_desk.i18n import N_
from agent_desk.ui.labels import ARRANGEMENT_STATUS, Words
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.services.customer_file import ArrangementLine, InstalmentLine

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
ROW_HEIGHT = 26
VISIBLE_ROWS = 4

# state -> (icon, word, colour); "due" is open and not yet late, "late" is open and
# past its due date but still within the grace days before it counts as missed.
STATES: dict[str, tuple[str, str, str]] = {
    "paid": ("✓", N_("paid"), "#2f6b3a"),
    "part": ("◐", N_("part paid"), "#7f450c"),
    "due": ("○", N_("due"), "#3c4a50"),
    "late": ("◷", N_("late"), "#7f450c"),
    "missed": ("⚠", N_("missed"), "#a3341f"),
}
_RUNNING = (ArrangementStatus.ACTIVE.value, ArrangementStatus.PENDING_APPROVAL.value)


def instalment_state(line: InstalmentLine, today: date) -> str:
    """One of ``STATES``: the nightly run's status, refined for the agent."""
    if line.status == InstalmentStatus.PAID.value or line.paid_cents >= line.amount_cents:
        return "paid"
    if line.status == InstalmentStatus.MISSED.value:
        return "missed"
    if line.due_date < today:
        return "late"
    if line.paid_cents > 0:
        return "part"
    return "due"


def current_arrangement(arrangements: Sequence[ArrangementLine]) -> ArrangementLine | None:
    """The running one (active or waiting for approval), else the most recent."""
    for line in arrangements:
        if line.status in _RUNNING:
            return line
    return max(arrangements, key=lambda a: a.created_at) if arrangements else None


class InstalmentsWidget(QWidget):
    def __init__(self, words: Words, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.setObjectName("instalmentsWidget")
        self.words = words
        self.clock = clock
        tr = words.tr
        self.arrangement: ArrangementLine | None = None
        self.title = PlainLabel(tr("Arrangement"))
        self.title.setObjectName("sectionTitle")
        self.summary = PlainLabel()
        self.summary.setObjectName("arrangementSummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("instalmentsTable")
        self.table.setHorizontalHeaderLabels(
            [tr("No."), tr("Due"), tr("Amount"), tr("Paid"), tr("Status")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for column, width in ((0, 54), (1, 110), (2, 100), (3, 100)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self.hide()

    def show_arrangements(self, arrangements: Sequence[ArrangementLine]) -> None:
        line = current_arrangement(arrangements)
        self.arrangement = line
        if line is None:
            self.table.setRowCount(0)
            self.hide()
            return
        tr, words = self.words.tr, self.words
        today = self.clock().date()
        states = [instalment_state(i, today) for i in line.instalments]
        parts = [
            words.code(ARRANGEMENT_STATUS, line.status),
            tr(
                "{total} in {count} instalments",
                total=words.money(line.total_cents),
                count=len(line.instalments),
            ),
        ]
        paid = states.count("paid")
        missed = states.count("missed")
        parts.append(tr("{paid} of {count} paid", paid=paid, count=len(states)))
        if missed:
            parts.append(tr("⚠ {count} missed", count=missed))
        upcoming = next(
            (i for i, s in zip(line.instalments, states, strict=True) if s in ("due", "part")),
            None,
        )
        if upcoming is not None and line.status in _RUNNING:
            parts.append(
                tr(
                    "next: {amount} on {date}",
                    amount=words.money(upcoming.amount_cents - upcoming.paid_cents),
                    date=words.day(upcoming.due_date),
                )
            )
        self.summary.setText("  ·  ".join(parts))
        self._fill(line.instalments, states)
        self.show()

    def _fill(self, instalments: Sequence[InstalmentLine], states: list[str]) -> None:
        tr, words = self.words.tr, self.words
        self.table.setRowCount(len(instalments))
        first_open = None
        for row, (line, state) in enumerate(zip(instalments, states, strict=True)):
            icon, word, colour = STATES[state]
            number = tr("down payment") if line.number == 0 else str(line.number)
            cells = [
                number,
                words.day(line.due_date),
                words.money(line.amount_cents),
                words.money(line.paid_cents) if line.paid_cents else "",
                f"{icon} {tr(word)}",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (2, 3):
                    item.setTextAlignment(RIGHT)
                if column == 4:
                    item.setForeground(QBrush(QColor(colour)))
                    item.setData(Qt.ItemDataRole.UserRole, state)
                self.table.setItem(row, column, item)
            if first_open is None and state != "paid":
                first_open = row
        visible = min(max(len(instalments), 1), VISIBLE_ROWS)
        self.table.setFixedHeight(
            self.table.horizontalHeader().sizeHint().height() + ROW_HEIGHT * visible + 4
        )
        anchor = self.table.item(first_open, 0) if first_open is not None else None
        if anchor is not None:
            self.table.scrollToItem(anchor, QAbstractItemView.ScrollHint.PositionAtTop)

    def states(self) -> list[str]:
        """The state of each row, for tests and screen readers."""
        items = (self.table.item(row, 4) for row in range(self.table.rowCount()))
        return [str(item.data(Qt.ItemDataRole.UserRole)) for item in items if item is not None]
