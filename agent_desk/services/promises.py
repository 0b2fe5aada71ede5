"""Promises to pay resolve themselves: kept when the money arrived in time, broken not.

A promise is **kept** once the payments received from the day it was made up to its
date plus the grace days (``promise_grace_days`` in ``resources/policy/books.toml``)
add up to the promised amount; it is **broken** when that day has passed without it.
A payment resolves a promise at once; the nightly run breaks the ones whose day
passed. A broken promise puts the customer back in the queue to call again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.domain.codes import NextStepKind, PromiseStatus
from agent_desk.domain.ledger import BooksPolicy, load_books_policy
from agent_desk.models import Customer, NextStep, Payment, PromiseToPay
from agent_desk.services.actor import SYSTEM
from agent_desk.services.audit import audit


def last_day(promise_due: date, policy: BooksPolicy) -> date:
    """The last day a payment still keeps the promise."""
    return promise_due + timedelta(days=policy.promise_grace_days)


def on_payments(
    session: Session,
    received: Mapping[int, Sequence[tuple[date, int]]],
    now: datetime,
    policy: BooksPolicy | None = None,
) -> int:
    """Payments arrived for these customers: resolve their open promises. Returns
    how many promises were kept."""
    if not received:
        return 0
    policy = policy or load_books_policy()
    kept = 0
    promises = list(
        session.scalars(
            select(PromiseToPay)
            .where(
                PromiseToPay.customer_id.in_(list(received)),
                PromiseToPay.status == PromiseStatus.OPEN.value,
            )
            .order_by(PromiseToPay.customer_id, PromiseToPay.due_date, PromiseToPay.id)
        )
    )
    for promise in promises:
        paid = _paid_towards(session, promise, policy)
        if paid != promise.paid_cents:
            promise.paid_cents = paid
        if paid >= promise.amount_cents:
            _resolve(
                session,
                promise,
                PromiseStatus.KEPT,
                _paid_in_full_on(session, promise, policy),
                now,
            )
            kept += 1
    return kept


@dataclass
class PromiseRun:
    kept: int = 0
    broken: int = 0


def resolve_due_promises(
    session: Session, today: date, now: datetime, policy: BooksPolicy | None = None
) -> PromiseRun:
    """The nightly run: every open promise whose last day is before ``today`` is kept
    (when paid) or broken."""
    policy = policy or load_books_policy()
    run = PromiseRun()
    cutoff = today - timedelta(days=policy.promise_grace_days)
    for promise in session.scalars(
        select(PromiseToPay)
        .where(PromiseToPay.status == PromiseStatus.OPEN.value, PromiseToPay.due_date < cutoff)
        .order_by(PromiseToPay.id)
    ):
        paid = _paid_towards(session, promise, policy)
        promise.paid_cents = paid
        if paid >= promise.amount_cents:
            _resolve(
                session,
                promise,
                PromiseStatus.KEPT,
                _paid_in_full_on(session, promise, policy),
                now,
            )
            run.kept += 1
        else:
            _resolve(
                session, promise, PromiseStatus.BROKEN, last_day(promise.due_date, policy), now
            )
            run.broken += 1
    return run


def _window(promise: PromiseToPay, policy: BooksPolicy) -> tuple[date, date]:
    return promise.created_at.date(), last_day(promise.due_date, policy)


def _paid_towards(session: Session, promise: PromiseToPay, policy: BooksPolicy) -> int:
    start, end = _window(promise, policy)
    total = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.customer_id == promise.customer_id,
            Payment.paid_on >= start,
            Payment.paid_on <= end,
        )
    )
    return int(total or 0)


def _paid_in_full_on(session: Session, promise: PromiseToPay, policy: BooksPolicy) -> date:
    start, end = _window(promise, policy)
    total = 0
    for paid_on, amount in session.execute(
        select(Payment.paid_on, Payment.amount_cents)
        .where(
            Payment.customer_id == promise.customer_id,
            Payment.paid_on >= start,
            Payment.paid_on <= end,
        )
        .order_by(Payment.paid_on, Payment.id)
    ):
        total += amount
        if total >= promise.amount_cents:
            return paid_on
    return end


def _resolve(
    session: Session, promise: PromiseToPay, status: PromiseStatus, on: date, now: datetime
) -> None:
    from agent_desk.services.activity import NextStepInput, set_next_step
    from agent_desk.services.derived import refresh_customer

    promise.status = status.value
    promise.resolved_on = on
    customer = session.get(Customer, promise.customer_id)
    if customer is None:  # pragma: no cover - cascade deletes keep this from happening
        return
    open_steps = list(
        session.scalars(
            select(NextStep).where(NextStep.customer_id == customer.id, NextStep.done_at.is_(None))
        )
    )
    checking = [s for s in open_steps if s.kind == NextStepKind.PROMISE_CHECK.value]
    if status is PromiseStatus.BROKEN:
        # Call again, now: replaces a promise check, but not a callback an agent agreed.
        if not any(s.kind == NextStepKind.CALLBACK.value for s in open_steps):
            set_next_step(
                session,
                SYSTEM,
                customer,
                NextStepInput(
                    NextStepKind.PROMISE_BROKEN,
                    now,
                    f"promise broken: {promise.amount_cents / 100:.2f} by {promise.due_date.isoformat()}",
                ),
                now,
            )
    else:
        for step in checking:
            step.done_at = now
        if len(checking) == len(open_steps):
            # Every open account keeps a next step: talk about what is still open.
            set_next_step(
                session,
                SYSTEM,
                customer,
                NextStepInput(
                    NextStepKind.REVIEW,
                    now,
                    f"promise kept: {promise.amount_cents / 100:.2f} paid",
                ),
                now,
            )
    session.flush()
    audit(
        session,
        SYSTEM,
        status.value,
        "promise_to_pay",
        promise.id,
        customer_id=customer.id,
        detail=f"paid {promise.paid_cents / 100:.2f} of {promise.amount_cents / 100:.2f}",
        at=now,
    )
    refresh_customer(session, customer)
