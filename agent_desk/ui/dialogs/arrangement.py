"""F4: the arrangement calculator — a plan the customer can keep, exact to the cent.

Left, what the books say is owed (read-only: the outstanding principal of the claims
due so far, the collection costs a 14-day letter made owed, the statutory interest up
to today) and what the agent chooses: an optional down payment, how to plan (number of
instalments, amount per instalment or what the customer can pay: income minus
essential expenses), the first due date and how often, and whether to waive the costs
and the interest. Right, the schedule, recalculated as the agent types (the domain is
pure and fast, so it runs on the GUI thread after a short pause in typing), with the
end date, the total, the capacity fit and whether the plan is within policy. Every
problem is said in words beside the field that causes it.

The rules are ``domain.arrangement_plan``'s, the same the service and the CLI use.
The figures are read from the books on the worker when the dialog opens; "Agree"
saves through ``services.arrangements.agree_arrangement``, which works them out again
and refuses if they changed meanwhile (the dialog then reads them again). A plan
outside policy needs a reason and then waits for a supervisor; the agent is told so.
A plan above what the customer can pay is never saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.actor import Actor
from agent_desk.domain.arrangement_plan import (
    Message,
    Mode,
    Owed,
    PlanResult,
    Terms,
    TermsText,
    calculate,
    default_first_due,
)
from agent_desk.domain.arrangements import MAX_INSTALMENTS_ANY_PLAN, Frequency, Plan
from agent_desk.domain.money import Cents, cents_to_decimal
from agent_desk.domain.policy import ArrangementPolicy, load_default_policy
from agent_desk.errors import AgentDeskError, ConflictError, ValidationError
from agent_desk.i18n import N_
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.labels import MONTHS, Words
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.prompter import Prompter
from agent_desk.ui.typed_dates import TypedDateEdit
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.customer_file import CustomerFile

__all__ = ["FREQUENCIES", "ArrangementDesk", "ArrangementDialog", "ArrangementInput", "Mode"]

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
DEBOUNCE_MS = 150

FREQUENCIES: dict[Frequency, str] = {
    Frequency.MONTHLY: N_("monthly"),
    Frequency.FOUR_WEEKLY: N_("every four weeks"),
    Frequency.FORTNIGHTLY: N_("every two weeks"),
    Frequency.WEEKLY: N_("weekly"),
}
PER_PERIOD: dict[Frequency, str] = {
    Frequency.MONTHLY: N_("{amount} a month"),
    Frequency.FOUR_WEEKLY: N_("{amount} per four weeks"),
    Frequency.FORTNIGHTLY: N_("{amount} per two weeks"),
    Frequency.WEEKLY: N_("{amount} a week"),
}


def amount_text(cents: Cents, lang: str) -> str:
    """An amount as the agent would type it: ``1000,00`` in Dutch, ``1000.00`` in English."""
    text = str(cents_to_decimal(cents))
    return text.replace(".", ",") if lang == "nl" else text


@dataclass(frozen=True)
class ArrangementInput:
    """What the dialog asks the service to agree, and the figures it showed."""

    terms: Terms
    owed: Owed
    plan: Plan
    approval_reason: str | None
    needs_approval: bool


class ArrangementDialog(FormDialog):
    recalculated = Signal()
    figures_loaded = Signal()

    def __init__(
        self,
        words: Words,
        file: CustomerFile,
        now: datetime,
        parent: QWidget | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        policy: ArrangementPolicy | None = None,
        owed: Owed | None = None,
    ) -> None:
        tr = words.tr
        super().__init__(tr, tr("Payment arrangement with {name}", name=file.name), parent)
        self.setObjectName("arrangementDialog")
        self.setMinimumWidth(1000)
        self.words = words
        self.file = file
        self.today = now.date()
        self.policy = policy or load_default_policy()
        self.owed: Owed | None = None  # read from the books on the worker (set_owed)
        self.calculation: PlanResult | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.recalculate)
        self._build_inputs()
        self._build_schedule()
        self._arrange()
        self.save.setText(tr("Agree arrangement"))
        self._prefill(context or {})
        self._connect()
        running = [a for a in file.arrangements if a.status in ("active", "pending_approval")]
        if running:
            self.show_notice(
                tr(
                    "This customer already has an arrangement running or waiting for "
                    "approval; it must end or be declined before a new one is agreed."
                )
            )
            self.blocked = True
        else:
            self.blocked = False
        if owed is not None:
            self.set_owed(owed)
        else:
            self.recalculate()

    # -- building ------------------------------------------------------------------

    def _error_label(self, *fields: str) -> QLabel:
        label = PlainLabel()
        label.setObjectName("fieldError")
        label.setWordWrap(True)
        label.hide()
        for name in fields:
            self.errors[name] = label
        return label

    def _build_inputs(self) -> None:
        tr = self.tr_
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
        owed_box = QWidget()
        owed_col = QVBoxLayout(owed_box)
        owed_col.setContentsMargins(0, 0, 0, 0)
        owed_col.setSpacing(0)
        source = PlainLabel(tr("from the books, up to today"))
        source.setObjectName("hint")
        owed_col.addWidget(self._row(self.amount, source))
        owed_col.addWidget(self.amount_parts)
        self.add_field(tr("Owed"), owed_box, "amount")

        self.down_payment = QLineEdit()
        self.down_payment.setObjectName("downPayment")
        self.down_payment.setPlaceholderText(tr("optional"))
        down_hint = PlainLabel(tr("paid on the first date"))
        down_hint.setObjectName("hint")
        self.add_field(
            tr("Down payment (€)"), self._row(self.down_payment, down_hint), "down_payment"
        )

        # How to plan: three ways, each with its own input and its own error line.
        self.modes = QButtonGroup(self)
        self.by_count = QRadioButton(tr("Number of instalments"))
        self.by_count.setObjectName("byCount")
        self.by_amount = QRadioButton(tr("Amount per instalment"))
        self.by_amount.setObjectName("byAmount")
        self.by_capacity = QRadioButton(tr("What the customer can pay"))
        self.by_capacity.setObjectName("byCapacity")
        for number, button in enumerate((self.by_count, self.by_amount, self.by_capacity)):
            self.modes.addButton(button, number)
        self.count = QSpinBox()
        self.count.setObjectName("instalments")
        self.count.setRange(0, MAX_INSTALMENTS_ANY_PLAN)
        self.count.setValue(6)
        self.count.setAccelerated(True)
        self.per_instalment = QLineEdit()
        self.per_instalment.setObjectName("perInstalment")
        self.per_instalment.setPlaceholderText(tr("e.g. 50.00"))
        modes = QWidget()
        grid = QGridLayout(modes)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        for row, (button, widget, name) in enumerate(
            (
                (self.by_count, self.count, "instalments"),
                (self.by_amount, self.per_instalment, "per_instalment"),
                (self.by_capacity, None, ""),
            )
        ):
            grid.addWidget(button, row * 2, 0)
            if widget is not None:
                grid.addWidget(widget, row * 2, 1)
            if name:
                grid.addWidget(self._error_label(name), row * 2 + 1, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        self.count.setFixedWidth(90)
        self.per_instalment.setFixedWidth(120)
        self.form.addRow(PlainLabel(tr("Plan by")), modes)

        self.income = QLineEdit()
        self.income.setObjectName("income")
        self.income.setPlaceholderText(tr("net, per month"))
        self.expenses = QLineEdit()
        self.expenses.setObjectName("expenses")
        self.expenses.setPlaceholderText(tr("rent, energy, food…"))
        self.capacity_line = PlainLabel()
        self.capacity_line.setObjectName("capacityLine")
        self.capacity_line.setWordWrap(True)
        budget = QWidget()
        budget_grid = QGridLayout(budget)
        budget_grid.setContentsMargins(0, 0, 0, 0)
        budget_grid.setHorizontalSpacing(8)
        budget_grid.setVerticalSpacing(2)
        budget_grid.addWidget(self.income, 0, 0)
        minus = PlainLabel("−")
        budget_grid.addWidget(minus, 0, 1)
        budget_grid.addWidget(self.expenses, 0, 2)
        budget_grid.addWidget(self.capacity_line, 1, 0, 1, 3)
        budget_grid.addWidget(self._error_label("capacity"), 2, 0, 1, 3)
        self.form.addRow(PlainLabel(tr("Income − expenses (€)")), budget)

        self.start = TypedDateEdit()
        self.start.setObjectName("firstDue")
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("dd-MM-yyyy")
        self.start.setMinimumDate(QDate(self.today))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        self.start.setDate(QDate(default_first_due(self.today)))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        self.frequency = QComboBox()
        self.frequency.setObjectName("frequency")
        for code, label in FREQUENCIES.items():
            self.frequency.addItem(tr(label), code.value)
        when = QWidget()
        when_row = QHBoxLayout(when)
        when_row.setContentsMargins(0, 0, 0, 0)
        when_row.setSpacing(8)
        when_row.addWidget(self.start)
        when_row.addWidget(self.frequency, 1)
        self.add_field(tr("First due, then"), when, "start", "frequency")

        self.waive_costs = QCheckBox()
        self.waive_costs.setObjectName("waiveCosts")
        self.waive_interest = QCheckBox()
        self.waive_interest.setObjectName("waiveInterest")
        self.waive_costs.setText(tr("No collection costs"))
        self.waive_interest.setText(tr("No statutory interest"))
        self.waive_costs.setEnabled(False)
        self.waive_interest.setEnabled(False)
        charges_box = QWidget()
        charges_col = QVBoxLayout(charges_box)
        charges_col.setContentsMargins(0, 0, 0, 0)
        charges_col.setSpacing(4)
        charges_col.addWidget(self.waive_costs)
        charges_col.addWidget(self._error_label("costs"))
        charges_col.addWidget(self.waive_interest)
        charges_col.addWidget(self._error_label("interest"))
        self.form.addRow(PlainLabel(tr("Costs and interest")), charges_box)

        self.reason = QPlainTextEdit()
        self.reason.setObjectName("approvalReason")
        self.reason.setPlaceholderText(
            tr("Why does this customer need this plan? A supervisor reads this.")
        )
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(64)
        self.add_field(tr("Reason for approval"), self.reason, "approval_reason")
        self._reason_row = self.form.rowCount() - 1

    @staticmethod
    def _row(widget: QWidget, hint: QLabel) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        widget.setMaximumWidth(160)
        row.addWidget(widget)
        row.addWidget(hint, 1)
        return box

    def _build_schedule(self) -> None:
        tr = self.tr_
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
        self.schedule = QTableWidget(0, 3)
        self.schedule.setObjectName("schedule")
        self.schedule.setAccessibleName(tr("Schedule"))
        self.schedule.setHorizontalHeaderLabels([tr("No."), tr("Due"), tr("Amount")])
        self.schedule.verticalHeader().setVisible(False)
        self.schedule.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.schedule.verticalHeader().setDefaultSectionSize(26)
        self.schedule.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.schedule.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.schedule.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.schedule.setShowGrid(False)
        self.schedule.setAlternatingRowColors(True)
        header = self.schedule.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.schedule.setColumnWidth(0, 110)
        self.schedule.setColumnWidth(2, 120)
        for column in range(3):
            item = self.schedule.horizontalHeaderItem(column)
            if item is not None:
                item.setTextAlignment(
                    RIGHT
                    if column == 2
                    else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                )

    def _arrange(self) -> None:
        """Inputs left, the plan right; the form dialog's column becomes the left one."""
        tr = self.tr_
        outer = self.layout()
        assert isinstance(outer, QVBoxLayout)
        outer.removeItem(self.form)
        for index in reversed(range(outer.count())):
            spacer = outer.itemAt(index)
            if spacer is not None and spacer.spacerItem() is not None:
                outer.removeItem(spacer)  # the schedule takes the height instead
        left = QWidget()
        left.setObjectName("calculatorInputs")
        left_col = QVBoxLayout(left)
        left_col.setContentsMargins(0, 0, 0, 0)
        left_col.addLayout(self.form)
        left_col.addStretch(1)
        left.setMinimumWidth(520)
        right = QFrame()
        right.setObjectName("planPanel")
        right_col = QVBoxLayout(right)
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
        right.setMinimumWidth(400)
        columns = QHBoxLayout()
        columns.setSpacing(18)
        columns.addWidget(left, 11)
        columns.addWidget(right, 9)
        outer.insertLayout(2, columns, 1)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.setStyleSheet(
            "QFrame#planPanel { background: #ffffff; border: 1px solid #e3e7e8;"
            " border-radius: 6px; }"
            "QLabel#planHeadline { font-size: 13pt; font-weight: bold; color: #14262b; }"
            "QLabel#planDates { color: #3c4a50; }"
            "QLabel#planTotal { font-weight: bold; color: #14262b; }"
            "QLabel#owedTotal { font-size: 12pt; font-weight: bold; color: #14262b; }"
            "QLabel#partNote { color: #5b6770; font-style: italic; padding-left: 12px; }"
            "QLabel#fitLine[tone='ok'], QLabel#policyLine[tone='ok'] { color: #2f6b3a; }"
            "QLabel#fitLine[tone='warn'], QLabel#policyLine[tone='warn'] {"
            " color: #7f450c; font-weight: bold; }"
            "QLabel#fitLine[tone='bad'] { color: #a3341f; font-weight: bold; }"
            "QLabel#fitLine[tone='unknown'] { color: #5b6770; }"
        )
        self.resize(1040, 680)

    def _prefill(self, context: Mapping[str, Any]) -> None:
        lang = self.words.lang
        self.by_count.setChecked(True)
        income, expenses = context.get("income_cents"), context.get("expenses_cents")
        capacity = context.get("capacity_cents")
        if isinstance(income, int) and income > 0:
            self.income.setText(amount_text(income, lang))
            if isinstance(expenses, int) and expenses >= 0:
                self.expenses.setText(amount_text(expenses, lang))
        elif isinstance(capacity, int) and capacity > 0:
            self.income.setText(amount_text(capacity, lang))
            self.expenses.setText(amount_text(0, lang))
        if self.income.text():
            self.by_capacity.setChecked(True)

    def _connect(self) -> None:
        for edit in (
            self.down_payment,
            self.per_instalment,
            self.income,
            self.expenses,
        ):
            edit.textChanged.connect(self.schedule_recalculation)
        self.count.valueChanged.connect(self.schedule_recalculation)
        self.start.dateChanged.connect(self.schedule_recalculation)
        self.frequency.currentIndexChanged.connect(self.schedule_recalculation)
        self.waive_costs.toggled.connect(self.schedule_recalculation)
        self.waive_interest.toggled.connect(self.schedule_recalculation)
        self.modes.idToggled.connect(self._mode_toggled)

    def _mode_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            mode = self.mode()
            self.count.setEnabled(mode is Mode.COUNT)
            self.per_instalment.setEnabled(mode is Mode.AMOUNT)
            if mode is Mode.AMOUNT and not self.per_instalment.text().strip():
                self.per_instalment.setFocus()
            elif mode is Mode.CAPACITY and not self.income.text().strip():
                self.income.setFocus()
            self.schedule_recalculation()

    # -- state ---------------------------------------------------------------------

    def mode(self) -> Mode:
        return (Mode.COUNT, Mode.AMOUNT, Mode.CAPACITY)[max(self.modes.checkedId(), 0)]

    def set_mode(self, mode: Mode) -> None:
        {Mode.COUNT: self.by_count, Mode.AMOUNT: self.by_amount, Mode.CAPACITY: self.by_capacity}[
            mode
        ].setChecked(True)

    def input(self) -> TermsText:
        start = self.start.date().toPython()
        assert isinstance(start, date)
        return TermsText(
            mode=self.mode(),
            start=start,
            frequency=Frequency(self.frequency.currentData()),
            count=self.count.value(),
            per_instalment=self.per_instalment.text(),
            income=self.income.text(),
            expenses=self.expenses.text(),
            down_payment=self.down_payment.text(),
            waive_costs=self.waive_costs.isChecked(),
            waive_interest=self.waive_interest.isChecked(),
        )

    def set_owed(self, owed: Owed) -> None:
        """The figures from the books (on opening, and again when they changed)."""
        tr, words = self.tr_, self.words
        self.owed = owed
        self.amount.setText(words.money(owed.total))
        self.principal_part.setText(words.money(owed.principal))
        if owed.costs:
            self.costs_part.setText(words.money(owed.costs))
            self.costs_note.setText(tr("after an unpaid 14-day letter"))
            self.waive_costs.setText(
                tr("Waive {amount} collection costs (BIK)", amount=words.money(owed.costs))
            )
        else:
            self.costs_part.setText(tr("none"))
            self.costs_note.setText(tr("no 14-day letter has run out"))
            self.waive_costs.setText(tr("No collection costs"))
            self.waive_costs.setChecked(False)
        self.waive_costs.setEnabled(owed.costs > 0)
        self.interest_part.setText(words.money(owed.interest))
        if owed.interest and owed.interest_since is not None:
            self.interest_note.setText(tr("since {date}", date=words.day(owed.interest_since)))
            self.waive_interest.setText(
                tr(
                    "Waive {amount} statutory interest since {date}",
                    amount=words.money(owed.interest),
                    date=words.day(owed.interest_since),
                )
            )
        else:
            self.interest_note.setText("")
            self.waive_interest.setText(tr("No statutory interest"))
            self.waive_interest.setChecked(False)
        self.waive_interest.setEnabled(owed.interest > 0)
        provisional = owed.interest_provisional_from if owed.interest else None
        self.interest_note.setToolTip(
            tr(
                "The statutory rate from {date} is not confirmed yet: this interest is "
                "provisional and may change.",
                date=words.day(provisional),
            )
            if provisional is not None
            else ""
        )
        if provisional is not None:
            self.interest_note.setText(
                self.interest_note.text()
                + " · "
                + tr("provisional from {date}", date=words.day(provisional))
            )
        self.later_line.setText(
            tr(
                "Not in this plan: {amount} on claims not yet due.",
                amount=words.money(owed.later),
            )
        )
        self.later_line.setVisible(owed.later > 0)
        self.amount_parts.show()
        self.recalculate()
        self.figures_loaded.emit()

    def schedule_recalculation(self) -> None:
        self._timer.start()

    def recalculate(self) -> None:
        """Run the plan now (also what the debounce timer calls) and show it."""
        self._timer.stop()
        calc = (
            None
            if self.owed is None
            else calculate(self.owed, self.input(), self.policy, today=self.today)
        )
        self.calculation = calc
        self._show_messages(calc)
        self._show_plan(calc)
        self.recalculated.emit()

    def say(self, message: Message) -> str:
        """A domain message in the desk's language, amounts and dates as the desk writes them."""
        return message.text(self.tr_, money=self.words.money, day=self.words.day)

    def _show_messages(self, calc: PlanResult | None) -> None:
        """Each input's problems beside it; a label shared by two fields shows both."""
        shown: dict[int, tuple[QLabel, list[Message]]] = {}
        for name, label in self.errors.items():
            if name == "approval_reason":
                continue
            _, messages = shown.setdefault(id(label), (label, []))
            if calc is not None:
                messages.extend(calc.errors.get(name, []) + calc.breaches.get(name, []))
        for label, messages in shown.values():
            label.setText("\n".join("⚠ " + self.say(m) for m in messages))
            label.setVisible(bool(messages))
        needs_approval = calc is not None and calc.needs_approval
        self.form.setRowVisible(self._reason_row, needs_approval)
        if not needs_approval:
            self.errors["approval_reason"].hide()

    def _show_plan(self, calc: PlanResult | None) -> None:
        tr, words = self.tr_, self.words
        plan = calc.plan if calc is not None else None
        self._show_capacity(calc)
        if calc is None or plan is None:
            self.schedule.setRowCount(0)
            self.headline.setText(tr("No plan yet"))
            self.dates_line.setText(
                tr("Reading what is owed from the books…")
                if calc is None
                else tr("Fix what is marked on the left to see the schedule.")
            )
            self.breakdown.hide()
            self.fit_line.setText("")
            self.policy_line.setText("")
            self.save.setEnabled(False)
            return
        regular = plan.regular
        frequency = tr(FREQUENCIES[plan.frequency])
        if len(regular) == 1:
            headline = tr("1 instalment of {amount}", amount=words.money(regular[0].amount))
        elif regular[-1].amount == regular[0].amount:
            headline = tr(
                "{count} instalments of {amount}",
                count=len(regular),
                amount=words.money(regular[0].amount),
            )
        else:
            headline = tr(
                "{count} instalments of {amount}, the last {last}",
                count=len(regular),
                amount=words.money(regular[0].amount),
                last=words.money(regular[-1].amount),
            )
        if plan.down_payment:
            headline = tr(
                "{down} down, then {rest}", down=words.money(plan.down_payment), rest=headline
            )
        self.headline.setText(headline)
        self.dates_line.setText(
            tr(
                "{frequency}, from {first} until {end}",
                frequency=frequency,
                first=words.day(plan.instalments[0].due),
                end=words.day(plan.end),
            )
        )
        waived = tr("waived")
        self.breakdown.show()
        charged = calc.charges
        self.owed_value.setText(words.money(charged.principal))
        self.costs_value.setText(
            waived if charged.costs_waived else words.money(charged.costs) if charged.costs else "—"
        )
        self.interest_value.setText(
            waived
            if charged.interest_waived
            else words.money(charged.interest)
            if charged.interest
            else "—"
        )
        self.total_value.setText(words.money(plan.total))
        if calc.capacity_period is None:
            self.fit_line.setText(tr("Capacity not known: ask about income and expenses."))
            self.fit_line.setProperty("tone", "unknown")
        elif calc.above_capacity > 0:
            self.fit_line.setText(
                tr(
                    "⚠ {amount} above what the customer can pay",
                    amount=words.money(calc.above_capacity),
                )
            )
            self.fit_line.setProperty("tone", "bad")
        else:
            self.fit_line.setText(tr("✓ Fits the customer's capacity"))
            self.fit_line.setProperty("tone", "ok")
        if calc.needs_approval:
            self.policy_line.setText(tr("⚠ Outside policy: a supervisor must approve"))
            self.policy_line.setProperty("tone", "warn")
            self.save.setText(tr("Ask supervisor approval"))
        else:
            self.policy_line.setText(tr("✓ Within policy"))
            self.policy_line.setProperty("tone", "ok")
            self.save.setText(tr("Agree arrangement"))
        for label in (self.fit_line, self.policy_line):
            label.style().unpolish(label)
            label.style().polish(label)
        self.save.setEnabled(not self.blocked)
        self._fill_schedule(plan)

    def _show_capacity(self, calc: PlanResult | None) -> None:
        tr, words = self.tr_, self.words
        if calc is None or calc.capacity_month is None:
            self.capacity_line.setText("")
            self.capacity_line.hide()
            return
        frequency = Frequency(self.frequency.currentData())
        text = tr("Can pay {amount} a month", amount=words.money(calc.capacity_month))
        if frequency is not Frequency.MONTHLY and calc.capacity_period is not None:
            text += " · " + tr(PER_PERIOD[frequency], amount=words.money(calc.capacity_period))
        self.capacity_line.setText(text)
        self.capacity_line.show()

    def _fill_schedule(self, plan: Plan) -> None:
        tr, words = self.tr_, self.words
        self.schedule.setRowCount(plan.count)
        for row, item in enumerate(plan.instalments):
            cells = [
                tr("down payment") if item.number == 0 else str(item.number),
                self._full_date(item.due),
                words.money(item.amount),
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

    # -- saving --------------------------------------------------------------------

    def payload(self) -> ArrangementInput | None:
        self.recalculate()
        calc = self.calculation
        if self.blocked or calc is None or calc.plan is None or self.owed is None:
            return None
        reason = self.reason.toPlainText().strip()
        refusal = calc.refusal(reason)
        if refusal is not None:
            field_name, message = refusal
            self.show_error(field_name, self.say(message))
            if field_name == "approval_reason":
                self.reason.setFocus()
            return None
        assert calc.terms is not None
        return ArrangementInput(
            terms=calc.terms,
            owed=self.owed,
            plan=calc.plan,
            approval_reason=reason if calc.needs_approval else None,
            needs_approval=calc.needs_approval,
        )


# ---------------------------------------------------------------------------- saving


class ArrangementDesk:
    """Opens the calculator on the current file and saves what the agent agrees."""

    def __init__(
        self,
        parent: QWidget,
        worker: DatabaseWorker,
        actor: Actor,
        words: Words,
        clock: Callable[[], datetime],
        prompter: Prompter,
        current_file: Callable[[], CustomerFile | None],
        saved: Callable[[int], None],
        conflicted: Callable[[int], None],
        unexpected: Callable[[BaseException], None],
        context: Callable[[], Mapping[str, Any] | None] = lambda: None,
        status: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self.parent = parent
        self.worker = worker
        self.actor = actor
        self.words = words
        self.clock = clock
        self.prompter = prompter
        self.current_file = current_file
        self.saved = saved
        self.conflicted = conflicted
        self.unexpected = unexpected
        self.context = context
        self.status = status
        self.dialog: ArrangementDialog | None = None

    def open(self) -> ArrangementDialog | None:
        file = self.current_file()
        if file is None:
            return None
        try:
            context = self.context()
        except Exception:  # the script panel's hint is a nicety, never a blocker
            context = None
        dialog = ArrangementDialog(self.words, file, self.clock(), self.parent, context=context)
        dialog.submitted.connect(lambda value: self._save(dialog, file.id, value))
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.reject()
        self.dialog = dialog
        dialog.open()
        self.read_figures(dialog, file.id)
        return dialog

    def read_figures(self, dialog: ArrangementDialog, customer_id: int) -> None:
        """What the books say is owed today, read on the worker into the dialog."""
        today = dialog.today
        tr = self.words.tr

        def failed(error: BaseException) -> None:
            if isinstance(error, AgentDeskError):
                dialog.show_notice(tr.error(error))
            else:
                self.unexpected(error)

        def read(session: Session) -> tuple[Owed, ArrangementPolicy]:
            from agent_desk.services import team_rules
            from agent_desk.services.arrangements import arrangement_owed

            return arrangement_owed(session, customer_id, today), team_rules.policy(session)

        def show(figures: tuple[Owed, ArrangementPolicy]) -> None:
            dialog.policy = figures[1]  # the team's policy, as the service will check it
            dialog.set_owed(figures[0])

        self.worker.submit(read, show, failed, busy=tr("Reading the books…"))

    def _save(self, dialog: ArrangementDialog, customer_id: int, value: ArrangementInput) -> None:
        actor, now, tr = self.actor, self.clock(), self.words.tr
        file = self.current_file()
        version = file.version if file is not None and file.id == customer_id else None

        def task(session: Session) -> int:
            from agent_desk.services.arrangements import agree_arrangement

            return agree_arrangement(
                session,
                actor,
                customer_id,
                now=now,
                terms=value.terms,
                principal_cents=value.owed.principal,
                costs_cents=value.owed.costs,
                interest_cents=value.owed.interest,
                expected_version=version,
                approval_reason=value.approval_reason,
                policy=dialog.policy,
            )

        def done(_arrangement_id: object) -> None:
            dialog.accept()
            self.saved(customer_id)
            words = self.words
            first = value.plan.instalments[0]
            if value.needs_approval:
                self.prompter.inform(
                    self.parent,
                    tr("Waiting for a supervisor"),
                    tr(
                        "The arrangement is saved but is outside policy, so it is not active "
                        "yet: a supervisor will approve or decline it. Tell the customer you "
                        "will confirm the plan; you will see the decision in the file."
                    ),
                )
            else:
                self.status(
                    tr(
                        "Arrangement agreed: {count} instalments, the first {amount} on "
                        "{date}. A reminder is set before each due date.",
                        count=value.plan.count,
                        amount=words.money(first.amount),
                        date=words.day(first.due),
                    )
                )

        def failed(error: BaseException) -> None:
            if isinstance(error, ValidationError) and error.field == "amount":
                dialog.show_notice(tr.error(error))  # the figures changed: read them again
                self.read_figures(dialog, customer_id)
            elif isinstance(error, ValidationError):
                dialog.show_error(error.field, tr.error(error))
            elif isinstance(error, ConflictError):
                dialog.show_notice(
                    tr(
                        "A colleague changed this customer while you were working. Nothing was "
                        "overwritten and your text is kept: check the latest file, then save again."
                    )
                )
                self.conflicted(customer_id)
            elif isinstance(error, AgentDeskError):
                dialog.show_notice(tr.error(error))
            else:
                dialog.set_busy(False)
                self.unexpected(error)

        self.worker.submit(task, done, failed, busy=tr("Saving…"))
