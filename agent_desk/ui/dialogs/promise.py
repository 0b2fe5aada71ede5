"""F3: a promise to pay — an amount typed the Dutch or English way, and a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QLineEdit, QWidget

from agent_desk.domain.money import cents_to_decimal, parse_amount
from agent_desk.domain.team_day import local_day
from agent_desk.errors import ValidationError
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.typed_dates import TypedDateEdit

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile


@dataclass(frozen=True)
class PromiseInput:
    amount_cents: int
    due_date: date


class PromiseDialog(FormDialog):
    def __init__(
        self, words: Words, file: CustomerFile, now: datetime, parent: QWidget | None = None
    ) -> None:
        tr = words.tr
        super().__init__(tr, tr("Promise to pay from {name}", name=file.name), parent)
        self.setObjectName("promiseDialog")
        self.amount = QLineEdit()
        self.amount.setObjectName("amount")
        # What is owed today (the books, interest to date), as the file and service say.
        today = file.owed_cents or file.arrears_cents
        owed = f"{cents_to_decimal(today)}"
        self.words_lang = words.lang
        self.amount.setText(owed.replace(".", ",") if words.lang == "nl" else owed)
        self.amount.setPlaceholderText(tr("e.g. 123,45"))
        self.due = TypedDateEdit()
        self.due.setObjectName("dueDate")
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("dd-MM-yyyy")
        self.due.setDate(QDate(local_day(now) + timedelta(days=7)))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        owes = PlainLabel(tr("The customer owes {amount} in total.", amount=words.money(today)))
        owes.setObjectName("hint")
        self.add_field(tr("Amount (€)"), self.amount, "amount")
        self.add_field(tr("Pays on"), self.due, "due_date")
        self.form.addRow(PlainLabel(), owes)
        self.save.setText(tr("Save promise"))

    def prefill(self, amount_cents: int | None, due: date | None) -> None:
        """Start from what the script noted, so the promise is typed once."""
        if amount_cents:
            text = str(cents_to_decimal(amount_cents))
            self.amount.setText(text.replace(".", ",") if self.words_lang == "nl" else text)
        if due is not None:
            self.due.setDate(QDate(due))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs

    def payload(self) -> PromiseInput | None:
        try:
            cents = parse_amount(self.amount.text())
        except ValidationError as error:
            self.show_error("amount", self.tr_.error(error))
            return None
        due = self.due.date().toPython()
        assert isinstance(due, date)
        return PromiseInput(cents, due)
