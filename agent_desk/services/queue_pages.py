"""The queue one page at a time, by keyset ("seek"), so a view costs what is on screen.

A page is read *after* (or *before*) the sort key of a row the caller already has,
never by counting rows from the top: the cost of page 4,000 is the cost of page 1.
The cursor is that row's sort key (opaque text for the CLI and the desk).

Each order ends in ``customer.id``, so ties (the same group and due date, the same
name) have one fixed order and no row is skipped or shown twice at a page boundary.
A keyset condition ``(k1, k2, id) > (v1, v2, i)`` over mixed directions and nullable
keys is not one index range, so it is split into the ranges it is made of, read in
order until the page is full::

    k1 = v1 AND k2 = v2 AND id > i
    k1 = v1 AND k2 > v2            (and, where NULLs sort last, k2 IS NULL)
    k1 > v1

Each part is an equality prefix plus one range on the next column of one of the
indexes of migration 0005 (``ix_customer_team_*`` for the team-wide queue,
``ix_customer_agent_*`` and ``ix_customer_queue`` for one agent's), so each is an
index seek, also on SQLite. NULLs sort where the engine puts them without being told
(PostgreSQL: last going up; SQLite: first), so the indexes serve the order as is.

Counting the whole queue is the one thing that grows with the portfolio: the desk
shows an estimate first (the planner's on PostgreSQL, an index-only count on SQLite)
and then the exact count, read separately so it never holds up the first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import ClauseAdapter

from agent_desk.domain.codes import NextStepKind
from agent_desk.domain.team_day import local_day
from agent_desk.domain.verification import DEFAULT_INTERVAL_DAYS
from agent_desk.errors import ValidationError
from agent_desk.models import ContactPoint, Customer, NextStep
from agent_desk.services.queue import (
    _REMINDER_NOTE,
    _ROW_COLUMNS,
    QueueRow,
    QueueScope,
    QueueSort,
    _row,
    _search_condition,
    eligible_conditions,
)
from agent_desk.services.signals import due_among

#: Rows per page when the caller does not say.
PAGE_SIZE = 200
#: The most rows one page may have (the CLI's ``--limit``).
MAX_PAGE = 1000


@dataclass(frozen=True)
class _Key:
    column: Any
    ascending: bool
    nullable: bool = False


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None  # after the last row; None when nothing follows
    previous_cursor: str | None  # before the first row; None at the top


def sort_keys(scope: QueueScope) -> list[_Key]:
    """The columns a scope's order sorts on, last ``customer.id`` (always unique)."""
    flip = scope.descending
    if scope.sort is QueueSort.PRIORITY:
        keys = [
            _Key(Customer.queue_bucket, not flip),
            _Key(Customer.oldest_due_date, not flip, nullable=True),
            _Key(Customer.arrears_cents, flip),
        ]
    elif scope.sort is QueueSort.DAYS_PAST_DUE:
        # Days past due grow as the due date gets older: the direction is inverted.
        keys = [_Key(Customer.oldest_due_date, flip, nullable=True)]
    else:
        column: Any = {
            QueueSort.NAME: Customer.last_name,
            QueueSort.ARREARS: Customer.arrears_cents,
            QueueSort.NEXT_STEP: Customer.next_step_due_at,
            QueueSort.CUSTOMER_NUMBER: Customer.customer_number,
        }[scope.sort]
        keys = [_Key(column, not flip, nullable=scope.sort is QueueSort.NEXT_STEP)]
    return [*keys, _Key(Customer.id, True)]


def _scope_conditions(
    scope: QueueScope, now: datetime, actor_id: int | None
) -> list[ColumnElement[bool]]:
    conditions = eligible_conditions(now, actor_id, scope.include_waiting)
    if scope.agent_id is not None:
        conditions.append(Customer.assigned_agent_id == scope.agent_id)
    search = _search_condition(scope.search)
    if search is not None:
        conditions.append(search)
    return conditions


# --------------------------------------------------------------------------- cursors


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        return date.fromisoformat(value["d"])
    return value


def _signature(scope: QueueScope) -> str:
    return f"{scope.sort.value}{'-' if scope.descending else '+'}"


