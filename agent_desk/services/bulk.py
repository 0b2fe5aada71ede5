"""Bulk writes that are bulk: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite.

For imports and loads of many rows in the caller's transaction. The rows of one call
must all have the same keys (the columns written); ``None`` is written as NULL.
Rows written here bypass the ORM: the caller writes the change-log rows
(``changelog.log_changes``) and audit events it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Table, insert, select
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
    if is_postgresql(session):
        copy_rows(session, table.name, columns, ([row[c] for c in columns] for row in rows))
    else:
        session.execute(insert(table), list(rows))
    return len(rows)


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


def ids_by(session: Session, key: Column[Any], values: Iterable[Any]) -> dict[Any, int]:
    """``{value: id}`` for the rows whose unique ``key`` is one of ``values``."""
    table = key.table
    wanted = list(dict.fromkeys(values))
    found: dict[Any, int] = {}
    for start in range(0, len(wanted), IN_BATCH):
        part = wanted[start : start + IN_BATCH]
        found.update(
            (value, int(row_id))
            for value, row_id in session.execute(
                select(key, table.c.id).where(key.in_(part))  # type: ignore[attr-defined]
            )
        )
    return found
