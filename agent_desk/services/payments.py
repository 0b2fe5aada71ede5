"""Receiving payments: stored once, booked on the claims, and what follows from them.

A payment is booked by art. 6:43/6:44 BW (``domain.ledger.split_payment``) on the
customer's books (``ledger``), fills the running arrangement's instalments in due
order, counts towards open promises (``promises``), and closes a customer who then
owes nothing. Kept apart from ``ledger`` (the books themselves) because it reaches
up into promises and the customer's next step, which the books must not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from agent_desk.domain import ledger as rules
from agent_desk.domain.allocation import Allocation
from agent_desk.domain.codes import ArrangementStatus, CustomerStatus, InstalmentStatus
from agent_desk.domain.interest import RateTable, load_rate_table
from agent_desk.domain.ledger import EntryKind, Part
from agent_desk.models import Arrangement, Instalment, NextStep, Payment
from agent_desk.services import bulk, promises, team_rules
from agent_desk.services.actor import Actor
from agent_desk.services.derived import refresh_customers
from agent_desk.services.ledger import (
    _RUNNING,
    CustomerBooks,
    _chunks,
    book_interest,
    load_books,
    lock_books,
    sync_claim_caches,
    write,
)


@dataclass
class PaymentOutcome:
    payment_id: int
    allocations: tuple[tuple[int, Allocation], ...]
    credit: int
    interest_booked: int


def apply_payment(
    books: CustomerBooks,
    payment_id: int,
    amount: int,
    paid_on: date,
    now: datetime,
    *,
    named_claim_id: int | None = None,
    rates: RateTable | None = None,
) -> PaymentOutcome:
    """Book a payment on the claims by art. 6:43/6:44 BW; the rest becomes credit.

    Interest up to the day of payment is booked first, so the payment pays it before
    principal.
    """
    interest = book_interest(books, paid_on, now, rates or load_rate_table())
    split = rules.split_payment(amount, books.balances(), paid_on, named_claim_id)
    for claim_id, allocation in split.allocations:
        claim = books.claims[claim_id]
        for part, cents in (
            (Part.COSTS, allocation.costs),
            (Part.INTEREST, allocation.interest),
            (Part.PRINCIPAL, allocation.principal),
        ):
            if cents:
                books.add(
                    claim, EntryKind.PAYMENT, part, -cents, paid_on, now, payment_id=payment_id
                )
    if split.credit:
        books.add(
            None, EntryKind.CREDIT, Part.CREDIT, split.credit, paid_on, now, payment_id=payment_id
        )
    return PaymentOutcome(payment_id, split.allocations, split.credit, interest)


@dataclass(frozen=True)
class PaymentInput:
    customer_id: int
    amount_cents: int
    paid_on: date
    reference: str
    claim_id: int | None = None


@dataclass
class PaymentsResult:
    payments: int = 0
    credit_cents: int = 0
    outcomes: list[PaymentOutcome] = field(default_factory=list)
    closed_customers: int = 0
    promises_kept: int = 0


def receive_payments(
    session: Session,
    actor: Actor,
    payments: Sequence[PaymentInput],
    now: datetime,
    *,
    source: str = "import",
    rates: RateTable | None = None,
    paid_between: tuple[date, date] | None = None,
) -> PaymentsResult:
    """Store payments and book them: claims (6:43/6:44), the running arrangement's
    instalments in due order, open promises, and close customers who owe nothing.

    One pass per customer, payments in the order given. The caller audits.
    ``paid_between``: the first and last payment day of the whole file when a large
    import books it in parts (each part all the payments of its customers), so
    that every part books as the whole file would.
    """
    rates = rates or team_rules.rate_table(session)
    result = PaymentsResult()
    if not payments:
        return result
    stored = _store_payments(session, actor, payments, now, source)
    customer_ids = {p.customer_id for p in payments}
    lock_books(session, customer_ids)  # read after a concurrent run has committed
    books = load_books(session, customer_ids)
    paid_per_customer: dict[int, list[tuple[date, int]]] = {}
    for payment, payment_id in zip(payments, stored, strict=True):
        book = books[payment.customer_id]
        outcome = apply_payment(
            book,
            payment_id,
            payment.amount_cents,
            payment.paid_on,
            now,
            named_claim_id=payment.claim_id,
            rates=rates,
        )
        result.outcomes.append(outcome)
        result.credit_cents += outcome.credit
        paid_per_customer.setdefault(payment.customer_id, []).append(
            (payment.paid_on, payment.amount_cents - outcome.credit)
        )
    result.payments = len(payments)
    write(session, books.values())
    last_day = paid_between[1] if paid_between else max(p.paid_on for p in payments)
    sync_claim_caches(session, books.values(), last_day)
    fill_instalments(
        session, {cid: sum(a for _, a in received) for cid, received in paid_per_customer.items()}
    )
    result.promises_kept = promises.on_payments(
        session, paid_per_customer, now, earliest=paid_between[0] if paid_between else None
    )
    result.closed_customers = settle_customers(
        session, books.values(), now, may_close=actor.is_supervisor
    )
    return result


def _store_payments(
    session: Session,
    actor: Actor,
    payments: Sequence[PaymentInput],
    now: datetime,
    source: str,
) -> list[int]:
    table: Table = Payment.__table__  # type: ignore[assignment]
    rows = [
        {
            "reference": p.reference,
            "customer_id": p.customer_id,
            "claim_id": p.claim_id,
            "amount_cents": p.amount_cents,
            "paid_on": p.paid_on,
            "created_at": now,
            "source": source,
            "agent_id": actor.agent_id,
        }
        for p in payments
    ]
    # In bulk (COPY, or one executemany), then the ids back by their unique reference.
    bulk.insert_rows(session, table, rows)
    bulk.keep_statistics(session, "payment", len(rows))  # its ledger entries' key checks
    ids = bulk.ids_by(session, table, "reference", [p.reference for p in payments])
    return [ids[p.reference] for p in payments]


def fill_instalments(session: Session, amounts: dict[int, int]) -> None:
    """Payments (cents per customer) fill each running arrangement's instalments in due
    order, whatever the customer wrote on the transfer."""
    ids = [cid for cid, amount in amounts.items() if amount > 0]
    left = dict(amounts)
    for chunk in _chunks(sorted(ids)):
        rows = session.execute(
            select(Instalment, Arrangement.customer_id)
            .join(Arrangement)
            .where(
                Arrangement.customer_id.in_(chunk),
                # Waiting for approval counts too: once approved, what was paid is there.
                Arrangement.status.in_(_RUNNING),
                Instalment.paid_cents < Instalment.amount_cents,
            )
            .order_by(Arrangement.customer_id, Instalment.due_date, Instalment.number)
        ).all()
        for instalment, customer_id in rows:
            amount = left[customer_id]
            if amount <= 0:
                continue
            take = min(amount, instalment.amount_cents - instalment.paid_cents)
            instalment.paid_cents += take
            left[customer_id] = amount - take
            if instalment.paid_cents == instalment.amount_cents:
                instalment.status = InstalmentStatus.PAID.value


def settle_customers(
    session: Session, books: Iterable[CustomerBooks], now: datetime, *, may_close: bool = True
) -> int:
    """Close every open customer who owes nothing on any claim or arrangement.

    Closing takes a customer out of every queue, so only a supervisor's or the
    system's connection does it (``may_close``); after an agent's payment the
    nightly run closes.
    """
    books = list(books)
    customers = refresh_customers(session, [b.customer_id for b in books])
    if not may_close:
        return 0
    candidates = [
        b.customer_id
        for b in books
        if b.outstanding <= 0
        and b.customer_id in customers
        and customers[b.customer_id].status == CustomerStatus.OPEN.value
    ]
    still_paying = _arrangements_open(session, candidates)
    closing = [cid for cid in candidates if cid not in still_paying]
    for chunk in _chunks(closing):
        for cid in chunk:
            customers[cid].status = CustomerStatus.CLOSED.value
        session.execute(
            update(NextStep)
            .where(NextStep.customer_id.in_(chunk), NextStep.done_at.is_(None))
            .values(done_at=now, version=NextStep.version + 1)
            .execution_options(synchronize_session=False)
        )
        _complete_paid_arrangements(session, chunk)
    refresh_customers(session, closing)
    return len(closing)


def _arrangements_open(session: Session, customer_ids: list[int]) -> set[int]:
    """Customers whose running arrangement still expects money: they stay open."""
    found: set[int] = set()
    for chunk in _chunks(sorted(customer_ids)):
        rows = session.execute(
            select(
                Arrangement.customer_id,
                Arrangement.total_cents,
                func.coalesce(func.sum(Instalment.paid_cents), 0),
            )
            .join(Instalment, Instalment.arrangement_id == Arrangement.id)
            .where(Arrangement.customer_id.in_(chunk), Arrangement.status.in_(_RUNNING))
            .group_by(Arrangement.id, Arrangement.customer_id, Arrangement.total_cents)
        ).all()
        found.update(int(cid) for cid, total, paid in rows if int(paid) < int(total))
    return found


def _complete_paid_arrangements(session: Session, customer_ids: list[int]) -> None:
    session.execute(
        update(Arrangement)
        .where(
            Arrangement.customer_id.in_(customer_ids),
            Arrangement.status == ArrangementStatus.ACTIVE.value,
        )
        .values(status=ArrangementStatus.COMPLETED.value, version=Arrangement.version + 1)
        .execution_options(synchronize_session=False)
    )
