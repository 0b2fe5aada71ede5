"""Taking customers from the queue: claim the next one, hold one, release holds.

One job: who works which customer right now. A claim picks the most urgent eligible
customer and holds it for the agent in one statement (on PostgreSQL one round trip
through a prepared function), so two desks never get the same customer; a hold is
given back when the desk moves on. The queue itself (what is eligible, in which
order, as rows) is :mod:`agent_desk.services.queue`'s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Table,
    Text,
    bindparam,
    event,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from agent_desk.domain import queue as queue_rules
from agent_desk.domain.codes import CustomerStatus
from agent_desk.domain.queue_view import QueueRow, QueueScope
from agent_desk.domain.team_day import local_day
from agent_desk.models import AuditEvent, Customer
from agent_desk.services.actor import Actor
from agent_desk.services.changelog import NOTIFY_CHANNEL, log_changes
from agent_desk.services.database import PING_AFTER_IDLE_SECONDS, Database
from agent_desk.services.queue import _ROW_COLUMNS, _row, queue_statement

DEFAULT_LEASE = timedelta(minutes=20)


def claim_next(
    session: Session,
    actor: Actor,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
    *,
    release_previous: bool = True,
) -> QueueRow | None:
    """Hold the top customer of the actor's queue for this desk (no one else gets it).

    On PostgreSQL the row is locked with ``FOR UPDATE SKIP LOCKED`` so concurrent desks
    never take the same customer; SQLite serialises writers anyway. A customer with a
    live hold is never claimed, not even one held by the same agent on another desk.
    ``release_previous=False`` keeps the agent's other holds (several desks or scripts
    of one agent; they release with ``release_holds`` or per customer).
    """
    if actor.agent_id is None:
        return None
    if release_previous:
        release_holds(session, actor)
    if session.get_bind().dialect.name == "postgresql":
        return _claim_postgresql(session, actor.agent_id, now, lease)
    statement = queue_statement(QueueScope(actor.agent_id), now, actor.agent_id)
    statement = statement.where(
        or_(Customer.held_until.is_(None), Customer.held_until <= now)
    ).limit(1)
    customer_id: int | None = session.scalar(statement)
    if customer_id is None:
        return None
    # Hot path (many desks at once): plain Core statements, one round trip each.
    table = cast(Table, Customer.__table__)
    record = session.execute(
        update(table)
        .where(table.c.id == customer_id)
        .values(held_by_agent_id=actor.agent_id, held_until=now + lease)
        .returning(*(table.c[column.key] for column in _ROW_COLUMNS))
    ).one()
    log_changes(session, "customer", [customer_id], "update", [customer_id])
    session.execute(
        insert(AuditEvent).values(
            at=now,
            agent_id=actor.agent_id,
            action="claim",
            entity="customer",
            entity_id=customer_id,
            customer_id=customer_id,
            detail="",
        )
    )
    return _row(record, now)


def claim_next_alone(
    database: Database, actor: Actor, now: datetime, lease: timedelta = DEFAULT_LEASE
) -> QueueRow | None:
    """``claim_next`` as a unit of work of its own (keeping the agent's other holds).

    On PostgreSQL one round trip carries two transactions (see :func:`_claim_script`):
    the claim (one statement: pick, hold, audit row, change-log row), committed
    durably, then the wake-up ``NOTIFY`` for the other desks; it runs on the pooled
    driver connection itself, no session around it, and a desk claiming one customer
    after the other keeps that connection between its claims (see
    :func:`_claim_connection`). SQLite needs several statements and gets an ordinary
    transaction; so does a server not yet at migration 0010.
    """
    if database.is_sqlite or actor.agent_id is None:
        with database.transaction() as session:
            return claim_next(session, actor, now, lease, release_previous=False)
    with _claim_connection(database) as pooled:
        record = _claim_in_one_round_trip(pooled, actor.agent_id, now, lease)
    if record is _NOT_MIGRATED:
        with database.transaction() as session:
            return claim_next(session, actor, now, lease, release_previous=False)
    return None if record is None else _row(record, now)


@dataclass
class _ClaimLine:
    """A desk's connection for claims in a row, kept out of the pool between them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pooled: Any = None  # a pooled connection, checked out, in autocommit
    used: float = 0.0  # time.monotonic() of the end of its last claim

    def hand_back(self, *, close: bool = False) -> None:
        """Give the connection back to the pool (``close``: close it instead)."""
        pooled, self.pooled = self.pooled, None
        if pooled is None:
            return
        import psycopg

        if close:
            pooled.invalidate()
            return
        if pooled.is_valid:
            raw = pooled.driver_connection
            with suppress(psycopg.Error):
                if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    raw.rollback()
                raw.autocommit = False
        pooled.close()


_LINES: WeakKeyDictionary[Database, _ClaimLine] = WeakKeyDictionary()
_LINES_LOCK = threading.Lock()


def _line_of(database: Database) -> _ClaimLine:
    with _LINES_LOCK:
        line = _LINES.get(database)
        if line is None:
            line = _LINES[database] = _ClaimLine()
            keep = line

            def disposed(_engine: Any) -> None:
                with keep.lock:
                    keep.hand_back(close=True)

            event.listen(database.engine, "engine_disposed", disposed)
        return line


@contextmanager
def _claim_connection(database: Database) -> Iterator[Any]:
    """A pooled connection in autocommit for one claim (``Database.autocommitted``'s
    errors and sentences), kept checked out for the desk's next claim.

    Checking a connection out of the pool and back in (events, reset, autocommit on
    and off) cost a fifth of a claim on a busy desk machine, so a desk claiming one
    customer after the other does it once. A kept connection idle for
    :data:`~agent_desk.services.database.PING_AFTER_IDLE_SECONDS` or longer goes back
    to the pool first, which pings it at the checkout as it does every idle
    connection; one that failed is given back (or dropped when broken); disposing of
    the database closes it. A second thread of the same desk claiming meanwhile uses
    the pool as before.
    """
    import psycopg

    line = _line_of(database)
    if not line.lock.acquire(blocking=False):
        with database.autocommitted() as pooled:
            yield pooled
        return
    try:
        stale = time.monotonic() - line.used >= PING_AFTER_IDLE_SECONDS
        if line.pooled is not None and (stale or not line.pooled.is_valid):
            line.hand_back()
        if line.pooled is None:
            fresh: Any = database.engine.raw_connection()
            fresh.driver_connection.autocommit = True
            line.pooled = fresh
        pooled = line.pooled
        try:
            yield pooled
        except psycopg.Error as error:
            raw = pooled.driver_connection
            if raw.broken or raw.closed:
                pooled.invalidate(error)
            line.hand_back()
            wrapped = DBAPIError.instance(None, None, error, psycopg.Error)
            raise (
                database._friendly(wrapped) if isinstance(wrapped, DBAPIError) else wrapped
            ) from None
        except BaseException:
            line.hand_back()
            raise
        line.used = time.monotonic()
    finally:
        line.lock.release()


#: The advisory lock a desk's wake-up hint takes (per database, like the channel).
NOTIFY_GATE = 0x61676E74  # "agnt"
#: The session setting through which the claim tells the hint its change id.
_CLAIMED_SETTING = "agent_desk.claimed_change"


#: The claim statement's name on each pooled connection (``PREPARE``, once per connection).
_PREPARED = "agent_desk_claim"
#: Its parameters, in order, with their types: the rest of its values are constants.
_PREPARED_PARAMETERS = (("agent_id", "bigint"), ("now", "timestamptz"), ("until", "timestamptz"),
                        ("today", "date"))  # fmt: skip
_HAS_PREPARED = "agent_desk.claim_prepared"  # key in the DBAPI connection's info


def _claim_script() -> str:
    """The claim and its wake-up hint: two transactions, one round trip.

    The claim is the prepared statement :data:`_PREPARED` (see :func:`_prepare_text`):
    the server parses and plans it once per connection instead of once per claim,
    which was a third of a claim's server time. A ``NOTIFY`` in the claim's own
    transaction would take PostgreSQL's cluster-wide notify lock at its commit and
    keep it until the commit is on disk, so twenty desks' claims committed one after
    the other (0.15x a bare ``SKIP LOCKED`` loop, p99 in seconds). So the claim logs
    its change quietly (migration 0010) and commits durably; then, in the same simple
    query, a second transaction sends the hint, which is only "read your cursor":

    - by one desk at a time (``pg_try_advisory_xact_lock``): a desk that finds the
      gate taken skips its hint, because the other desk's notification is delivered
      after that desk's commit, so after this desk's claim was committed, and every
      desk reads on every wake-up (a wake during a read reads again);
    - without waiting for the disk (a notification does not outlive a server
      restart anyway);
    - only when something was claimed: the claim statement leaves its change id in
      a session setting, which the hint reads and clears.

    The client binds the parameters (psycopg's ``ClientCursor``): a simple query may
    hold several statements; an error stops the script before the hint.
    """
    arguments = ", ".join(f"%({name})s" for name, _type in _PREPARED_PARAMETERS)
    return f"BEGIN; EXECUTE {_PREPARED}({arguments}); COMMIT; EXECUTE {_PREPARED_HINT}"


#: The wake-up hint's name on each pooled connection, prepared with the claim.
_PREPARED_HINT = "agent_desk_claim_hint"


def _hint_text() -> str:
    """``PREPARE`` of the hint: one statement, its own (implicit) transaction.

    It reads the change id the claim left (a subquery, so before it is cleared),
    notifies when it holds the gate, and commits without waiting for the disk
    (``set_config(..., true)``: this transaction only).
    """
    return (
        f"PREPARE {_PREPARED_HINT} AS "
        "SELECT CASE WHEN hint.c IS NOT NULL "
        f"AND pg_try_advisory_xact_lock({NOTIFY_GATE}) "
        f"THEN pg_notify('{NOTIFY_CHANNEL}', hint.c)::text END AS hinted, "
        "set_config('synchronous_commit', 'off', true) AS unhurried, "
        f"set_config('{_CLAIMED_SETTING}', '', false) AS cleared "
        f"FROM (SELECT nullif(current_setting('{_CLAIMED_SETTING}', true), '') AS c "
        "OFFSET 0) AS hint"
    )


def _prepare_text() -> str:
    """``PREPARE`` of the claim statement: its parameters ``$1``…, its constants inlined.

    The constants are the statement's own (the status, the bucket bound, the audit
    row's words), quoted by psycopg; nothing of a caller's goes into this text.
    """
    import re

    from psycopg.sql import Literal

    compiled = _claim_compiled()
    position = {name: n for n, (name, _type) in enumerate(_PREPARED_PARAMETERS, start=1)}

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in position:
            return f"${position[name]}"
        value = compiled.params[name]
        return Literal(getattr(value, "value", value)).as_string(None)

    body = re.sub(r"%\((\w+)\)s", placeholder, str(compiled)).replace("%%", "%")
    types = ", ".join(type_ for _name, type_ in _PREPARED_PARAMETERS)
    return f"PREPARE {_PREPARED}({types}) AS {body}"


def _claim_compiled() -> Any:
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    return _CLAIM_QUIETLY.compile(dialect=PGDialect_psycopg())  # type: ignore[no-untyped-call]


_NOT_MIGRATED = object()  # the server has no agent_desk_log_changes_quietly yet


def prepare_claims(database: Database) -> None:
    """Do a desk's one-time claim set-up now (at start, not in its first claim).

    Builds the claim script (imports, compiling), asks the desk's claim connection
    (:func:`_claim_connection`) whether the server has migration 0010 and prepares
    the claim statement on it; the first claim then costs what every claim does.
    """
    if database.is_sqlite:
        return
    _claim_script_and_constants()
    with _claim_connection(database) as pooled:
        if _has_quiet_log(pooled):
            _prepare(pooled)


def _claim_script_and_constants() -> tuple[str, str]:
    """The claim script and the ``PREPARE`` of its statement (built once per process)."""
    global _CLAIM_SCRIPT, _PREPARE
    if _CLAIM_SCRIPT is None:
        _PREPARE = _prepare_text()
        _CLAIM_SCRIPT = _claim_script()
        import psycopg.rows  # noqa: F401  (loaded here, not in the first claim)
    return _CLAIM_SCRIPT, _PREPARE


def _has_quiet_log(pooled: Any) -> bool:
    """Migration 0010 on this server (asked once per pooled connection)."""
    if pooled.info.get(_HAS_QUIET_LOG) is None:
        found = pooled.driver_connection.execute(
            "SELECT to_regprocedure('agent_desk_log_changes_quietly"
            "(text[],bigint[],text[],bigint[])') IS NOT NULL"
        ).fetchone()
        pooled.info[_HAS_QUIET_LOG] = bool(found and found[0])
    return bool(pooled.info[_HAS_QUIET_LOG])


def _prepare(pooled: Any, *, again: bool = False) -> None:
    """The claim statement prepared on this pooled connection (once; ``again`` anew)."""
    import psycopg

    if pooled.info.get(_HAS_PREPARED) and not again:
        return
    raw = pooled.driver_connection
    _script, prepare = _claim_script_and_constants()
    for name, text_ in ((_PREPARED, prepare), (_PREPARED_HINT, _hint_text())):
        if again:
            with suppress(psycopg.errors.InvalidSqlStatementName):
                raw.execute(f"DEALLOCATE {name}")
        try:
            raw.execute(text_, prepare=False)
        except psycopg.errors.DuplicatePreparedStatement:  # prepared, but not by us: anew
            raw.execute(f"DEALLOCATE {name}")
            raw.execute(text_, prepare=False)
    pooled.info[_HAS_PREPARED] = True


def _claim_in_one_round_trip(pooled: Any, agent_id: int, now: datetime, lease: timedelta) -> Any:
    """The claim script on a pooled connection in autocommit: the row, None, or
    ``_NOT_MIGRATED`` (asked once per connection).

    A prepared statement that went missing (``DEALLOCATE ALL`` or ``DISCARD ALL`` on
    the connection) or whose plan no longer fits the tables (a migration while the
    desk ran) is prepared anew and the claim tried once more: the failed try was
    rolled back whole, before its hint.
    """
    import psycopg

    if not _has_quiet_log(pooled):
        return _NOT_MIGRATED
    _prepare(pooled)
    values = {"agent_id": agent_id, "now": now, "until": now + lease, "today": local_day(now)}
    try:
        return _run_claim_script(pooled, values)
    except (psycopg.errors.InvalidSqlStatementName, psycopg.errors.FeatureNotSupported):
        raw = pooled.driver_connection
        if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raw.rollback()
        _prepare(pooled, again=True)
        return _run_claim_script(pooled, values)


def _run_claim_script(pooled: Any, values: dict[str, Any]) -> Any:
    from psycopg import ClientCursor
    from psycopg.rows import namedtuple_row

    script, _prepare_statement = _claim_script_and_constants()
    with ClientCursor(pooled.driver_connection, row_factory=namedtuple_row) as cursor:
        cursor.execute(script, values)
        cursor.nextset()  # past BEGIN: the claim's rows
        record = cursor.fetchone()
        while cursor.nextset():  # COMMIT, the hint's transaction: nothing to read
            pass
    return record


_CLAIM_SCRIPT: str | None = None
_PREPARE = ""


def _claim_statement(*, quietly: bool = False) -> Any:
    """Pick, hold and audit in one statement (PostgreSQL): one round trip, one plan.

    ``quietly``: the change-log row through ``agent_desk_log_changes_quietly`` (the
    same checks, no ``NOTIFY``; the caller notifies after the commit).

    ``FOR UPDATE SKIP LOCKED`` passes over a row another desk is claiming this very
    moment; the hold and the audit row are written by the same statement. Built once
    with bound parameters, so SQLAlchemy compiles it once per process.
    """
    table = cast(Table, Customer.__table__)
    now: Any = bindparam("now")
    until: Any = bindparam("until")
    agent: Any = bindparam("agent_id")
    picked = (
        select(Customer.id)
        .where(
            Customer.assigned_agent_id == agent,
            Customer.status == CustomerStatus.OPEN,
            Customer.queue_bucket < int(queue_rules.Bucket.NOT_IN_QUEUE),
            or_(Customer.paused_until.is_(None), Customer.paused_until < bindparam("today")),
            or_(Customer.next_step_due_at.is_(None), Customer.next_step_due_at <= now),
            # The server's clock decides whether a hold has run out, not the desk's:
            # a desk whose clock runs fast must not take a colleague's live hold.
            or_(Customer.held_until.is_(None), Customer.held_until <= func.now()),
        )
        .order_by(
            Customer.queue_bucket.asc(),
            Customer.oldest_due_date.asc(),
            Customer.arrears_cents.desc(),
            Customer.id,
        )
        .limit(1)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    held = (
        update(table)
        .where(table.c.id == picked.c.id)
        .values(held_by_agent_id=agent, held_until=func.now() + (until - now))  # the lease
        .returning(*(table.c[column.key] for column in _ROW_COLUMNS))
        .cte("held")
    )
    audited = (
        insert(AuditEvent)
        .from_select(
            ["at", "agent_id", "action", "entity", "entity_id", "customer_id", "detail"],
            select(
                now,
                agent,
                literal("claim"),
                literal("customer"),
                held.c.id,
                held.c.id,
                literal(""),
            ),
        )
        .returning(AuditEvent.id)
        .cte("audited")
    )
    # The change-log row (and its NOTIFY unless quietly), through the database's own
    # function (which checks that the customer is the agent's), in the same statement.
    row = func.array(select(held.c.id).scalar_subquery())
    log_function = func.agent_desk_log_changes_quietly if quietly else func.agent_desk_log_changes
    logged = (
        select(
            log_function(
                literal_column("ARRAY['customer']"),
                func.array(select(held.c.id).scalar_subquery()),
                literal_column("ARRAY['update']"),
                row,
            ).label("change_id")
        )
        .where(exists(select(held.c.id)))
        .cte("logged")
    )
    change_id: Any = logged.c.change_id
    if quietly:  # left for the wake-up hint of claim_next_alone (a session setting)
        change_id = func.set_config(_CLAIMED_SETTING, cast_(change_id, Text), False)
    return select(
        held,
        select(func.count()).select_from(audited).scalar_subquery().label("audited"),
        select(change_id).scalar_subquery().label("change_id"),
    )


_CLAIM = _claim_statement()
_CLAIM_QUIETLY = _claim_statement(quietly=True)
_HAS_QUIET_LOG = "agent_desk.log_changes_quietly"  # key in the DBAPI connection's info


def _claim_record(
    session: Session, statement: Any, agent_id: int, now: datetime, lease: timedelta
) -> Any:
    return session.execute(
        statement,
        {"agent_id": agent_id, "now": now, "until": now + lease, "today": local_day(now)},
    ).first()


def _claim_postgresql(
    session: Session, agent_id: int, now: datetime, lease: timedelta
) -> QueueRow | None:
    record = _claim_record(session, _CLAIM, agent_id, now, lease)
    if record is None:
        return None
    return _row(record, now)


def hold(
    session: Session,
    actor: Actor,
    customer_id: int,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> bool:
    """Hold a customer the agent opened by hand (or renew the hold on the one open);
    False when a colleague holds it.

    The hold is written only where no colleague's hold is live *in the database*, in
    the same statement that writes it: a colleague's desk may claim the customer
    between a read and the write, and that claim must stand. On PostgreSQL the
    server's clock decides whether a hold ran out (a desk's clock may be wrong)."""
    customer = session.get(Customer, customer_id)
    if customer is None or actor.agent_id is None:
        return False
    held_elsewhere = customer.held_by_agent_id not in (None, actor.agent_id)
    if held_elsewhere and customer.held_until is not None and customer.held_until > now:
        return False
    release_holds(session, actor, keep=customer_id)
    postgres = session.get_bind().dialect.name == "postgresql"
    clock: Any = func.now() if postgres else now
    result: Any = session.execute(
        update(Customer)
        .where(
            Customer.id == customer_id,
            or_(
                Customer.held_by_agent_id.is_(None),
                Customer.held_by_agent_id == actor.agent_id,
                Customer.held_until.is_(None),
                Customer.held_until <= clock,
            ),
        )
        .values(
            held_by_agent_id=actor.agent_id,
            held_until=(func.now() + lease) if postgres else now + lease,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(customer, ["held_by_agent_id", "held_until"])
    if result.rowcount != 1:
        return False  # a colleague's hold came first
    log_changes(session, "customer", [customer_id], "update", [customer_id])
    return True


def release_holds(session: Session, actor: Actor, keep: int | None = None) -> int:
    """Release every customer this agent holds (moving on, closing the desk)."""
    if actor.agent_id is None:
        return 0
    if _has_release_function(session):
        return _release_in_database(session, actor.agent_id, keep)
    statement = select(Customer.id).where(Customer.held_by_agent_id == actor.agent_id)
    if keep is not None:
        statement = statement.where(Customer.id != keep)
    ids = list(session.scalars(statement))
    _set_hold(session, ids, None, None)
    return len(ids)


_RELEASE = text("SELECT agent_desk_release_holds(:agent, :keep)")
_HAS_RELEASE = "agent_desk.release_holds_function"  # key in the DBAPI connection's info


def _has_release_function(session: Session) -> bool:
    """PostgreSQL from migration 0006: releasing goes through the database's function.

    An agent's own ``UPDATE`` cannot release a customer they no longer see once
    released (a colleague's customer reassigned meanwhile, or an inbound caller):
    PostgreSQL checks the new row against the reading policy too.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return False
    info = connection.connection.info
    if info.get(_HAS_RELEASE) is None:
        found = connection.scalar(
            text("SELECT to_regprocedure('agent_desk_release_holds(bigint,bigint)') IS NOT NULL")
        )
        if found:
            info[_HAS_RELEASE] = True
        return bool(found)
    return True


def _release_in_database(session: Session, agent_id: int, keep: int | None) -> int:
    released = list(session.scalar(_RELEASE, {"agent": agent_id, "keep": keep}) or [])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Customer) and obj.id in released:
            session.expire(obj, ["held_by_agent_id", "held_until"])
    return len(released)


def _set_hold(
    session: Session, ids: list[int], agent_id: int | None, until: datetime | None
) -> None:
    """A hold is not an edit of the customer: it does not bump the version.

    ``evaluate``, not ``fetch``: on PostgreSQL ``fetch`` adds ``RETURNING``, and a
    returned row must pass the reading policy, which a released customer of a
    colleague (reassigned meanwhile, or an inbound caller) no longer does.
    """
    if not ids:
        return
    session.execute(
        update(Customer)
        .where(Customer.id.in_(ids))
        .values(held_by_agent_id=agent_id, held_until=until)
        .execution_options(synchronize_session="evaluate")
    )
    log_changes(session, "customer", ids, "update", ids)
