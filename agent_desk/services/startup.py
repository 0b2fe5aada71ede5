"""The database at start-up: its schema brought up to date, and whether it holds work.

The desk calls this on its worker while the start-up window is shown. Filling the
demo database is the caller's to give (``fill``): the demo lives above the services
(``agent_desk.demo``), so this module never loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.models import Agent, Customer
from agent_desk.services.database import Database


@dataclass(frozen=True)
class StartState:
    agents: int
    customers: int
    loaded_demo: bool

    @property
    def empty(self) -> bool:
        return self.agents == 0


def prepare_database(
    database: Database, *, fill: Callable[[Session], object] | None = None
) -> StartState:
    """Bring the schema up to date; when it holds no customer yet, ``fill`` it (the
    demo database on first start) in one transaction.

    Without ``fill`` (every real database) an empty database is reported as empty.
    """
    database.check_connection()
    if database.is_empty() or not database.is_current():
        database.upgrade()
    loaded = False
    if fill is not None:
        with database.transaction() as session:
            if not session.scalar(select(func.count()).select_from(Customer)):
                fill(session)
                loaded = True
    with database.transaction() as session:
        agents = int(session.scalar(select(func.count()).select_from(Agent)) or 0)
        count = int(session.scalar(select(func.count()).select_from(Customer)) or 0)
    return StartState(agents, count, loaded)
