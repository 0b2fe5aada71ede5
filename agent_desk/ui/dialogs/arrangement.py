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

The rules are ``domain.arrangement_plan``'s, the same the service and the CLI use;
what is said about the figures and the plan (and whether a plan may be made at all)
is ``domain.arrangement_summary``'s. The widgets only show it: the owed box and the
waivers (``arrangement_owed``), the plan panel (``arrangement_panel``), the inputs here.
The figures are read from the books on the worker when the dialog opens; "Agree"
saves through ``services.arrangements.agree_arrangement``, which works them out again
and refuses if they changed meanwhile (the dialog then reads them again). A plan
outside policy needs a reason and then waits for a supervisor; the agent is told so.
A plan above what the customer can pay is never saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.arrangement_plan import (
    Message,
    Mode,
    Owed,
    PlanResult,
    TermsText,
    calculate,
    default_first_due,
)
from agent_desk.domain.arrangement_summary import (
    FREQUENCY_WORDS,
    Agreement,
    agreement,
    blocking_arrangement,
    capacity_line,
    field_messages,
    owed_notes,
    plan_summary,
    prefill,
    typed_amount,
)
from agent_desk.domain.arrangements import MAX_INSTALMENTS_ANY_PLAN, Frequency
from agent_desk.domain.policy import ArrangementPolicy, load_default_policy
from agent_desk.domain.team_day import local_day
from agent_desk.errors import AgentDeskError, ValidationError
from agent_desk.ui.action_path import DeskContext
from agent_desk.ui.dialogs.arrangement_owed import OwedBox, WaiverBox, error_line, hint_row
from agent_desk.ui.dialogs.arrangement_panel import PlanPanel
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.typed_dates import TypedDateEdit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.customer_file import CustomerFile

__all__ = ["FREQUENCIES", "ArrangementDesk", "ArrangementDialog", "ArrangementInput", "Mode"]

