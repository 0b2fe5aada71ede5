"""``import customers``: read the file of customers with their claims, check it, write it.

One job: the import's run. Rows are streamed, parsed and checked on their own and
against each other (:class:`_Consistency`), and handed on chunk by chunk to
:class:`~agent_desk.services.importers.customer_writer.CustomerWriter`, which writes
them in the caller's transaction; any bad row stops the writing and is reported.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from agent_desk.domain import import_rows as rules
from agent_desk.domain.team_day import local_day
from agent_desk.i18n import N_
from agent_desk.models import (
    Agent,
)
from agent_desk.services import bulk, ledger
from agent_desk.services.actor import Actor
from agent_desk.services.importers.customer_writer import CustomerWriter, Plan
from agent_desk.services.importers.reading import (
    ImportRejected,
    ImportResult,
    Progress,
    RowError,
    stream_rows,
)

#: Rows parsed before they are written together.
CHUNK_ROWS = 5000
#: SQLite's page cache for the import's connection while it runs (KiB): a chunk
#: writes to some thirty indexes in turn, which the default 2 MB cannot hold.
IMPORT_CACHE_KIB = 65536


#: The row triggers of migration 0011 that keep ``customer.contact_verified_at`` as
#: contact points are inserted (SQLite); PostgreSQL's are per statement already.
_POINT_INSERT_TRIGGERS = (
    "contact_point_checked_insert_never",
    "contact_point_checked_insert_verified",
)
# The one definition of the column's value (migration 0011's), for the customers
# whose contact points the import inserted.
_CONTACT_CHECK = (
    "(SELECT CASE WHEN count(*) = count(p.verified_at) THEN min(p.verified_at) END "
    "FROM contact_point p WHERE p.customer_id = customer.id AND p.invalid = 0)"
)


@contextlib.contextmanager
def _bulk_settings(session: Session) -> Iterator[None]:
    """SQLite, for the import's run: a larger page cache for its connection (put back
    afterwards: the connection returns to the pool; ``temp_store`` cannot change
    within a transaction, and the import makes no temporary tables), and the contact
    check of 0011 worked out once for the customers given new points instead of by a
    trigger for each of the points.

    The two insert triggers are dropped and created again from their own text in the
    import's transaction: SQLite's schema changes are part of the transaction (a
    rollback brings them back) and no other connection can write meanwhile or sees
    the change before the commit, by when they are back. They are created again
    whatever happens, so a caller that commits after a rejected import keeps them."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    cache = int(connection.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    connection.exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    marks = ", ".join("?" for _ in _POINT_INSERT_TRIGGERS)
    triggers = connection.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks}) "
        "ORDER BY name",
        _POINT_INSERT_TRIGGERS,
    ).all()
    session.flush()
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        # The sqlite3 module opens its transaction only before a row is written; the
        # triggers are set aside inside it, never in a statement of their own. The
        # write lock is taken now (IMMEDIATE): a deferred transaction that read first
        # could not write after another run's commit, and would fail at once.
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as error:
            if "locked" not in str(error.orig).lower():
                raise
            raise ledger.books_busy() from None
    last_point = int(
        connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM contact_point").scalar() or 0
    )
    for name, _sql in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")  # names from the list above
    done = False
    try:
        yield
        done = True
    finally:
        # After an error the caller rolls back (which restores all of it); a failure
        # here then must not hide the error that counts.
        quiet = contextlib.nullcontext() if done else contextlib.suppress(SQLAlchemyError)
        with quiet:
            if triggers:
                if done:
                    session.flush()  # points the ORM still holds, before the recount
                connection.exec_driver_sql(
                    f"UPDATE customer SET contact_verified_at = {_CONTACT_CHECK} "
                    "WHERE id IN (SELECT customer_id FROM contact_point WHERE id > ?) "
                    f"AND contact_verified_at IS NOT {_CONTACT_CHECK}",
                    (last_point,),
                )
        with quiet:
            for _name, sql in triggers:
                connection.exec_driver_sql(sql)  # the text they were created with
        with contextlib.suppress(SQLAlchemyError):
            connection.exec_driver_sql(f"PRAGMA cache_size = {cache}")


class _Consistency:
    """What must agree across the rows of one file, kept small per customer and claim
    (not the rows themselves): a fingerprint of name and address, the date of birth,
    the claims seen and the running total."""

    def __init__(self) -> None:
        # number -> [line, fingerprint, birth line, birth, total]
        self.customers: dict[str, list[Any]] = {}
        self.claims: dict[str, int] = {}

    def check(self, line: int, record: rules.CustomerRecord, errors: list[RowError]) -> None:
        number = record.customer_number
        fingerprint = hash((record.last_name, record.address))
        seen = self.customers.get(number)
        if seen is None:
            seen = self.customers[number] = [line, fingerprint, 0, None, 0]
        elif seen[1] != fingerprint:
            errors.append(
                RowError(line, f"customer {number} has other details than on line {seen[0]}.")
            )
        if record.date_of_birth is not None:
            # Rows may leave it empty; two different dates cannot both be right.
            if seen[3] is None:
                seen[2], seen[3] = line, record.date_of_birth
            elif seen[3] != record.date_of_birth:
                errors.append(
                    RowError(
                        line,
                        f"customer {number} has another date of birth than on line {seen[2]}.",
                    )
                )
        earlier = self.claims.setdefault(record.claim_reference, line)
        if earlier != line:
            errors.append(
                RowError(
                    line,
                    f"claim {record.claim_reference} appears twice (also on line {earlier}).",
                )
            )
        seen[4] += record.principal_cents
        if seen[4] > rules.MAX_CUSTOMER_TOTAL_CENTS:
            errors.append(
                RowError(
                    line,
                    f"customer {number}'s claims add up to more than 20,000,000.00; "
                    "check the file.",
                )
            )


