"""The change log: every ORM change writes one row per changed row, in the same
transaction, so desks can read "what changed since id N" and refresh only that.

Bulk paths that bypass the ORM (demo load, imports) call ``log_changes`` themselves.
On PostgreSQL both paths go through the database's ``agent_desk_log_changes``
(migration 0004), which checks an agent's rows, writes them and sends a ``NOTIFY``
with the highest new id (delivered at commit), so listening desks wake at once; the
payload is only a hint, the log is the truth.
Many small units of work in one transaction may gather their rows and write them
once, before the commit (``collect_changes``).

Every row carries its **origin**: the desk session whose transaction wrote it
(``session.info[ORIGIN_KEY]``, set by the desk's database worker; None for tools).
SQLite stores it with the row; on PostgreSQL the connection's ``agent_desk.origin``
setting is set once per connection and a trigger (migration 0010) copies it into the
row, checked against the caller. A desk skips its own echo by it (``services.sync``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Text,
    bindparam,
    cast,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.domain.origin import new_origin as new_origin  # made before the database loads
from agent_desk.models import AuditEvent, ChangeLog, Message
from agent_desk.models.base import utcnow

_UNTRACKED = (ChangeLog, AuditEvent)

#: The PostgreSQL channel desks LISTEN on; the payload is the highest new change id.
NOTIFY_CHANNEL = "agent_desk_changes"

_COLLECTED = "agent_desk.change_log_rows"  # key in Session.info, see collect_changes


_COLUMNS = ("at", "table_name", "row_id", "kind", "customer_id")

#: ``Session.info`` key: the desk session that makes this transaction's changes.
ORIGIN_KEY = "agent_desk.origin"
#: ``Session.info`` key: a list that receives every change-log row this session writes
#: (``made_changes``), so an action can say what it changed without reading it back.
MADE_KEY = "agent_desk.made_changes"
_ORIGIN_SET = "agent_desk.origin_set"  # key in the DBAPI connection's info (PostgreSQL)
_SET_ORIGIN = text("SELECT set_config('agent_desk.origin', :origin, false)")
_SET_LOCAL_ORIGIN = text("SELECT set_config('agent_desk.origin', :origin, true)")


@cache  # built once, on the first flush on PostgreSQL
def _pg_insert_and_notify() -> Select[Any]:
    """Before migration 0004: one statement for any number of rows, compiled once.

    The rows arrive as one array per column (``unnest`` turns them back into rows);
    a multi-row ``VALUES`` would be a new statement, compiled again, for every flush.
    """
    from sqlalchemy.dialects.postgresql import ARRAY  # PostgreSQL only: not on SQLite's start

    table = ChangeLog.__table__
    arrays = [cast(bindparam(name), ARRAY(table.c[name].type)) for name in _COLUMNS]
    rows = select(func.unnest(*arrays).table_valued(*_COLUMNS).render_derived(name="change"))
    inserted = (
        insert(ChangeLog).from_select(list(_COLUMNS), rows).returning(ChangeLog.id).cte("inserted")
    )
    return select(func.pg_notify(NOTIFY_CHANNEL, cast(func.max(inserted.c.id), Text)))


# From migration 0004 on, people cannot insert into the change log: the database's
# function checks an agent's rows, writes them and sends the notification.
_PG_LOG_CHANGES = text(
    "SELECT agent_desk_log_changes(CAST(:table_name AS text[]), CAST(:row_id AS bigint[]), "
    "CAST(:kind AS text[]), CAST(:customer_id AS bigint[]))"
)
_HAS_FUNCTION = "agent_desk.log_changes_function"  # key in the DBAPI connection's info
_FUNCTION_SIGNATURE = "agent_desk_log_changes(text[],bigint[],text[],bigint[])"


def _has_log_function(connection: Connection) -> bool:
    info = connection.connection.info
    known = info.get(_HAS_FUNCTION)
    if known is None:
        known = (
            connection.scalar(
                text("SELECT to_regprocedure(:f) IS NOT NULL"), {"f": _FUNCTION_SIGNATURE}
            )
            is True
        )
        if known:  # an older database may still be upgraded on this connection: ask again
            info[_HAS_FUNCTION] = True
    return bool(known)


def _insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert change-log rows; on PostgreSQL also wake listening desks (at commit).

    The ``NOTIFY`` rides in the same statement as the insert, so it costs no extra
    round trip.
    """
    if connection.dialect.name != "postgresql":
        if all(row.get("origin") is None for row in rows):
            rows = [{k: v for k, v in row.items() if k != "origin"} for row in rows]
        connection.execute(insert(ChangeLog), rows)
        return
    columns = {name: [row[name] for row in rows] for name in _COLUMNS}
    if _has_log_function(connection):
        del columns["at"]  # the database's clock
        connection.execute(_PG_LOG_CHANGES, columns)
        return
    connection.execute(_pg_insert_and_notify(), columns)


def _customer_id_of(obj: Any) -> int | None:
    if obj.__tablename__ == "customer" and obj.id is not None:
        return int(obj.id)
    value = getattr(obj, "customer_id", None)
    return int(value) if value is not None else None


