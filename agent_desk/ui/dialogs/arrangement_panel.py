"""F4's right side: the plan — headline, dates, charges, fit, policy and the schedule.

Shows :class:`agent_desk.domain.arrangement_summary.PlanSummary`; decides nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.arrangement_plan import Message, Money
from agent_desk.domain.arrangement_summary import Charged, PlanSummary
from agent_desk.domain.arrangements import Plan
from agent_desk.i18n import Translator
from agent_desk.ui.dialogs.arrangement_owed import RIGHT
from agent_desk.ui.labels import MONTHS
from agent_desk.ui.plain import PlainLabel

__all__ = ["PlanPanel"]


class PlanPanel(QFrame):
    """The plan as the inputs make it, recalculated as the agent types."""

    def __init__(
        self, tr: Translator, money: Callable[[int], str], say: Callable[[Message], str]
    ) -> None:
        super().__init__()
        self.tr_, self.money, self.say = tr, money, say
        self.setObjectName("planPanel")
        self.headline = PlainLabel()
        self.headline.setObjectName("planHeadline")
        self.headline.setWordWrap(True)
        self.dates_line = PlainLabel()
        self.dates_line.setObjectName("planDates")
        self.dates_line.setWordWrap(True)
        self.breakdown = QWidget()
        sums = QGridLayout(self.breakdown)
        sums.setContentsMargins(0, 6, 0, 2)
        sums.setHorizontalSpacing(12)
        sums.setVerticalSpacing(2)
        self.owed_value, self.costs_value, self.interest_value, self.total_value = (
            PlainLabel() for _ in range(4)
        )
        rows = (
            (tr("Principal"), self.owed_value),
            (tr("Collection costs"), self.costs_value),
            (tr("Statutory interest"), self.interest_value),
            (tr("Total to pay"), self.total_value),
        )
        for row, (text, value) in enumerate(rows):
            name = PlainLabel(text)
            value.setAlignment(RIGHT)
            if value is self.total_value:
                name.setObjectName("planTotal")
                value.setObjectName("planTotal")
                line = QFrame()
                line.setObjectName("rule")
                line.setFrameShape(QFrame.Shape.HLine)
                sums.addWidget(line, row, 0, 1, 2)
                row += 1
            sums.addWidget(name, row, 0)
            sums.addWidget(value, row, 1)
        sums.setColumnStretch(0, 1)
        self.fit_line = PlainLabel()
        self.fit_line.setObjectName("fitLine")
        self.fit_line.setWordWrap(False)
        self.policy_line = PlainLabel()
        self.policy_line.setObjectName("policyLine")
        self.policy_line.setWordWrap(False)
        self.schedule = self._schedule_table()
        right_col = QVBoxLayout(self)
        right_col.setContentsMargins(16, 12, 16, 12)
        right_col.setSpacing(4)
        title = PlainLabel(tr("The plan"))
        title.setObjectName("sectionTitle")
        right_col.addWidget(title)
        right_col.addWidget(self.headline)
        right_col.addWidget(self.dates_line)
        right_col.addWidget(self.breakdown)
        right_col.addSpacing(4)
        right_col.addWidget(self.fit_line)
        right_col.addWidget(self.policy_line)
        right_col.addSpacing(6)
        right_col.addWidget(self.schedule, 1)
        self.setMinimumWidth(400)

    def _schedule_table(self) -> QTableWidget:
        tr = self.tr_
        schedule = QTableWidget(0, 3)
        schedule.setObjectName("schedule")
        schedule.setAccessibleName(tr("Schedule"))
        schedule.setHorizontalHeaderLabels([tr("No."), tr("Due"), tr("Amount")])
        schedule.verticalHeader().setVisible(False)
        schedule.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        schedule.verticalHeader().setDefaultSectionSize(26)
        schedule.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        schedule.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        schedule.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        schedule.setShowGrid(False)
        schedule.setAlternatingRowColors(True)
        header = schedule.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        schedule.setColumnWidth(0, 110)
        schedule.setColumnWidth(2, 120)
        for column in range(3):
            item = schedule.horizontalHeaderItem(column)
            if item is not None:
                item.setTextAlignment(
                    RIGHT
                    if column == 2
                    else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                )
        return schedule

    # -- showing -------------------------------------------------------------------

    def show_nothing(self, reading: bool) -> None:
        """No plan: still reading the books, or an input to fix on the left."""
        tr = self.tr_
        self.schedule.setRowCount(0)
        self.headline.setText(tr("No plan yet"))
        self.dates_line.setText(
            tr("Reading what is owed from the books…")
            if reading
            else tr("Fix what is marked on the left to see the schedule.")
        )
        self.breakdown.hide()
        self.fit_line.setText("")
        self.policy_line.setText("")

    def show_plan(self, summary: PlanSummary, plan: Plan) -> None:
        say = self.say
        self.headline.setText(say(summary.headline))
        self.dates_line.setText(say(summary.dates))
        self.breakdown.show()
        self.owed_value.setText(self.money(summary.principal))
        self.costs_value.setText(self._charge(summary.costs))
        self.interest_value.setText(self._charge(summary.interest))
        self.total_value.setText(self.money(summary.total))
        for label, verdict in ((self.fit_line, summary.fit), (self.policy_line, summary.policy)):
            label.setText(say(verdict.message))
            label.setProperty("tone", verdict.tone.value)
        for label in (self.fit_line, self.policy_line):
            label.style().unpolish(label)
            label.style().polish(label)
        self._fill_schedule(plan)

    def _charge(self, charge: tuple[Charged, Money]) -> str:
        how, amount = charge
        if how is Charged.WAIVED:
            return self.tr_("waived")
        return self.money(amount) if how is Charged.AMOUNT else "—"

    def _fill_schedule(self, plan: Plan) -> None:
        tr, money = self.tr_, self.money
        self.schedule.setRowCount(plan.count)
        for row, item in enumerate(plan.instalments):
            cells = [
                tr("down payment") if item.number == 0 else str(item.number),
                self._full_date(item.due),
                money(item.amount),
            ]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column == 2:
                    cell.setTextAlignment(RIGHT)
                self.schedule.setItem(row, column, cell)

    def _full_date(self, value: date) -> str:
        """Always with the year: a schedule runs into next year."""
        return f"{value.day} {self.tr_(MONTHS[value.month - 1])} {value.year}"

    def schedule_rows(self) -> list[tuple[str, str, str]]:
        """The schedule as shown: (number, due, amount) per row."""

        def text(row: int, column: int) -> str:
            item = self.schedule.item(row, column)
            return item.text() if item is not None else ""

        return [(text(r, 0), text(r, 1), text(r, 2)) for r in range(self.schedule.rowCount())]
