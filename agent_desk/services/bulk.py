"""Bulk writes that are bulk: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite.

For imports and loads of many rows in the caller's transaction. The rows of one call
must all have the same keys (the columns written); ``None`` is written as NULL.
Rows written here bypass the ORM: the caller writes the change-log rows
(``changelog.log_changes``) and audit events it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

#: Keys per ``IN (…)`` list when reading ids back: far below SQLite's variable limit.
IN_BATCH = 2000


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` into ``table`` in one bulk operation; returns how many."""
    if not rows:
        return 0
    columns = list(rows[0])
    if is_postgresql(session) and _may_copy(session, table.name):
        copy_rows(session, table.name, columns, ([row[c] for c in columns] for row in rows))
    else:
        # SQLite, or a team member's login: PostgreSQL refuses COPY under row-level
        # security, so their rows go as one executemany (psycopg pipelines it).
        executemany_rows(session, table, columns, rows)
    return len(rows)


def executemany_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """One DBAPI ``executemany`` on the session's connection, with each column's own
    type conversion (as SQLAlchemy would do it), without SQLAlchemy's per-row
    parameter building, which costs several times the insert itself."""
    _executemany_columns(session, table, columns, [[row[name] for row in rows] for name in columns])


def _executemany_columns(
    session: Session, table: Table, columns: Sequence[str], values: list[list[Any]]
) -> int:
    """The rows given column by column (``values[i]`` is ``columns[i]``), each column
    through its type's own conversion (each distinct value once), as one DBAPI
    ``executemany`` on the session's connection; returns the row count."""
    session.flush()
    connection = session.connection()
    dialect = connection.dialect
    for name, column in zip(columns, values, strict=True):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            continue
        memo: dict[Any, Any] = {}  # dates and times repeat (e.g. "now" on every row)
        for i, value in enumerate(column):
            if value is not None:
                done = memo.get(value, memo)
                if done is memo:
                    done = memo[value] = process(value)
                column[i] = done
    rows = list(zip(*values, strict=True))
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # names from our own models
        f"VALUES ({', '.join(mark for _ in columns)})"
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, rows)
    finally:
        cursor.close()
    return len(rows)


_MAY_COPY = "agent_desk.may_copy"  # key in the DBAPI connection's info


def _may_copy(session: Session, table: str) -> bool:
    """Whether this login bypasses row-level security on ``table`` (its owner or a
    superuser, e.g. the one who runs bulk loads), so that COPY is allowed."""
    info = session.connection().connection.info
    known: dict[str, bool] = info.setdefault(_MAY_COPY, {})
    if table not in known:
        known[table] = bool(
            session.scalar(
                text(
                    "SELECT r.rolsuper OR r.rolbypassrls OR pg_has_role(current_user, "
                    "c.relowner, 'USAGE') OR NOT c.relrowsecurity "
                    "FROM pg_class c, pg_roles r "
                    "WHERE c.oid = to_regclass(:table) AND r.rolname = current_user"
                ),
                {"table": table},
            )
        )
    return known[table]


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL's ``COPY … FROM STDIN`` through psycopg 3, in this session's transaction."""
    session.flush()  # the ORM's pending rows first: COPY goes around it
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"  # names from our own models
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)


#: COPY's text format: a backslash, a newline, a carriage return and the delimiter
#: (a tab) are the characters a value must escape (PostgreSQL's COPY documentation).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_text(rows: Iterable[Sequence[Any]]) -> bytes:
    """``rows`` in COPY's text format, for :func:`copy_data`: made where it costs the
    connection nothing (the import builds a chunk's rows on one thread while another
    sends the chunk before; ``write_row`` there would hold the interpreter for every
    row and starve the server). Values: ``None`` (NULL), ``str``, ``int``, ``bool``,
    ``date`` and ``datetime`` (with its offset); anything else is refused, not guessed."""
    escape = _COPY_ESCAPES
    written: dict[Any, str] = {}  # dates and moments repeat ("now" on every row)
    lines: list[str] = []
    for row in rows:
        fields: list[str] = []
        for value in row:
            kind = type(value)
            if kind is str:
                fields.append(value.translate(escape))
            elif value is None:
                fields.append("\\N")
            elif kind is bool:
                fields.append("t" if value else "f")
            elif kind is int:
                fields.append(str(value))
            elif kind is datetime or kind is date:
                text_value = written.get(value)
                if text_value is None:
                    if kind is datetime and value.tzinfo is None:
                        raise TypeError(f"a moment without its offset cannot be copied: {value!r}")
                    text_value = written[value] = value.isoformat()
                fields.append(text_value)
            else:
                raise TypeError(f"no COPY text for a {kind.__name__}: {value!r}")
        lines.append("\t".join(fields))
    lines.append("")
    return "\n".join(lines).encode("utf-8")


def copy_data(session: Session, table: str, columns: Sequence[str], data: bytes) -> None:
    """``COPY … FROM STDIN`` of rows already in COPY's text format (:func:`copy_text`),
    in this session's transaction: one write, which waits on the server with the
    interpreter free."""
    session.flush()
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"  # names from our own models
        ) as copy,
    ):
        copy.write(data)


def may_copy(session: Session, table: str) -> bool:
    """Whether rows of ``table`` go by ``COPY`` for this session's login (PostgreSQL,
    and a login that bypasses the table's row security)."""
    return is_postgresql(session) and _may_copy(session, table)


