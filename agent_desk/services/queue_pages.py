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

A page costs little more than its query (issue 17: at most 1.5 times the raw query
of the same statement, ``bench/bench_agent_queue.py``): the statement is built once
per shape of scope and kept, with every value bound; the driver's rows are read as
they come and only what needs it is converted; each row's reasons are worked out once
per kind of row and kept; and early signals are only asked about for the rows with a
14-day letter that offered one (a column of the page's statement).

Counting the whole queue is the one thing that grows with the portfolio: the desk
shows an estimate first (the planner's on PostgreSQL, an index-only count on SQLite)
and then the exact count, read separately so it never holds up the first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Dialect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import ClauseAdapter

from agent_desk.domain import queue as queue_rules
from agent_desk.domain.codes import NextStepKind
from agent_desk.domain.team_day import local_day
from agent_desk.domain.verification import DEFAULT_INTERVAL_DAYS
from agent_desk.errors import ValidationError
from agent_desk.models import ContactPoint, Customer, DemandNotice, LetterSent, NextStep
from agent_desk.services.queue import (
    _REMINDER_NOTE,
    QueueRow,
    QueueScope,
    QueueSort,
    _search_condition,
    eligible_conditions,
    eligible_where,
)
from agent_desk.services.signals import OFFER_MARK, due_among

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


_SORT_KEYS: dict[tuple[QueueSort, bool], tuple[_Key, ...]] = {}


def sort_keys(scope: QueueScope) -> list[_Key]:
    """The columns a scope's order sorts on, last ``customer.id`` (always unique)."""
    found = _SORT_KEYS.get((scope.sort, scope.descending))
    if found is None:
        found = _SORT_KEYS[scope.sort, scope.descending] = tuple(_sort_keys(scope))
    return list(found)


def _sort_keys(scope: QueueScope) -> list[_Key]:
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


# --------------------------------------------------------------------------- the statement
#
# A page's statement is built once per shape of scope (order, direction, team or agent,
# waiting or not, whose holds, which cursor values are NULL) with bound parameters for
# every value (the moment, the day, the agent, the cursor, the limit), and kept: a
# page then costs the query and its rows, not building and compiling the statement
# again (SQLAlchemy keeps the compiled form under the statement's memoized cache key).
# A search scope is built each time (its text is part of the statement).

_NOW, _TODAY, _STALE, _ACTOR, _AGENT = "qp_now", "qp_today", "qp_stale", "qp_actor", "qp_agent"
_LIMIT, _OFFSET = "qp_limit", "qp_offset"

#: The columns of a page row, in the order ``_rows`` unpacks them: what a ``QueueRow``
#: shows plus what its reasons need. The sort keys are among them (``_POSITION``).
_PLAIN: tuple[Any, ...] = (
    Customer.id,
    Customer.customer_number,
    Customer.first_name,
    Customer.last_name,
    Customer.arrears_cents,
    Customer.oldest_due_date,
    Customer.queue_bucket,
    Customer.next_step_kind,
    Customer.next_step_due_at,  # replaced by _moment_column (the same SQL)
    Customer.best_time,
    Customer.vulnerable,
    Customer.paused_until,
    Customer.assigned_agent_id,
    Customer.held_by_agent_id,
    Customer.version,
    Customer.first_time_arrears,
    Customer.broken_arrangement,
    Customer.missed_instalment,
)
_POSITION = {column.key: i for i, column in enumerate(_PLAIN)}
_DUE_AT = _POSITION["next_step_due_at"]

# The next step's moment is read as the engine gives it and made an aware UTC moment
# in ``_rows``, as ``UTCDateTime`` would, without its Python call per value in
# SQLAlchemy's result processing (a tenth of a page's time on SQLite). SQLite: the
# text SQLAlchemy wrote ("2026-12-01 08:45:00.000000", UTC), parsed by
# ``datetime.fromisoformat``; any other text by SQLite's own DateTime reading.
# PostgreSQL: the driver's aware moment, converted to UTC unless it is.
_SQLITE = sqlite_dialect()


def _sqlite_datetime() -> Callable[[Any], Any]:
    processor = DateTime().dialect_impl(_SQLITE).result_processor(_SQLITE, None)
    assert processor is not None  # SQLite keeps moments as text
    return processor


_SQLITE_DATETIME = _sqlite_datetime()
_FROM_ISO = datetime.fromisoformat


def _sqlite_moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    if len(value) == 26 and value[10] == " ":
        return _FROM_ISO(value + "+00:00")
    moment: datetime = _SQLITE_DATETIME(value)
    return moment.replace(tzinfo=UTC)


def _server_moment(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Reading(NamedTuple):
    """How a page row's values become Python values on one engine (see ``_seek``)."""

    moment: Callable[[Any], datetime | None]  # the next step's moment
    day: Callable[[Any], date | None] | None  # a date column; None: the driver's dates


_DAYS = ("oldest_due_date", "paused_until")
_READINGS: dict[str, _Reading] = {}


def _reading(dialect: Dialect) -> _Reading:
    found = _READINGS.get(dialect.name)
    if found is None:
        day = Date().dialect_impl(dialect).result_processor(dialect, None)
        moment = _sqlite_moment if dialect.name == "sqlite" else _server_moment
        found = _READINGS[dialect.name] = _Reading(moment, day)
    return found


def _check_reading(statement: Select[Any], dialect: Dialect) -> None:
    """A page's rows are read from the driver as they come (``_seek``): only the date
    columns may need SQLAlchemy's conversion on this engine, and ``_rows`` does that."""
    for column in statement.selected_columns:
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None and column.key not in _DAYS:
            raise AssertionError(f"queue page column {column.key} needs a conversion")


def _moment_column(dialect: str) -> Any:
    kind = String() if dialect == "sqlite" else DateTime(timezone=True)
    return type_coerce(Customer.next_step_due_at, kind).label("next_step_due_at")


def _page_columns(stale_before: Any, dialect: str) -> list[Any]:
    called_in = Customer.called_in_at.is_not(None)
    stale = exists().where(
        ContactPoint.customer_id == Customer.id,
        ContactPoint.invalid.is_(False),
        or_(ContactPoint.verified_at.is_(None), ContactPoint.verified_at < stale_before),
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
    # A 14-day letter that offered to pass the details on: without one no early signal
    # can be due (condition (d)), so only these rows of a page are asked about.
    offered = exists().where(
        DemandNotice.customer_id == Customer.id,
        LetterSent.id == DemandNotice.letter_id,
        LetterSent.parameters.contains(OFFER_MARK),
    )
    plain = [
        _moment_column(dialect) if i == _DUE_AT else _flag(c, c.key) if c.key in _FLAGS else c
        for i, c in enumerate(_PLAIN)
    ]
    return [
        *plain,
        _flag(called_in, "called_in"),
        _flag(stale, "contact_stale"),
        reminder,
        _flag(offered, "offered"),
    ]


#: Yes/no columns, read as the engine gives them (SQLite: 0 or 1, PostgreSQL: a bool)
#: and made bools in ``_rows`` only where a row shows them: SQLAlchemy's conversion
#: of each one costs more on a page than the few the row needs.
_FLAGS = ("vulnerable", "first_time_arrears", "broken_arrangement", "missed_instalment")


def _flag(column: Any, name: str) -> Any:
    return type_coerce(column, Integer()).label(name)


def _base_statement(
    scope: QueueScope, team: bool, actor: bool, keys: list[_Key], dialect: str
) -> Select[Any]:
    """The page's statement before the keyset condition and the limit, all values bound."""
    now = bindparam(_NOW, type_=Customer.next_step_due_at.type)
    today = bindparam(_TODAY, type_=Customer.paused_until.type)
    stale_before = bindparam(_STALE, type_=ContactPoint.verified_at.type)
    actor_id = bindparam(_ACTOR, type_=Customer.held_by_agent_id.type) if actor else None
    conditions = eligible_where(now, today, actor_id, scope.include_waiting)
    if not team:
        conditions.append(Customer.assigned_agent_id == bindparam(_AGENT, type_=Integer()))
    search = _search_condition(scope.search)
    if search is not None:
        conditions.append(search)
    statement: Select[Any] = select(*_page_columns(stale_before, dialect)).where(*conditions)
    return _ordered(statement, keys)


class _Shape(NamedTuple):  # a dictionary key made on every page: a plain tuple
    sort: QueueSort
    descending: bool
    include_waiting: bool
    search: str
    team: bool
    actor: bool
    backwards: bool
    nulls: tuple[bool, ...] | None  # which cursor values are NULL; None: from the top
    offset: bool
    dialect: str


@dataclass(frozen=True)
class _Statements:
    base: Select[Any]
    parts: list[Select[Any]]  # the keyset's index ranges, in order, each with its limit


_CACHE: dict[_Shape, _Statements] = {}


def _statements(
    shape: _Shape, scope: QueueScope, keys: list[_Key], dialect: Dialect | None = None
) -> _Statements:
    found = _CACHE.get(shape)
    if found is not None:
        return found
    base = _base_statement(scope, shape.team, shape.actor, keys, shape.dialect)
    if dialect is not None:
        _check_reading(base, dialect)
    if shape.nulls is None:
        bounds: list[Any] | None = None
    else:
        bounds = [
            None if null else bindparam(f"qp_k{i}", type_=key.column.type)
            for i, (key, null) in enumerate(zip(keys, shape.nulls, strict=True))
        ]
    parts = []
    for part in _parts(keys, bounds, shape.dialect):
        query = base if part is None else base.where(part)
        query = query.limit(bindparam(_LIMIT, type_=Integer()))
        if shape.offset:
            query = query.offset(bindparam(_OFFSET, type_=Integer()))
        parts.append(query)
    found = _Statements(base, parts)
    if not shape.search:  # a search's text is in its statement: not kept
        _CACHE[shape] = found
    return found


def _values(scope: QueueScope, now: datetime, actor_id: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        _NOW: now,
        _TODAY: local_day(now),
        _STALE: now - timedelta(days=DEFAULT_INTERVAL_DAYS),
    }
    if actor_id is not None:
        values[_ACTOR] = actor_id
    if scope.agent_id is not None:
        values[_AGENT] = scope.agent_id
    return values


def _shape(
    scope: QueueScope,
    actor_id: int | None,
    values: Sequence[Any] | None,
    dialect: str,
    *,
    backwards: bool = False,
    offset: int = 0,
) -> _Shape:
    return _Shape(
        scope.sort,
        scope.descending,
        scope.include_waiting,
        scope.search.strip(),
        scope.agent_id is None,
        actor_id is not None,
        backwards,
        None if values is None else tuple(v is None for v in values),
        bool(offset),
        dialect,
    )


def _page_statement(
    scope: QueueScope, now: datetime, actor_id: int | None, keys: list[_Key]
) -> Select[Any]:
    """The first page's statement with this moment's values (no limit): what a page
    reads, for a caller that runs it itself (the benchmarks' raw anchor)."""
    shape = _shape(scope, actor_id, None, "")
    statement = _statements(shape, scope, keys).base
    return statement.params(_values(scope, now, actor_id))


def _seek(
    session: Session,
    scope: QueueScope,
    now: datetime,
    actor_id: int | None,
    keys: list[_Key],
    values: Sequence[Any] | None,
    limit: int,
    offset: int = 0,
    *,
    backwards: bool = False,
) -> list[Any]:
    if session.autoflush:
        session.flush()  # what the session holds unwritten is part of the queue
    connection = session.connection()
    dialect = connection.dialect
    shape = _shape(scope, actor_id, values, dialect.name, backwards=backwards, offset=offset)
    parameters = _values(scope, now, actor_id)
    if values is not None:
        parameters |= {f"qp_k{i}": v for i, v in enumerate(values) if v is not None}
    if offset:
        parameters[_OFFSET] = offset
    found: list[Any] = []
    for statement in _statements(shape, scope, keys, dialect).parts:
        parameters[_LIMIT] = limit - len(found)
        result = connection.execute(statement, parameters)
        # The driver's rows as they are (SQLAlchemy still runs the statement, reports
        # errors and closes the cursor): ``_rows`` converts the few values that need it
        # (``_check_reading``), cheaper than a result row object for every row.
        found += result.cursor_strategy.fetchall(result, result.cursor)
        if len(found) >= limit:
            break
    return found


# --------------------------------------------------------------------------- the rows

# A row's reasons (``queue_rules.reasons``, a pure function) are made of two parts:
# those of its next step and flags, and "n days past due", which depends on the oldest
# due date and the team's day only and comes last. Each part is worked out once per
# kind of row and kept: a page repeats a few dozen next-step parts and one due date per
# day. ``tests/unit/test_queue_reasons_parts.py`` holds the rule to this split.
_Reasons = tuple[queue_rules.Reason, ...]
_REASONS: dict[tuple[Any, ...], _Reasons] = {}  # the whole, by both parts' keys
_STEP_REASONS: dict[tuple[Any, ...], _Reasons] = {}
_OVERDUE_REASONS: dict[tuple[date, date | None], _Reasons] = {}
_KEPT = 4096  # of each: forgotten all at once beyond that
_CALLBACK = NextStepKind.CALLBACK.value
_REMINDER = NextStepKind.INSTALMENT_REMINDER.value


def _step_reasons(key: tuple[Any, ...], now: datetime) -> _Reasons:
    """The reasons of a row without its due date (``key`` as ``_rows`` makes it)."""
    (kind, due_at, note, called_in, broken, missed, signal, first_time, stale) = key
    match = _REMINDER_NOTE.match(note or "")
    facts = queue_rules.QueueFacts(
        open=True,  # a queue has open customers only
        arrears_cents=0,  # not a reason
        oldest_due_date=None,  # the other part
        first_time_arrears=bool(first_time),
        broken_arrangement=bool(broken),
        missed_instalment=bool(missed),
        called_in=bool(called_in),
        next_step_kind=kind,
        next_step_due_at=due_at,
        contact_stale=bool(stale),
        reminder=(int(match.group(1)), date.fromisoformat(match.group(2))) if match else None,
        signal_due=signal,
    )
    # The local time only says when a callback is (``due_at`` is None for other kinds).
    local = due_at.astimezone().strftime("%H:%M") if due_at is not None else None
    found = tuple(queue_rules.reasons(facts, now, local_time=local))
    if len(_STEP_REASONS) >= _KEPT:
        _STEP_REASONS.clear()
    _STEP_REASONS[key] = found
    return found


def _overdue_reasons(key: tuple[date, date | None], now: datetime) -> _Reasons:
    """The "days past due" part: from the oldest due date on the team's day ``key[0]``."""
    facts = queue_rules.QueueFacts(open=True, arrears_cents=0, oldest_due_date=key[1])
    found = tuple(queue_rules.reasons(facts, now))
    if len(_OVERDUE_REASONS) >= _KEPT:
        _OVERDUE_REASONS.clear()
    _OVERDUE_REASONS[key] = found
    return found


def _reasons(key: tuple[Any, ...], now: datetime) -> _Reasons:
    """A row's reasons from its two parts (``key``: the steps part's, then the due
    date and the team's day)."""
    step = _STEP_REASONS.get(key[:9])
    if step is None:
        step = _step_reasons(key[:9], now)
    day = (key[10], key[9])  # the team's day, the oldest due date
    overdue = _OVERDUE_REASONS.get(day)
    if overdue is None:
        overdue = _overdue_reasons(day, now)
    found = step + overdue
    if len(_REASONS) >= _KEPT:
        _REASONS.clear()
    _REASONS[key] = found
    return found


def forget_reasons() -> None:
    """Drop the kept reasons (tests and benchmarks measure a cold start with it)."""
    _REASONS.clear()
    _STEP_REASONS.clear()
    _OVERDUE_REASONS.clear()


def _rows(session: Session, records: list[Any], now: datetime, reading: _Reading) -> list[QueueRow]:
    """The page's rows; the early-signal reason worked out for the offered rows only."""
    today = local_day(now)
    offered = [r[0] for r in records if r[-1]]
    signals = due_among(session, offered, today) if offered else set()
    new, kept = tuple.__new__, _REASONS.get  # looked up once, not per row
    moment, day = reading
    rows: list[QueueRow] = []
    for (
        cid,
        number,
        first,
        last,
        arrears,
        oldest,
        bucket,
        kind,
        due_at,
        best_time,
        vulnerable,
        paused,
        agent,
        held_by,
        version,
        first_time,
        broken,
        missed,
        called_in,
        stale,
        note,
        _offered,
    ) in records:
        if due_at is not None:
            due_at = moment(due_at)
        if day is not None:  # SQLite: dates come as text
            if oldest is not None:
                oldest = day(oldest)
            if paused is not None:
                paused = day(paused)
        key = (
            kind,
            due_at if kind == _CALLBACK else None,
            note if kind == _REMINDER else None,
            called_in,
            broken,
            missed,
            cid in signals,
            first_time,
            stale,
            oldest,
            today,
        )
        reasons = kept(key)
        if reasons is None:
            reasons = _reasons(key, now)
        rows.append(
            new(
                QueueRow,
                (
                    cid,
                    number,
                    f"{first} {last}".strip(),
                    arrears,
                    oldest,
                    bucket,
                    reasons,
                    kind,
                    due_at,
                    best_time,
                    bool(vulnerable),
                    paused,
                    agent,
                    held_by,
                    version,
                    bool(stale),
                ),
            )
        )
    return rows


def _key_values(record: Any, keys: list[_Key], reading: _Reading) -> list[Any]:
    values = []
    for key in keys:
        value = record[_POSITION[key.column.key]]
        if key.column.key == "next_step_due_at":
            value = reading.moment(value)
        elif key.column.key in _DAYS and reading.day is not None:
            value = reading.day(value)
        values.append(value)
    return values


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
    reading = _reading(session.get_bind().dialect)
    if before is not None:
        values = decode_cursor(scope, before)
        records = _seek(
            session, scope, now, actor_id, _reversed(keys), values, limit + 1, backwards=True
        )
        more_before = len(records) > limit
        records = list(reversed(records[:limit]))
        rows = _rows(session, records, now, reading)
        first = _key_values(records[0], keys, reading) if records else None
        last = _key_values(records[-1], keys, reading) if records else values
        return QueuePage(
            rows,
            next_cursor=encode_cursor(scope, last) if last is not None else None,
            previous_cursor=encode_cursor(scope, first) if first and more_before else None,
        )
    start = decode_cursor(scope, after) if after is not None else None
    records = _seek(session, scope, now, actor_id, keys, start, limit + 1, offset)
    more = len(records) > limit
    records = records[:limit]
    rows = _rows(session, records, now, reading)
    starts_at_top = start is None and offset == 0
    return QueuePage(
        rows,
        next_cursor=encode_cursor(scope, _key_values(records[-1], keys, reading)) if more else None,
        previous_cursor=(
            None
            if starts_at_top or not records
            else encode_cursor(scope, _key_values(records[0], keys, reading))
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
    rows read). SQLite has no such estimate: a queue of up to ``SAMPLE`` customers is
    counted exactly (a capped count reads at most ``SAMPLE + 1`` entries of the queue's
    index, cheaper than the sample: 1.0 ms against 5.1 ms for an agent's queue in a
    portfolio of 5,000); a longer one is the share of a sample of customers (one range
    of ids, read by primary key) that is in this queue, times the ids in use, and never
    below ``SAMPLE + 1``.
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
    counted = queue_count(session, scope, now, actor_id, cap=SAMPLE)
    if counted <= SAMPLE:
        return counted  # exact
    # Two statements: SQLite answers min() and max() from the key only one at a time.
    low = int(session.scalar(select(func.min(Customer.id))) or 0)
    high = int(session.scalar(select(func.max(Customer.id))) or 0)
    span = high - low + 1
    start = low + max(0, span - SAMPLE) // 2  # the middle: not only the oldest customers
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
    return max(round(in_sample / SAMPLE * span), counted)
