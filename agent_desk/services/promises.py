"""Promises to pay resolve themselves: kept when the money arrived in time, broken not.

A promise is **kept** once the payments received from the day it was made up to its
date plus the grace days (``promise_grace_days`` in ``resources/policy/books.toml``)
add up to the promised amount; it is **broken** when that day has passed without it.
A payment resolves a promise at once; the nightly run breaks the ones whose day
passed. A broken promise puts the customer back in the queue to call again.

What counts towards a promise:

- a payment paid from the day the promise was made up to its last day; one paid on
  the day itself only when it reached the books after the promise was made (the
  agent saw the lower balance when the customer promised);
- each payment once: a customer with two promises does not keep both with one
  payment. Payments go to kept promises first (they keep their money), then to the
  other promises in the order they fall due.

The nightly run judges what the books know that night. When a payment paid on or
before the last day arrives after the run (the bank file comes the next morning),
the promise was kept after all: the payment turns it from broken into kept and
takes away the call about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from agent_desk.domain.codes import CustomerStatus, NextStepKind, PromiseStatus
from agent_desk.domain.ledger import BooksPolicy
from agent_desk.domain.team_day import local_day
from agent_desk.models import Customer, NextStep, Payment, PromiseToPay
from agent_desk.services import team_rules
from agent_desk.services.actor import SYSTEM
from agent_desk.services.audit import audit

BATCH = 1000


def last_day(promise_due: date, policy: BooksPolicy) -> date:
    """The last day a payment still keeps the promise."""
    return promise_due + timedelta(days=policy.promise_grace_days)


# ---------------------------------------------------------------- the rule, pure


@dataclass(frozen=True)
class PromiseTerms:
    id: int
    made_at: datetime
    amount_cents: int
    due_date: date
    status: str = PromiseStatus.OPEN.value
    resolved_on: date | None = None


@dataclass(frozen=True)
class Received:
    """A payment as the promises see it: paid on a day, on the books from a moment."""

    id: int
    paid_on: date
    booked_at: datetime
    amount_cents: int


@dataclass(frozen=True)
class Progress:
    paid: int  # what counts towards the promise, at most the promised amount
    full_on: date | None  # the day the promised amount was complete


def counts_towards(terms: PromiseTerms, payment: Received, policy: BooksPolicy) -> bool:
    made_on = local_day(terms.made_at)
    if not made_on <= payment.paid_on <= last_day(terms.due_date, policy):
        return False
    return payment.paid_on > made_on or payment.booked_at >= terms.made_at


def allocate(
    promises: Iterable[PromiseTerms], payments: Iterable[Received], policy: BooksPolicy
) -> dict[int, Progress]:
    """Share a customer's payments out over their promises, each payment once."""
    received = sorted((p for p in payments if p.amount_cents > 0), key=lambda p: (p.paid_on, p.id))
    left = {p.id: p.amount_cents for p in received}

    def order(t: PromiseTerms) -> tuple[int, date, int]:
        if t.status == PromiseStatus.KEPT.value:
            return 0, t.resolved_on or t.due_date, t.id
        return 1, t.due_date, t.id

    progress: dict[int, Progress] = {}
    for terms in sorted(promises, key=order):
        paid, full_on = 0, None
        for payment in received:
            if paid >= terms.amount_cents:
                break
            if not left[payment.id] or not counts_towards(terms, payment, policy):
                continue
            take = min(left[payment.id], terms.amount_cents - paid)
            left[payment.id] -= take
            paid += take
            if paid >= terms.amount_cents:
                full_on = payment.paid_on
        progress[terms.id] = Progress(paid, full_on)
    return progress


# ------------------------------------------------------------------- services


@dataclass
class PromiseRun:
    kept: int = 0
    broken: int = 0


def on_payments(
    session: Session,
    received: Mapping[int, Sequence[tuple[date, int]]],
    now: datetime,
    policy: BooksPolicy | None = None,
    *,
    earliest: date | None = None,
) -> int:
    """Payments arrived for these customers (already stored): resolve their promises.

    Open promises the money completes are kept at once; a broken promise whose last
    day a new payment falls on or before is kept after all when it is complete now.
    Returns how many promises were kept. ``earliest``: the first payment day of the
    whole import when it arrives in parts.
    """
    days = [paid_on for rows in received.values() for paid_on, _ in rows]
    if not days:
        return 0
    policy = policy or team_rules.books_policy(session)
    first = min(days) if earliest is None else min(earliest, min(days))
    recheck_from = first - timedelta(days=policy.promise_grace_days)
    return _review(session, list(received), now, policy, recheck_broken_due_from=recheck_from).kept


def resolve_due_promises(
    session: Session, today: date, now: datetime, policy: BooksPolicy | None = None
) -> PromiseRun:
    """The nightly run: every open promise whose last day is before ``today`` is kept
    (when paid) or broken. Running it twice changes nothing the second time."""
    policy = policy or team_rules.books_policy(session)
    cutoff = today - timedelta(days=policy.promise_grace_days)  # due before: last day passed
    customers = session.scalars(
        select(PromiseToPay.customer_id)
        .where(PromiseToPay.status == PromiseStatus.OPEN.value, PromiseToPay.due_date < cutoff)
        .distinct()
    ).all()
    return _review(session, customers, now, policy, today=today)


def _review(
    session: Session,
    customer_ids: Sequence[int],
    now: datetime,
    policy: BooksPolicy,
    *,
    today: date | None = None,
    recheck_broken_due_from: date | None = None,
) -> PromiseRun:
    run = PromiseRun()
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), BATCH):
        _review_batch(
            session, ids[start : start + BATCH], now, policy, run, today, recheck_broken_due_from
        )
    return run


