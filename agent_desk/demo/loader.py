"""Loading the demo: the generator's rows written in bulk into an empty database.

Realistic, deterministic demo data, loaded in bulk (Core executemany, or COPY on
PostgreSQL; not ORM rows). Every story the desk must handle appears: first-time
arrears, long-running arrears, broken promises and arrangements, an introductory
discount ending, a self-employed customer waiting for support, paused and vulnerable
customers, callbacks due today. The same ``seed`` always gives the same data. The
rows come from ``generator`` (plain data); this module writes them through
``services.bulk``, derives their search keys, and ends with the early-signal stages
(``signals``), which go through the desk's own services.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from agent_desk.demo.cast import AGENTS, SUPERVISOR
from agent_desk.demo.generator import Batch, Generator
from agent_desk.demo.signals import add_signal_stages
from agent_desk.domain.codes import Role
from agent_desk.errors import AgentDeskError, UsageError
from agent_desk.models import (
    Agent,
    Arrangement,
    AuditEvent,
    ChangeLog,
    Claim,
    ContactAttempt,
    ContactPoint,
    Customer,
    CustomerSearchKey,
    DemandNotice,
    DemandNoticeClaim,
    Instalment,
    LedgerEntry,
    NextStep,
    PromiseToPay,
)
from agent_desk.services import bulk
from agent_desk.services.actor import actor_for_login
from agent_desk.services.search_index import keys_for_rows

#: How many customers the desk's demo database gets on first start.
DEMO_CUSTOMERS = 3000

#: The tables whose ids the generator hands out itself (besides the customer's).
GIVEN_IDS = (
    ContactPoint,
    Claim,
    ContactAttempt,
    NextStep,
    PromiseToPay,
    Arrangement,
    Instalment,
    DemandNotice,
)

#: The tables in the order their rows are written (what refers to a row comes after it).
WRITE_ORDER = [
    Customer,
    ContactPoint,
    Claim,
    CustomerSearchKey,
    DemandNotice,
    DemandNoticeClaim,
    LedgerEntry,
    PromiseToPay,
    Arrangement,
    Instalment,
    ContactAttempt,
    NextStep,
    ChangeLog,
    AuditEvent,
]


@dataclass(frozen=True)
class DemoSummary:
    agents: int
    customers: int
    claims: int
    contact_points: int
    attempts: int
    seconds: float


def _next_ids(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


def load_demo(
    session: Session,
    *,
    customers: int = 1000,
    agents: int = 6,
    seed: int = 42,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill an empty database with demo data in one transaction."""
    import time as clock

    started = clock.perf_counter()
    if customers < 1 or customers > 1_000_000:
        raise UsageError("Choose between 1 and 1,000,000 demo customers.")
    if agents < 1 or agents > len(AGENTS):
        raise UsageError("Choose between 1 and {most} demo agents.", most=len(AGENTS))
    if session.scalar(select(func.count()).select_from(Customer)):
        raise AgentDeskError(
            "This database already holds customers; demo data only goes into an empty "
            "database (choose another with --database)."
        )
    rng = random.Random(seed)
    today = today or date.today()
    now = datetime.combine(today, time(8, 30), tzinfo=UTC)

    agent_ids = _insert_agents(session, agents)
    generator = Generator(rng, today, now, agent_ids[:-1], supervisor_id=agent_ids[-1])
    customer_id = _next_ids(session, Customer)
    ids = {m: _next_ids(session, m) for m in GIVEN_IDS}
    generator.ids = ids
    chunk = 5000
    for start in range(0, customers, chunk):
        batch = Batch()
        for index in range(start, min(customers, start + chunk)):
            generator.customer(batch, customer_id, index)
            customer_id += 1
        _write(session, batch)
        if progress:
            progress(min(customers, start + chunk), customers)
    _reset_sequences(session)
    add_signal_stages(session, actor_for_login(session, SUPERVISOR[0]), now)  # issue 15
    return DemoSummary(
        agents=len(agent_ids),
        customers=customers,
        claims=ids[Claim] - 1,
        contact_points=ids[ContactPoint] - 1,
        attempts=ids[ContactAttempt] - 1,
        seconds=clock.perf_counter() - started,
    )


def _insert_agents(session: Session, count: int) -> list[int]:
    ids: list[int] = []
    for login, name in [*AGENTS[:count], SUPERVISOR]:
        existing = session.scalar(select(Agent.id).where(Agent.login == login))
        if existing is None:
            role = Role.SUPERVISOR if login == SUPERVISOR[0] else Role.AGENT
            agent = Agent(login=login, display_name=name, role=role.value, active=True)
            session.add(agent)
            session.flush()
            existing = agent.id
        ids.append(int(existing))
    return ids


def _write(session: Session, batch: Batch) -> None:
    """The batch's rows, with the search keys of its customers, one table at a time."""
    rows = batch.rows
    rows[CustomerSearchKey] = keys_for_rows(
        rows.get(Customer, []), rows.get(ContactPoint, []), rows.get(Claim, [])
    )
    copy = session.get_bind().dialect.name == "postgresql"
    for model in WRITE_ORDER:
        table_rows = rows.get(model)
        if table_rows and copy:
            columns = list(table_rows[0])
            bulk.copy_rows(
                session, model.__tablename__, columns, ([r[c] for c in columns] for r in table_rows)
            )
        elif table_rows:
            _executemany_rows(session, model.__table__, table_rows)  # type: ignore[arg-type]


def _executemany_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """SQLite: one executemany per table and batch. A column a row leaves out gets
    the column's default, as an ORM insert would give it."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    defaults: dict[str, Any] = {}
    for name in columns:
        default = table.c[name].default
        if default is None:
            defaults[name] = None
        elif default.is_scalar:
            defaults[name] = default.arg  # type: ignore[attr-defined]
        else:
            defaults[name] = default.arg(None)  # type: ignore[attr-defined]
    full = [row if len(row) == len(columns) else {**defaults, **row} for row in rows]
    bulk.executemany_rows(session, table, columns, full)


def _reset_sequences(session: Session) -> None:
    """Explicit ids were inserted: move PostgreSQL's sequences past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in (Agent, Customer, *GIVEN_IDS):
        table = model.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )
