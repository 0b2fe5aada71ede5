"""One customer's money on one day, read from the books: for the desk, CLI, file and letters.

One job: reading what is owed. :func:`figures` turns loaded books into each claim's
figures on a day (with interest accrued since the last booking, not booked);
:func:`customer_balance` does it for one customer; :func:`balance_report` adds the
notices, arrangements and promises the CLI and the file show beside it. Writing
entries is :mod:`agent_desk.services.ledger`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.domain import ledger as rules
from agent_desk.domain.codes import CustomerStatus
from agent_desk.domain.interest import RateTable, load_rate_table
from agent_desk.domain.money import cents_to_str
from agent_desk.errors import NotFoundError
from agent_desk.models import Arrangement, Customer, DemandNotice, Instalment, PromiseToPay
from agent_desk.services import team_rules
from agent_desk.services.ledger import CustomerBooks, accrued_interest, load_customer_books


@dataclass(frozen=True)
class ClaimFigures:
    claim_id: int
    reference: str
    description: str
    due_date: date
    in_default_since: date | None  # None: not yet in default
    principal: int  # booked (invoiced)
    costs: int  # booked
    interest: int  # booked, plus what accrued since the last booking
    paid: int
    outstanding_principal: int
    outstanding_costs: int
    outstanding_interest: int

    @property
    def outstanding(self) -> int:
        return self.outstanding_principal + self.outstanding_costs + self.outstanding_interest


@dataclass(frozen=True)
class Balance:
    customer_id: int
    on: date
    claims: tuple[ClaimFigures, ...]
    credit: int
    credit_used: int = 0  # credit that settled later claims (already in ``paid``)

    @property
    def outstanding(self) -> int:
        return sum(c.outstanding for c in self.claims)

    def total(self, name: str) -> int:
        return sum(int(getattr(c, name)) for c in self.claims)


def figures(books: CustomerBooks, on: date, table: RateTable | None = None) -> Balance:
    """What each claim owes on ``on``: the entries, plus interest accrued since the
    last booking (not booked here)."""
    table = table or load_rate_table()
    lines = []
    for claim in books.ordered():
        accrued = sum(a for _, a in accrued_interest(claim, on, table))
        default = rules.in_default_since(claim.due_date)
        lines.append(
            ClaimFigures(
                claim_id=claim.claim_id,
                reference=claim.reference,
                description=claim.description,
                due_date=claim.due_date,
                in_default_since=default if default <= on else None,
                principal=claim.invoiced,
                costs=claim.costs_booked,
                interest=claim.interest_booked_total + accrued,
                paid=claim.paid,
                outstanding_principal=claim.principal,
                outstanding_costs=claim.costs,
                outstanding_interest=claim.interest + accrued,
            )
        )
    return Balance(books.customer_id, on, tuple(lines), books.credit, books.credit_used)


def customer_balance(session: Session, customer_id: int, on: date) -> Balance:
    if session.get(Customer, customer_id) is None:
        raise NotFoundError("There is no customer with id {id}.", id=customer_id)
    books = load_customer_books(session, customer_id, as_of=on)
    return figures(books, on, team_rules.rate_table(session))


@dataclass(frozen=True)
class NoticeLine:
    id: int
    sent_on: date
    channel: str
    term_ends: date
    costs_chargeable_from: date
    costs_named: int
    status: str  # running | paid_in_term | costs_booked


@dataclass(frozen=True)
class ArrangementFigures:
    id: int
    status: str
    total: int
    paid: int

    @property
    def outstanding(self) -> int:
        return self.total - self.paid


@dataclass(frozen=True)
class PromiseLine:
    id: int
    amount: int
    by: date
    status: str
    paid: int


@dataclass(frozen=True)
class BalanceReport:
    customer_id: int
    customer_number: str
    status: str  # open | paused | closed
    balance: Balance
    notice: NoticeLine | None
    arrangement: ArrangementFigures | None
    promises: tuple[PromiseLine, ...]

    @property
    def credit(self) -> int:
        return self.balance.credit


def customer_by_number(session: Session, customer_number: str) -> Customer:
    number = customer_number.strip()
    customer = session.scalar(select(Customer).where(Customer.customer_number == number))
    if customer is None:
        raise NotFoundError("There is no customer with number '{number}'.", number=number)
    return customer


def customer_status(customer: Customer, on: date) -> str:
    if customer.status == CustomerStatus.CLOSED:
        return "closed"
    if customer.paused_until is not None and customer.paused_until >= on:
        return "paused"
    return "open"


def balance_report(session: Session, customer_id: int, on: date) -> BalanceReport:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError("There is no customer with id {id}.", id=customer_id)
    figures = customer_balance(session, customer_id, on)
    notice = session.scalars(
        select(DemandNotice)
        .where(DemandNotice.customer_id == customer_id)
        .order_by(DemandNotice.sent_on.desc(), DemandNotice.id.desc())
        .limit(1)
    ).first()
    arrangement = session.scalars(
        select(Arrangement)
        .where(Arrangement.customer_id == customer_id)
        .order_by(Arrangement.created_at.desc(), Arrangement.id.desc())
        .limit(1)
    ).first()
    arrangement_figures = None
    if arrangement is not None:
        paid = session.scalar(
            select(func.coalesce(func.sum(Instalment.paid_cents), 0)).where(
                Instalment.arrangement_id == arrangement.id
            )
        )
        arrangement_figures = ArrangementFigures(
            arrangement.id, arrangement.status, arrangement.total_cents, int(paid or 0)
        )
    promises = tuple(
        PromiseLine(p.id, p.amount_cents, p.due_date, p.status, p.paid_cents)
        for p in session.scalars(
            select(PromiseToPay)
            .where(PromiseToPay.customer_id == customer_id)
            .order_by(PromiseToPay.due_date, PromiseToPay.id)
        )
    )
    return BalanceReport(
        customer_id=customer.id,
        customer_number=customer.customer_number,
        status=customer_status(customer, on),
        balance=figures,
        notice=None
        if notice is None
        else NoticeLine(
            notice.id,
            notice.sent_on,
            notice.channel,
            notice.term_ends,
            notice.term_ends + timedelta(days=1),
            notice.costs_named_cents,
            notice.status,
        ),
        arrangement=arrangement_figures,
        promises=promises,
    )


_CLAIM_FIELDS = (
    "principal",
    "costs",
    "interest",
    "paid",
    "outstanding_principal",
    "outstanding_costs",
    "outstanding_interest",
    "outstanding",
)


def report_json(report: BalanceReport) -> dict[str, Any]:
    """The ``balance --json`` document: amounts as decimal strings ("250.00")."""
    b = report.balance
    claims = []
    for c in b.claims:
        row: dict[str, Any] = {
            "reference": c.reference,
            "description": c.description,
            "due_date": c.due_date.isoformat(),
            "in_default_since": c.in_default_since.isoformat() if c.in_default_since else None,
        }
        row.update({name: cents_to_str(int(getattr(c, name))) for name in _CLAIM_FIELDS})
        claims.append(row)
    totals = {
        name: cents_to_str(sum(int(getattr(c, name)) for c in b.claims)) for name in _CLAIM_FIELDS
    }
    notice = report.notice
    arrangement = report.arrangement
    return {
        "customer": report.customer_number,
        "on": b.on.isoformat(),
        "status": report.status,
        "claims": claims,
        "totals": totals,
        "fourteen_day_letter": None
        if notice is None
        else {
            "sent_on": notice.sent_on.isoformat(),
            "channel": notice.channel,
            "term_ends": notice.term_ends.isoformat(),
            "costs_chargeable": notice.costs_chargeable_from.isoformat(),
            "costs_named": cents_to_str(notice.costs_named),
            "status": notice.status,
        },
        "arrangement": None
        if arrangement is None
        else {
            "id": arrangement.id,
            "status": arrangement.status,
            "total": cents_to_str(arrangement.total),
            "paid": cents_to_str(arrangement.paid),
            "outstanding": cents_to_str(arrangement.outstanding),
        },
        "promises": [
            {
                "amount": cents_to_str(p.amount),
                "by": p.by.isoformat(),
                "status": p.status,
                "paid": cents_to_str(p.paid),
            }
            for p in report.promises
        ],
        "credit": cents_to_str(report.credit),
        "credit_used": cents_to_str(b.credit_used),
    }
