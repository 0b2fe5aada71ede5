"""Opening a customer at the desk: held for this agent while open, with their file.

Each call is one transaction on the worker: open a customer chosen by hand (or learn
that a colleague has them), take the top of the queue, read the file again after a
change. The hold itself and the queue's order are ``queue``'s; a hold with an end of
the caller's choosing (scripts, ``agent-desk next``) is ``leases``'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from agent_desk.services.actor import Actor
from agent_desk.services.customer_file import CustomerFile, customer_file
from agent_desk.services.queue import claim_next, hold


@dataclass(frozen=True)
class Opened:
    file: CustomerFile | None
    held: bool  # False: a colleague has this customer open


def open_customer(session: Session, actor: Actor, customer_id: int, now: datetime) -> Opened:
    """Open a customer chosen by hand and hold it for this agent while it is open."""
    held = hold(session, actor, customer_id, now)
    if not held:
        return Opened(None, False)
    return Opened(customer_file(session, actor, customer_id, now), True)


def next_customer(session: Session, actor: Actor, now: datetime) -> CustomerFile | None:
    """Claim the top of the queue (held for this agent) and return its file."""
    row = claim_next(session, actor, now)
    if row is None:
        return None
    return customer_file(session, actor, row.customer_id, now)


def reload_file(session: Session, actor: Actor, customer_id: int, now: datetime) -> CustomerFile:
    """The latest file after a change (not a new view, so not audited again)."""
    return customer_file(session, actor, customer_id, now, audit_view=False)