#: The origin of the work this thread is doing outside a marked session: the desk's
#: worker sets it around a task that opens its own units of work (sending a message,
#: replaying the outbox), so their rows carry the desk session's origin too.
_AMBIENT_ORIGIN: ContextVar[str | None] = ContextVar("agent_desk_origin", default=None)


@contextmanager
def working_as(origin: str | None) -> Iterator[None]:
    """Every session opened inside, on this thread, writes with ``origin`` (unless its
    ``info`` names one of its own)."""
    token = _AMBIENT_ORIGIN.set(origin)
    try:
        yield
    finally:
        _AMBIENT_ORIGIN.reset(token)


def session_origin(session: Session) -> str | None:
    """The origin a session's change-log rows carry."""
    origin = session.info.get(ORIGIN_KEY)
    return origin if origin is not None else _AMBIENT_ORIGIN.get()


def use_origin(connection: Connection, origin: str | None, *, local: bool = False) -> None:
    """PostgreSQL: make ``origin`` the connection's ``agent_desk.origin`` (the change
    log's trigger reads it). Set once per connection and origin, not per transaction;
    a rollback may undo it, so a session's rollback forgets it (``_forget_origin``).
    ``local``: for this transaction only (a Core batch, which has no such hook)."""
    if connection.dialect.name != "postgresql":
        return
    if local:
        connection.execute(_SET_LOCAL_ORIGIN, {"origin": origin or ""})
        return
    info = connection.connection.info
    wanted = origin or ""
    if info.get(_ORIGIN_SET, "") != wanted:
        connection.execute(_SET_ORIGIN, {"origin": wanted})
        info[_ORIGIN_SET] = wanted


def _after_begin(session: Session, _transaction: Any, connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        use_origin(connection, session_origin(session))
        session.info["agent_desk.origin_connection"] = connection.connection.info


def _forget_origin(session: Session) -> None:
    info = session.info.pop("agent_desk.origin_connection", None)
    if info is not None:
        info.pop(_ORIGIN_SET, None)


def _after_flush(session: Session, _context: Any) -> None:
    rows: list[dict[str, Any]] = []
    now = utcnow()
    origin = session_origin(session)
    for kind, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if isinstance(obj, _UNTRACKED) or not hasattr(obj, "__tablename__"):
                continue
            if kind == "update" and not session.is_modified(obj, include_collections=False):
                continue
            if isinstance(obj, Message):
                # A message shows in its customer's file: desks refresh that customer
                # (and the guarded log function knows customers, not the outbox).
                rows.append(
                    {
                        "at": now,
                        "table_name": "customer",
                        "row_id": obj.customer_id,
                        "kind": "update",
                        "customer_id": obj.customer_id,
                        "origin": origin,
                    }
                )
                continue
            state = inspect(obj)
            key = state.mapper.primary_key_from_instance(obj)[0]
            if key is None:
                continue
            rows.append(
                {
                    "at": now,
                    "table_name": obj.__tablename__,
                    "row_id": key if isinstance(key, int) else 0,
                    "kind": kind,
                    "customer_id": _customer_id_of(obj),
                    "origin": origin,
                }
            )
    made = session.info.get(MADE_KEY)
    if made is not None:
        made.extend(rows)
    if rows:
        collected = session.info.get(_COLLECTED)
        if collected is not None:
            collected.extend(rows)
        else:
            _insert_rows(session.connection(), rows)


def collect_changes(session: Session) -> list[dict[str, Any]]:
    """Keep this session's change-log rows in the returned list instead of writing
    them at every flush; the caller must ``write_changes`` them in the same transaction.

    For many small units of work in one transaction (the outbox replay): one insert
    (and one ``NOTIFY``) for all of them, and a unit rolled back to its savepoint
    simply never hands its rows over.
    """
    rows: list[dict[str, Any]] = []
    session.info[_COLLECTED] = rows
    return rows


def write_changes(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Write rows gathered by ``collect_changes``."""
    if rows:
        _insert_rows(connection, rows)


def install_change_log(factory: sessionmaker[Session]) -> None:
    if not event.contains(factory, "after_flush", _after_flush):
        event.listen(factory, "after_flush", _after_flush)
    if not event.contains(factory, "after_begin", _after_begin):
        event.listen(factory, "after_begin", _after_begin)
        event.listen(factory, "after_rollback", _forget_origin)


def log_changes(
    session: Session,
    table_name: str,
    row_ids: Iterable[int],
    kind: str,
    customer_ids: Iterable[int | None] | None = None,
) -> None:
    """Change-log rows for a bulk write done with Core statements."""
    ids = list(row_ids)
    customers = list(customer_ids) if customer_ids is not None else [None] * len(ids)
    now = utcnow()
    origin = session_origin(session)
    rows = [
        {
            "at": now,
            "table_name": table_name,
            "row_id": rid,
            "kind": kind,
            "customer_id": cid,
            "origin": origin,
        }
        for rid, cid in zip(ids, customers, strict=True)
    ]
    for start in range(0, len(rows), 5000):
        _insert_rows(session.connection(), rows[start : start + 5000])


def made_changes(session: Session) -> list[dict[str, Any]]:
    """Start gathering the change-log rows this session writes from now on."""
    rows: list[dict[str, Any]] = []
    session.info[MADE_KEY] = rows
    return rows


def last_change_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(ChangeLog.id), 0))) or 0)
