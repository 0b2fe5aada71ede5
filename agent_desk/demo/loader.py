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
from operator import itemgetter
from typing import Any

from sqlalchemy import Date, DateTime, Table, func, select, text
from sqlalchemy.orm import Session

from agent_desk.demo.cast import AGENTS, SUPERVISOR
from agent_desk.demo.generator import Batch, Generator
from agent_desk.demo.signals import add_signal_stages
from agent_desk.domain.codes import Role
from agent_desk.domain.search_keys import PointFacts, key_pairs
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
from agent_desk.models.base import UTCDateTime
from agent_desk.services import bulk
from agent_desk.services.actor import actor_for_login

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
    """The batch's rows, with the search keys of its customers, one table at a time.

    Every row of one table has the same keys (the generator writes each column), so a
    table's rows go as tuples straight to the driver: ``COPY`` on PostgreSQL, one
    ``executemany`` on SQLite with only the date and time columns turned into SQLite's
    text form (the same text SQLAlchemy writes; booleans and the rest go as the driver
    takes them), not every value of every column through its type's processor.
    """
    rows = batch.rows
    rows[CustomerSearchKey] = _search_keys(
        rows.get(Customer, []), rows.get(ContactPoint, []), rows.get(Claim, [])
    )
    copy = session.get_bind().dialect.name == "postgresql"
    for model in WRITE_ORDER:
        table_rows = rows.get(model)
        if not table_rows:
            continue
        columns = list(table_rows[0])
        get = itemgetter(*columns) if len(columns) > 1 else (lambda r, c=columns[0]: (r[c],))
        if copy:
            bulk.copy_rows(session, model.__tablename__, columns, map(get, table_rows))
        else:
            _executemany(session, model.__table__, columns, table_rows, get)  # type: ignore[arg-type]


def _search_keys(
    customers: list[dict[str, Any]],
    points: list[dict[str, Any]],
    claims: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The key rows of these customers: ``search_keys.key_pairs``, the rule itself (as
    ``search_index.keys_for_rows`` applies it), with the keys of a name worked out once
    per name (the demo's names repeat; a customer's keys are the union of its parts')."""
    by_customer: dict[int, list[PointFacts]] = {}
    for p in points:
        by_customer.setdefault(p["customer_id"], []).append(
            PointFacts(p["kind"], p["value"], p["postcode"], p["house_number"])
        )
    references: dict[int, list[str]] = {}
    for c in claims:
        references.setdefault(c["customer_id"], []).append(c["reference"])
    names: dict[tuple[str, str], set[tuple[str, str]]] = {}
    rows: list[dict[str, Any]] = []
    append = rows.append
    for c in customers:
        cid = c["id"]
        name = (c["first_name"] or "", c["last_name"])
        name_keys = names.get(name)
        if name_keys is None:
            name_keys = names[name] = key_pairs("", *name)
        pairs = key_pairs(
            c["customer_number"], "", "", by_customer.get(cid, ()), references.get(cid, ())
        )
        for field, key in pairs | name_keys:
            append({"customer_id": cid, "field": field, "key": key})
    return rows


def _utc_text(process: Callable[[Any], Any]) -> Callable[[datetime], Any]:
    """SQLite's text of an aware UTC datetime, as ``UTCDateTime`` writes it
    ("2026-03-02 08:30:00.000000"), made by ``datetime.isoformat``; other values go
    through the type's own processor (which refuses a naive one)."""

    def to_text(value: datetime) -> Any:
        if value.tzinfo is UTC:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return process(value)

    return to_text


def _executemany(
    session: Session,
    table: Table,
    columns: list[str],
    rows: list[dict[str, Any]],
    get: Callable[[dict[str, Any]], tuple[Any, ...]],
) -> None:
    """SQLite: one executemany per table and batch, in the session's transaction.

    The batch's rows are its own: their dates and times are replaced by their SQLite
    text in place (ISO dates; UTC datetimes as ``UTCDateTime`` stores them).
    """
    session.flush()
    connection = session.connection()
    dialect = connection.dialect
    for name in columns:
        kind = table.c[name].type
        to_text: Callable[[Any], Any] | None
        if isinstance(kind, UTCDateTime):
            to_text = _utc_text(kind.dialect_impl(dialect).bind_processor(dialect))  # type: ignore[arg-type]
        elif isinstance(kind, (Date, DateTime)):
            to_text = kind.dialect_impl(dialect).bind_processor(dialect)
        else:
            continue
        assert to_text is not None
        done: dict[Any, Any] = {}  # they repeat ("now" on every ledger entry)
        for row in rows:
            value = row[name]
            if value is None:
                continue
            text_form = done.get(value)
            if text_form is None:
                text_form = done[value] = to_text(value)
            row[name] = text_form
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # names from our own models
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, list(map(get, rows)))
    finally:
        cursor.close()


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