_GROWN = "agent_desk.grown"  # key in the session's info: {table: [rows known, rows added]}
#: Below this many new rows the planner's view of a table is left alone.
ANALYZE_FROM = 1000


def keep_statistics(session: Session, table: str, added: int) -> None:
    """Tell PostgreSQL's planner about rows a bulk load just added, in this transaction.

    The foreign-key checks of the rows that follow (a claim's customer, a ledger
    entry's claim) are planned from the table's statistics; while those still say
    "empty", each check scans the table: the search keys of 4,000 new customers then
    took 11 s instead of 1 s. ``ANALYZE`` counts the transaction's own new rows, so it
    is run whenever the rows added since the last one outnumber the rows it knew of
    (a few times per import; each samples at most 30,000 rows). Only for a login
    that owns the table (the one that may ``COPY``); on SQLite nothing to do.
    """
    if added <= 0 or not is_postgresql(session) or not _may_copy(session, table):
        return
    grown: dict[str, list[int]] = session.info.setdefault(_GROWN, {})
    state = grown.get(table)
    if state is None:
        known = session.scalar(
            text("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
            {"t": table},
        )
        state = grown[table] = [int(known or 0), 0]
    state[1] += added
    if state[1] >= max(state[0], ANALYZE_FROM):
        session.execute(text(f"ANALYZE {table}"))  # a name from our own models
        state[0] += state[1]
        state[1] = 0


def ids_by(session: Session, table: Table, key: str, values: Iterable[Any]) -> dict[Any, int]:
    """``{value: id}`` for the rows of ``table`` whose unique ``key`` is one of ``values``."""
    column = table.c[key]
    wanted = list(dict.fromkeys(values))
    found: dict[Any, int] = {}
    for start in range(0, len(wanted), IN_BATCH):
        part = wanted[start : start + IN_BATCH]
        found.update(
            (value, int(row_id))
            for value, row_id in session.execute(select(column, table.c.id).where(column.in_(part)))
        )
    return found


def insert_tuples(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """As :func:`insert_rows`, for rows already built as tuples in ``columns``' order
    (no dict per row): ``COPY`` on PostgreSQL, one ``executemany`` on SQLite."""
    if not rows:
        return 0
    if is_postgresql(session) and _may_copy(session, table.name):
        copy_rows(session, table.name, columns, rows)
        return len(rows)
    values = [list(column) for column in zip(*rows, strict=True)]
    return _executemany_columns(session, table, columns, values)


def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` new ids for ``table``'s integer primary key, in increasing order, for
    rows a bulk write is about to insert with their id given (so that it needs no
    read-back). PostgreSQL: taken from the column's sequence (as a default would);
    SQLite: the ids it would give itself (after the highest one), in the caller's
    write transaction."""
    if count <= 0:
        return []
    if is_postgresql(session):
        found = session.execute(
            text(
                "WITH s AS (SELECT pg_get_serial_sequence(:t, 'id')::regclass AS seq) "
                "SELECT nextval(s.seq) FROM s, generate_series(1, :n)"
            ),
            {"t": table, "n": count},
        )
        return sorted(int(v) for (v,) in found)
    highest = session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))  # our names
    start = int(highest or 0) + 1
    return list(range(start, start + count))