def _review_batch(
    session: Session,
    ids: list[int],
    now: datetime,
    policy: BooksPolicy,
    run: PromiseRun,
    today: date | None,
    recheck_broken_due_from: date | None,
) -> None:
    wanted = PromiseToPay.status == PromiseStatus.OPEN.value
    if recheck_broken_due_from is not None:
        wanted = or_(
            wanted,
            and_(
                PromiseToPay.status == PromiseStatus.BROKEN.value,
                PromiseToPay.due_date >= recheck_broken_due_from,
            ),
        )
    candidates = session.execute(
        select(
            PromiseToPay.id,
            PromiseToPay.customer_id,
            PromiseToPay.created_at,
            PromiseToPay.due_date,
        ).where(PromiseToPay.customer_id.in_(ids), wanted)
    ).all()
    if not candidates:
        return
    candidate_ids = {row.id for row in candidates}
    customers = sorted({row.customer_id for row in candidates})
    # Every promise whose window overlaps a candidate's shares the same payments.
    horizon = min(min(local_day(row.created_at), row.due_date) for row in candidates)
    promises: dict[int, list[PromiseToPay]] = {}
    for promise in session.scalars(
        select(PromiseToPay)
        .where(
            PromiseToPay.customer_id.in_(customers),
            PromiseToPay.due_date >= horizon - timedelta(days=policy.promise_grace_days),
        )
        .order_by(PromiseToPay.due_date, PromiseToPay.id)
    ):
        promises.setdefault(promise.customer_id, []).append(promise)
    payments: dict[int, list[Received]] = {}
    for row in session.execute(
        select(
            Payment.id,
            Payment.customer_id,
            Payment.paid_on,
            Payment.created_at,
            Payment.amount_cents,
        ).where(Payment.customer_id.in_(customers), Payment.paid_on >= horizon)
    ):
        payments.setdefault(row.customer_id, []).append(
            Received(row.id, row.paid_on, row.created_at, row.amount_cents)
        )
    for customer_id in customers:
        mine = promises.get(customer_id, [])
        progress = allocate((_terms(p) for p in mine), payments.get(customer_id, []), policy)
        for promise in mine:
            if promise.id not in candidate_ids:
                continue
            done = progress[promise.id]
            if promise.status == PromiseStatus.OPEN.value:
                if promise.paid_cents != done.paid:
                    promise.paid_cents = done.paid
                if done.full_on is not None:
                    _resolve(session, promise, mine, PromiseStatus.KEPT, done.full_on, now)
                    run.kept += 1
                elif today is not None and last_day(promise.due_date, policy) < today:
                    day = last_day(promise.due_date, policy)
                    _resolve(session, promise, mine, PromiseStatus.BROKEN, day, now)
                    run.broken += 1
            elif done.full_on is not None:  # broken, but a late-arriving payment was in time
                promise.paid_cents = done.paid
                _resolve(session, promise, mine, PromiseStatus.KEPT, done.full_on, now)
                run.kept += 1


def _terms(promise: PromiseToPay) -> PromiseTerms:
    return PromiseTerms(
        promise.id,
        promise.created_at,
        promise.amount_cents,
        promise.due_date,
        promise.status,
        promise.resolved_on,
    )


def _resolve(
    session: Session,
    promise: PromiseToPay,
    siblings: Sequence[PromiseToPay],
    status: PromiseStatus,
    on: date,
    now: datetime,
) -> None:
    """Mark the promise and set the customer's next step that follows from it."""
    from agent_desk.services.activity import NextStepInput, set_next_step
    from agent_desk.services.derived import refresh_customer

    was_broken = promise.status == PromiseStatus.BROKEN.value
    promise.status = status.value
    promise.resolved_on = on
    customer = session.get(Customer, promise.customer_id)
    if customer is None:  # pragma: no cover - cascade deletes keep this from happening
        return
    # Another promise still running keeps its own check (the customer promised again).
    other_open = any(p.id != promise.id and p.status == PromiseStatus.OPEN.value for p in siblings)
    open_steps = list(
        session.scalars(
            select(NextStep).where(NextStep.customer_id == customer.id, NextStep.done_at.is_(None))
        )
    )
    if customer.status != CustomerStatus.OPEN.value:
        pass  # a closed customer has no next step
    elif status is PromiseStatus.BROKEN:
        # Call again, now: replaces a promise check, but not a callback an agent agreed.
        agreed = any(s.kind == NextStepKind.CALLBACK.value for s in open_steps)
        if not agreed and not other_open:
            set_next_step(
                session,
                SYSTEM,
                customer,
                NextStepInput(
                    NextStepKind.PROMISE_BROKEN,
                    now,
                    f"promise broken: {promise.amount_cents / 100:.2f} by "
                    f"{promise.due_date.isoformat()}",
                ),
                now,
            )
    else:
        done_kinds = {NextStepKind.PROMISE_BROKEN.value}
        if not other_open:
            done_kinds.add(NextStepKind.PROMISE_CHECK.value)
        finished = [s for s in open_steps if s.kind in done_kinds]
        for step in finished:
            step.done_at = now
        if len(finished) == len(open_steps):
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
    detail = f"paid {promise.paid_cents / 100:.2f} of {promise.amount_cents / 100:.2f}"
    if was_broken:
        detail += f"; a payment of {on.isoformat()} arrived after it was marked broken"
    audit(
        session,
        SYSTEM,
        status.value,
        "promise_to_pay",
        promise.id,
        customer_id=customer.id,
        detail=detail,
        at=now,
    )
    refresh_customer(session, customer)