def encode_cursor(scope: QueueScope, values: Sequence[Any]) -> str:
    payload = json.dumps(
        [_signature(scope), [_encode_value(v) for v in values]], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(scope: QueueScope, cursor: str) -> list[Any]:
    """The key values in a cursor; a cursor of another order or a damaged one is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        signature, values = json.loads(raw)
        decoded = [_decode_value(v) for v in values]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise ValidationError(
            "'{cursor}' is not a cursor this command gave out; start again without --after.",
            "after",
            cursor=cursor[:40],
        ) from None
    if signature != _signature(scope) or len(decoded) != len(sort_keys(scope)):
        raise ValidationError(
            "That cursor belongs to another sort order; start again without --after.",
            "after",
        )
    return decoded


# --------------------------------------------------------------------------- seeking


def _nulls_last(dialect: str, ascending: bool) -> bool:
    """Where the engine itself puts NULLs when reading in this direction."""
    return ascending if dialect == "postgresql" else not ascending


def _equal(key: _Key, value: Any) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = key.column.is_(None) if value is None else key.column == value
    return condition


def _beyond(key: _Key, value: Any, dialect: str) -> list[ColumnElement[bool]]:
    """The index ranges that come after ``value`` in the key's direction, in order."""
    nulls_last = key.nullable and _nulls_last(dialect, key.ascending)
    if value is None:
        if not key.nullable or nulls_last:
            return []  # nothing comes after the NULLs
        return [key.column.is_not(None)]
    beyond = key.column > value if key.ascending else key.column < value
    return [beyond, key.column.is_(None)] if nulls_last else [beyond]


def _parts(keys: list[_Key], values: Sequence[Any] | None, dialect: str) -> list[Any]:
    """The keyset condition as ordered, index-shaped parts (None: from the start)."""
    if values is None:
        return [None]
    parts: list[Any] = []
    for depth in range(len(keys) - 1, -1, -1):
        prefix = [_equal(keys[i], values[i]) for i in range(depth)]
        for beyond in _beyond(keys[depth], values[depth], dialect):
            parts.append(and_(*prefix, beyond))
    return parts


def _reversed(keys: list[_Key]) -> list[_Key]:
    return [_Key(k.column, not k.ascending, k.nullable) for k in keys]


def _ordered(statement: Select[Any], keys: list[_Key]) -> Select[Any]:
    return statement.order_by(*(k.column.asc() if k.ascending else k.column.desc() for k in keys))


def _page_statement(
    scope: QueueScope, now: datetime, actor_id: int | None, keys: list[_Key]
) -> Select[Any]:
    stale_before = now - timedelta(days=DEFAULT_INTERVAL_DAYS)
    stale = (
        exists()
        .where(
            ContactPoint.customer_id == Customer.id,
            ContactPoint.invalid.is_(False),
            or_(ContactPoint.verified_at.is_(None), ContactPoint.verified_at < stale_before),
        )
        .label("contact_stale")
    )
    reminder = (
        select(NextStep.note)
        .where(
            NextStep.customer_id == Customer.id,
            NextStep.done_at.is_(None),
            NextStep.kind == NextStepKind.INSTALMENT_REMINDER.value,
        )
        .order_by(NextStep.id)
        .limit(1)
        .scalar_subquery()
        .label("reminder_note")
    )
    key_columns = [k.column.label(f"key_{i}") for i, k in enumerate(keys)]
    columns: list[Any] = [*_ROW_COLUMNS, stale, reminder, *key_columns]
    statement: Select[Any] = select(*columns).where(*_scope_conditions(scope, now, actor_id))
    return _ordered(statement, keys)


def _seek(
    session: Session,
    scope: QueueScope,
    now: datetime,
    actor_id: int | None,
    keys: list[_Key],
    values: Sequence[Any] | None,
    limit: int,
    offset: int = 0,
) -> list[Any]:
    dialect = session.get_bind().dialect.name
    statement = _page_statement(scope, now, actor_id, keys)
    found: list[Any] = []
    for part in _parts(keys, values, dialect):
        query = statement if part is None else statement.where(part)
        query = query.limit(limit - len(found))
        if offset:
            query = query.offset(offset)
        found += session.execute(query).all()
        if len(found) >= limit:
            break
    return found


def _to_row(record: Any, now: datetime, signal_due: bool = False) -> QueueRow:
    match = _REMINDER_NOTE.match(record.reminder_note or "")
    reminder = (int(match.group(1)), date.fromisoformat(match.group(2))) if match else None
    return _row(
        record,
        now,
        contact_stale=bool(record.contact_stale),
        reminder=reminder,
        signal_due=signal_due,
    )


def _rows(session: Session, records: list[Any], now: datetime) -> list[QueueRow]:
    """The page's rows, with the early-signal reason worked out for these rows only."""
    signals = due_among(session, [r.id for r in records], local_day(now)) if records else set()
    return [_to_row(r, now, r.id in signals) for r in records]


def _key_values(record: Any, count: int) -> list[Any]:
    return [getattr(record, f"key_{i}") for i in range(count)]


def queue_page(
    session: Session,
    scope: QueueScope,
    now: datetime,
    actor_id: int | None = None,
    *,
    after: str | None = None,
    before: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the queue in the scope's order.

    ``after``: the rows following that cursor; ``before``: the rows preceding it (for
    scrolling up from a page reached by a jump). ``offset`` is only for a jump to a
    row far from every page the caller has (the scroll bar dragged): the index is
    walked that far once, after which the neighbouring pages seek again.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(
            "A page has 1 to {most} customers, not {limit}.", "limit", most=MAX_PAGE, limit=limit
        )
    keys = sort_keys(scope)
    if before is not None:
        values = decode_cursor(scope, before)
        records = _seek(session, scope, now, actor_id, _reversed(keys), values, limit + 1)
        more_before = len(records) > limit
        records = list(reversed(records[:limit]))
        rows = _rows(session, records, now)
        first = _key_values(records[0], len(keys)) if records else None
        last = _key_values(records[-1], len(keys)) if records else values
        return QueuePage(
            rows,
            next_cursor=encode_cursor(scope, last) if last is not None else None,
            previous_cursor=encode_cursor(scope, first) if first and more_before else None,
        )
    start = decode_cursor(scope, after) if after is not None else None
    records = _seek(session, scope, now, actor_id, keys, start, limit + 1, offset)
    more = len(records) > limit
    records = records[:limit]
    rows = _rows(session, records, now)
    starts_at_top = start is None and offset == 0
    return QueuePage(
        rows,
        next_cursor=encode_cursor(scope, _key_values(records[-1], len(keys))) if more else None,
        previous_cursor=(
            None
            if starts_at_top or not records
            else encode_cursor(scope, _key_values(records[0], len(keys)))
        ),
    )


# --------------------------------------------------------------------------- counting


def queue_count(
    session: Session,
    scope: QueueScope,
    now: datetime,
    actor_id: int | None = None,
    *,
    cap: int | None = None,
) -> int:
    """The exact number of customers in the queue, or ``cap + 1`` when there are more.

    An uncapped count reads the queue's whole index range (seconds at a million on
    SQLite), so the desk asks with a cap and keeps its estimate above it.
    """
    inner = select(Customer.id).where(*_scope_conditions(scope, now, actor_id))
    if cap is not None:
        inner = inner.limit(cap + 1)
    statement = select(func.count()).select_from(inner.subquery())
    return int(session.scalar(statement) or 0)


#: Customers sampled (a range of ids, read by primary key) for SQLite's estimate.
SAMPLE = 2000


def queue_estimate(
    session: Session, scope: QueueScope, now: datetime, actor_id: int | None = None
) -> int:
    """A quick figure for the scroll bar before (or instead of) the exact count.

    PostgreSQL: the planner's row estimate for the queue (from its statistics, no
    rows read). SQLite has no such estimate: the share of a sample of customers
    (one range of ids, read by primary key) that is in this queue, times the ids in
    use. Never below what a capped count of the same size finds.
    """
    if session.get_bind().dialect.name == "postgresql":
        statement = select(Customer.id).where(*_scope_conditions(scope, now, actor_id))
        compiled = statement.compile(session.get_bind())
        plan = (
            session.connection()
            .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
            .scalar_one()
        )
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return max(0, int(plan[0]["Plan"]["Plan Rows"]))
    # Two statements: SQLite answers min() and max() from the key only one at a time.
    low = session.scalar(select(func.min(Customer.id)))
    high = session.scalar(select(func.max(Customer.id)))
    if low is None or high is None:
        return 0
    span = int(high) - int(low) + 1
    if span <= SAMPLE:
        return queue_count(session, scope, now, actor_id)
    start = int(low) + (span - SAMPLE) // 2  # the middle: not only the oldest customers
    # The id range read first, in a subquery the engine does not flatten (it has a
    # LIMIT): otherwise SQLite may walk the queue's own index over every customer and
    # keep those in the range, a cost that grows with the portfolio.
    sample = (
        select(Customer)
        .where(Customer.id >= start, Customer.id < start + SAMPLE)
        .limit(SAMPLE)
        .subquery("sample")
    )
    adapter = ClauseAdapter(sample)
    conditions = [adapter.traverse(c) for c in _scope_conditions(scope, now, actor_id)]
    in_sample = int(
        session.scalar(select(func.count()).select_from(sample).where(*conditions)) or 0
    )
    estimate = round(in_sample / SAMPLE * span)
    if estimate > SAMPLE:
        return estimate  # a capped count of SAMPLE could not say more
    return max(estimate, queue_count(session, scope, now, actor_id, cap=SAMPLE))