class _WriteBehind:
    """Each chunk is stored on a thread of its own while the next one is read, checked
    and planned. On PostgreSQL most of a chunk's writing is the server's work
    (indexes, guards, foreign keys) while the client waits for it; the client's own
    work (reading the file, building the rows) is done in that wait. The plan reads
    the database through a second connection (``reader``), so the two threads never
    share one.

    One chunk at a time: a chunk is handed over once the one before is stored, and a
    row found in conflict while planning (a claim of another customer) stops all
    writing after it. The thread runs in the caller's context (the change origin it
    writes with). Whatever the writer raised is raised again here.

    On SQLite a chunk is stored in place (``behind=False``): the writing is the
    client's own work there, and a second thread only slowed it (42.8 s against
    46.7 s for 200,000 customers).
    """

    def __init__(self, writer: CustomerWriter, *, behind: bool) -> None:
        self._writer = writer
        self._behind = behind
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def write(
        self, chunk: list[tuple[int, rules.CustomerRecord]], conflicts: list[RowError]
    ) -> None:
        plan = self._writer.plan(chunk, conflicts)  # while the chunk before is stored
        if plan is None:  # in conflict: nothing more is written
            return
        self.wait()
        if not self._behind:
            self._writer.store(plan)
            return
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, plan), name="import-writer", daemon=True
        )
        self._thread.start()

    def _run(self, plan: Plan) -> None:
        try:
            self._writer.store(plan)
        except BaseException as failure:  # raised again on the importing thread
            self._failure = failure

    def wait(self) -> None:
        """Until the chunk being stored is stored."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.join()
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def abandon(self) -> None:
        """After the reading failed (a bad file, a cancel): let the writer finish its
        chunk before the caller rolls back on the same session; what it raised no
        longer counts."""
        with contextlib.suppress(BaseException):
            self.wait()


@contextlib.contextmanager
def _reader(session: Session) -> Iterator[Session]:
    """Where the plan reads: on PostgreSQL a session of its own on a second connection
    of the same login (it sees what others committed, as the import's own statements
    do under READ COMMITTED); on SQLite the import's session."""
    if not bulk.is_postgresql(session):
        yield session
        return
    bind = session.get_bind()
    reader = Session(bind.engine if isinstance(bind, Connection) else bind)
    try:
        yield reader
    finally:
        reader.close()  # it only read (and took ids from the sequences)


def import_customers(
    session: Session,
    actor: Actor,
    path: Path,
    now: datetime,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    actor.require_supervisor(N_("import customers"))
    logins = {login: agent_id for login, agent_id in session.execute(select(Agent.login, Agent.id))}
    with _bulk_settings(session):
        return _import(session, actor, path, now, logins, progress)


def _import(
    session: Session,
    actor: Actor,
    path: Path,
    now: datetime,
    logins: dict[str, int],
    progress: Progress | None,
) -> ImportResult:
    known = set(logins)
    today = local_day(now)
    errors: list[RowError] = []  # rows that are bad on their own
    conflicts: list[RowError] = []  # rows that disagree with others or with the database
    consistency = _Consistency()
    chunk: list[tuple[int, rules.CustomerRecord]] = []
    rows = 0
    with _reader(session) as reader:
        writer = CustomerWriter(session, actor, path, now, logins, reader=reader)
        behind = _WriteBehind(writer, behind=reader is not session)
        try:
            for line, record in stream_rows(
                path,
                rules.CUSTOMER_COLUMNS,
                rules.CUSTOMER_REQUIRED,
                partial(rules.parse_customer_row, known_agents=known, today=today),
                errors,
                progress,
            ):
                rows += 1
                consistency.check(line, record, conflicts)
                if errors or conflicts:  # nothing more is written; the rest is only checked
                    chunk.clear()
                    continue
                chunk.append((line, record))
                if len(chunk) >= CHUNK_ROWS:
                    behind.write(chunk, conflicts)
                    chunk = []
            if chunk and not errors and not conflicts:
                behind.write(chunk, conflicts)
            behind.wait()
        except BaseException:
            behind.abandon()
            raise
    if errors or conflicts:
        # Bad rows first: whether the others agree is worth knowing once they are fixed.
        raise ImportRejected(path, errors or conflicts)
    if rows == 0:
        raise ImportRejected(path, [RowError(2, "the file has a header but no rows.")])
    session.flush()
    result = ImportResult(rows=rows)
    result.created = len(writer.created)
    result.updated = len(writer.touched - writer.created)
    result.unchanged = len(consistency.customers) - len(writer.touched | writer.created)
    return result
