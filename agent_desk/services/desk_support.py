"""Use cases the desk (GUI) combines from the other services, each in one transaction.

Kept apart from the CLI-facing services so the desk's needs (open-and-hold, next
customer with its file, start-up state) do not change their signatures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.models import Agent, Customer
from agent_desk.services.actor import Actor
from agent_desk.services.customer_file import CustomerFile, customer_file
from agent_desk.services.database import Database
from agent_desk.services.queue import claim_next, hold

DEMO_CUSTOMERS = 3000


@dataclass(frozen=True)
class StartState:
    agents: int
    customers: int
    loaded_demo: bool

    @property
    def empty(self) -> bool:
        return self.agents == 0


def prepare_database(
    database: Database,
    *,
    demo: bool,
    customers: int = DEMO_CUSTOMERS,
    progress: Callable[[int, int], None] | None = None,
) -> StartState:
    """Bring the schema up to date; on the demo database, fill it on first start.

    A real database is never filled with demo data here: it is reported as empty.
    """
    database.check_connection()
    if database.is_empty() or not database.is_current():
        database.upgrade()
    loaded = False
    with database.transaction() as session:
        count = int(session.scalar(select(func.count()).select_from(Customer)) or 0)
        if demo and count == 0:
            from agent_desk.services.demo import load_demo  # the demo database only

            load_demo(session, customers=customers, progress=progress)
            loaded = True
    with database.transaction() as session:
        agents = int(session.scalar(select(func.count()).select_from(Agent)) or 0)
        count = int(session.scalar(select(func.count()).select_from(Customer)) or 0)
    return StartState(agents, count, loaded)


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
