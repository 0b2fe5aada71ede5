"""Recompute a customer's derived columns (arrears, flags, next step, queue group).

Called by every service that changes something about a customer, in the same
transaction, so the queue query can stay a single indexed SELECT.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.domain import queue as queue_rules
from agent_desk.domain.codes import ArrangementStatus, CustomerStatus, InstalmentStatus
from agent_desk.models import Arrangement, Claim, Customer, Instalment, NextStep, PromiseToPay


def facts_of(customer: Customer) -> queue_rules.QueueFacts:
    return queue_rules.QueueFacts(
        open=customer.status == CustomerStatus.OPEN,
        arrears_cents=customer.arrears_cents,
        oldest_due_date=customer.oldest_due_date,
        first_time_arrears=customer.first_time_arrears,
        broken_arrangement=customer.broken_arrangement,
        missed_instalment=customer.missed_instalment,
        called_in=customer.called_in_at is not None,
        next_step_kind=customer.next_step_kind,
        next_step_due_at=customer.next_step_due_at,
        paused_until=customer.paused_until,
    )


def refresh_customers(session: Session, customer_ids: Iterable[int]) -> None:
    for customer_id in set(customer_ids):
        customer = session.get(Customer, customer_id)
        if customer is not None:
            refresh_customer(session, customer)


def refresh_customer(session: Session, customer: Customer) -> None:
    session.flush()
    claims = session.scalars(select(Claim).where(Claim.customer_id == customer.id)).all()
    open_claims = [c for c in claims if c.settled_on is None and c.outstanding_cents > 0]
    arrears = sum(c.outstanding_cents for c in open_claims)
    oldest = min((c.due_date for c in open_claims), default=None)
    promises = session.scalar(
        select(func.count())
        .select_from(PromiseToPay)
        .where(PromiseToPay.customer_id == customer.id)
    )
    arrangement_statuses = list(
        session.scalars(select(Arrangement.status).where(Arrangement.customer_id == customer.id))
    )
    missed = session.scalar(
        select(func.count())
        .select_from(Instalment)
        .join(Arrangement)
        .where(
            Arrangement.customer_id == customer.id,
            Arrangement.status == ArrangementStatus.ACTIVE,
            Instalment.status == InstalmentStatus.MISSED,
        )
    )
    history = [queue_rules.ClaimHistory(c.due_date, c.settled_on) for c in claims]
    first_time = queue_rules.is_first_time_arrears(
        history, earlier_promises=int(promises or 0), earlier_arrangements=len(arrangement_statuses)
    )
    step = session.scalars(
        select(NextStep)
        .where(NextStep.customer_id == customer.id, NextStep.done_at.is_(None))
        .order_by(NextStep.due_at)
        .limit(1)
    ).first()
    values = {
        "arrears_cents": arrears,
        "oldest_due_date": oldest,
        "first_time_arrears": first_time,
        "broken_arrangement": ArrangementStatus.BROKEN in arrangement_statuses
        and ArrangementStatus.ACTIVE not in arrangement_statuses,
        "missed_instalment": bool(missed),
        "next_step_kind": step.kind if step else None,
        "next_step_due_at": step.due_at if step else None,
    }
    for name, value in values.items():
        if getattr(customer, name) != value:
            setattr(customer, name, value)
    new_bucket = int(queue_rules.bucket(facts_of(customer)))
    if customer.queue_bucket != new_bucket:
        customer.queue_bucket = new_bucket
