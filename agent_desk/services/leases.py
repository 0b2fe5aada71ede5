"""Leases on customers: claim the next one for a set time, release one by number.

A lease is a hold with an end the caller chose, for work that is not a desk:
``agent-desk next`` and ``release``, scripts and load tests. These run many "desks" of
one agent at once, so a leased claim keeps the agent's other holds
(``release_previous=False``) and is given back explicitly. A desk's own hold (open a
customer, take the next) is ``opening``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent_desk.errors import ConflictError, NotFoundError
from agent_desk.models import Customer
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.changelog import log_changes
from agent_desk.services.queue import DEFAULT_LEASE, claim_next, release_holds


@dataclass(frozen=True)
class ClaimedCustomer:
    customer_id: int
    customer_number: str
    name: str
    lease_until: datetime


def claim_for_script(
    session: Session, actor: Actor, now: datetime, lease: timedelta = DEFAULT_LEASE
) -> ClaimedCustomer | None:
    """The next customer of the agent's queue, held until ``now + lease``; None if empty."""
    row = claim_next(session, actor, now, lease, release_previous=False)
    if row is None:
        return None
    return ClaimedCustomer(row.customer_id, row.customer_number, row.name, now + lease)


def release_customer(session: Session, actor: Actor, customer_number: str, now: datetime) -> bool:
    """Release one customer this agent holds; False when it was not held at all.

    A live hold by a colleague is theirs to release: that is a conflict, not a no-op.
    """
    customer = session.scalar(
        select(Customer).where(Customer.customer_number == customer_number.strip())
    )
    if customer is None:
        raise NotFoundError(
            "There is no customer {customer_number} you can see.", customer_number=customer_number
        )
    if customer.held_by_agent_id is None:
        return False
    if customer.held_by_agent_id != actor.agent_id:
        if customer.held_until is not None and customer.held_until > now:
            raise ConflictError(
                "Customer {customer_number} is on a colleague's desk; only they can release it.",
                customer_number=customer.customer_number,
            )
        return False
    session.execute(
        update(Customer)
        .where(Customer.id == customer.id, Customer.held_by_agent_id == actor.agent_id)
        .values(held_by_agent_id=None, held_until=None)
        .execution_options(synchronize_session="fetch")
    )
    log_changes(session, "customer", [customer.id], "update", [customer.id])
    audit(session, actor, "release", "customer", customer.id, customer_id=customer.id, at=now)
    return True


def release_all(session: Session, actor: Actor) -> int:
    """Release every customer the agent holds (all their desks); returns how many."""
    return release_holds(session, actor)