DEBOUNCE_MS = 150
FREQUENCIES = FREQUENCY_WORDS  # the approvals screen says them the same way
#: What the dialog asks the service to agree, and the figures it showed.
ArrangementInput = Agreement


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
        self.today = local_day(now)  # the team's day: the books' and the service's
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
        blocking = blocking_arrangement(a.status for a in file.arrangements)
        if blocking is not None:
            self.show_notice(self.say(blocking))
        self.blocked = blocking is not None
        if owed is not None:
            self.set_owed(owed)
        else:
            self.recalculate()

    # -- building ------------------------------------------------------------------

    def _error_label(self, *fields: str) -> QLabel:
        label = error_line()
        for name in fields:
            self.errors[name] = label
        return label

    def _build_inputs(self) -> None:
        tr = self.tr_
        self.owed_box = OwedBox(tr, self.words.money, self.say)
        box = self.owed_box
        self.amount, self.amount_parts, self.later_line = (
            box.amount,
            box.amount_parts,
            box.later_line,
        )
        self.principal_part, self.costs_part = box.principal_part, box.costs_part
        self.interest_part, self.costs_note = box.interest_part, box.costs_note
        self.interest_note = box.interest_note
        self.add_field(tr("Owed"), self.owed_box, "amount")

        self.down_payment = QLineEdit()
        self.down_payment.setObjectName("downPayment")
        self.down_payment.setPlaceholderText(tr("optional"))
        down_hint = PlainLabel(tr("paid on the first date"))
        down_hint.setObjectName("hint")
        self.add_field(
            tr("Down payment (€)"), hint_row(self.down_payment, down_hint), "down_payment"
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

        self.waivers = WaiverBox(tr, self.say)
        self.waive_costs = self.waivers.waive_costs
        self.waive_interest = self.waivers.waive_interest
        self.errors["costs"] = self.waivers.costs_error
        self.errors["interest"] = self.waivers.interest_error
        self.form.addRow(PlainLabel(tr("Costs and interest")), self.waivers)

        self.reason = QPlainTextEdit()
        self.reason.setObjectName("approvalReason")
        self.reason.setPlaceholderText(
            tr("Why does this customer need this plan? A supervisor reads this.")
        )
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(64)
        self.add_field(tr("Reason for approval"), self.reason, "approval_reason")
        self._reason_row = self.form.rowCount() - 1

    def _build_schedule(self) -> None:
        self.panel = PlanPanel(self.tr_, self.words.money, self.say)
        panel = self.panel
        self.headline, self.dates_line, self.breakdown = (
            panel.headline,
            panel.dates_line,
            panel.breakdown,
        )
        self.owed_value, self.costs_value = panel.owed_value, panel.costs_value
        self.interest_value, self.total_value = panel.interest_value, panel.total_value
        self.fit_line, self.policy_line, self.schedule = (
            panel.fit_line,
            panel.policy_line,
            panel.schedule,
        )

    def _arrange(self) -> None:
        """Inputs left, the plan right; the form dialog's column becomes the left one."""
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
        columns = QHBoxLayout()
        columns.setSpacing(18)
        columns.addWidget(left, 11)
        columns.addWidget(self.panel, 9)
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
        start = prefill(context)
        self.by_count.setChecked(True)
        if start.income is not None:
            self.income.setText(typed_amount(start.income, lang))
        if start.expenses is not None:
            self.expenses.setText(typed_amount(start.expenses, lang))
        if start.mode is not Mode.COUNT:
            self.set_mode(start.mode)

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
        self.owed = owed
        notes = owed_notes(owed)
        self.owed_box.show_owed(owed, notes)
        self.waivers.show_owed(notes)
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
            messages.extend(field_messages(calc, name))
        for label, messages in shown.values():
            label.setText("\n".join("⚠ " + self.say(m) for m in messages))
            label.setVisible(bool(messages))
        needs_approval = calc is not None and calc.needs_approval
        self.form.setRowVisible(self._reason_row, needs_approval)
        if not needs_approval:
            self.errors["approval_reason"].hide()

    def _show_plan(self, calc: PlanResult | None) -> None:
        lines = capacity_line(calc)
        self.capacity_line.setText(" · ".join(self.say(m) for m in lines))
        self.capacity_line.setVisible(bool(lines))
        summary = plan_summary(calc) if calc is not None else None
        if calc is None or calc.plan is None or summary is None:
            self.panel.show_nothing(reading=calc is None)
            self.save.setEnabled(False)
            return
        self.panel.show_plan(summary, calc.plan)
        self.save.setText(self.say(summary.agree))
        self.save.setEnabled(not self.blocked)

    def schedule_rows(self) -> list[tuple[str, str, str]]:
        """The schedule as shown: (number, due, amount) per row."""
        return self.panel.schedule_rows()

    # -- saving --------------------------------------------------------------------

    def payload(self) -> ArrangementInput | None:
        self.recalculate()
        calc = self.calculation
        if self.blocked or calc is None or calc.plan is None or self.owed is None:
            return None
        reason = self.reason.toPlainText().strip()
        agreed = agreement(calc, reason)
        if isinstance(agreed, tuple):
            field_name, message = agreed
            self.show_error(field_name, self.say(message))
            if field_name == "approval_reason":
                self.reason.setFocus()
            return None
        return agreed


# ---------------------------------------------------------------------------- saving


class ArrangementDesk:
    """Opens the calculator on the current file and saves what the agent agrees."""

    def __init__(
        self,
        desk: DeskContext,
        context: Callable[[], Mapping[str, Any] | None] = lambda: None,
    ) -> None:
        self.desk = desk
        self.parent = desk.parent
        self.worker = desk.worker
        self.actor = desk.actor
        self.words = desk.words
        self.clock = desk.clock
        self.prompter = desk.prompter
        self.current_file = desk.current_file
        self.unexpected = desk.unexpected
        self.context = context
        self.status = desk.status
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
        version = self.desk.actions.version(customer_id)

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

        def figures_changed(error: BaseException) -> bool:
            if isinstance(error, ValidationError) and error.field == "amount":
                dialog.show_notice(tr.error(error))  # the figures changed: read them again
                self.read_figures(dialog, customer_id)
                return True
            return False

        # The one action path: field errors, the conflict dialog, notices, the crash path.
        self.desk.actions.op(customer_id, task).form(dialog, typed=value).failure(
            figures_changed
        ).success(done).run()
