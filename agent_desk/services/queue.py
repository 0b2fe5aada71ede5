"""The work queue: who is eligible, in which order, listed as ids first and rows in pages.

Sorting and filtering happen in SQL so that a 100,000-customer view only ever
loads the ids plus the page on screen. Claiming and holding customers from the
queue is :mod:`agent_desk.services.queue_claims`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from agent_desk.domain import queue as queue_rules
from agent_desk.domain.codes import CustomerStatus, NextStepKind
from agent_desk.domain.queue_view import QueueRow as QueueRow  # re-exported: plain values
from agent_desk.domain.queue_view import QueueScope as QueueScope
from agent_desk.domain.queue_view import QueueSort as QueueSort
from agent_desk.domain.team_day import local_day
from agent_desk.domain.verification import DEFAULT_INTERVAL_DAYS
from agent_desk.models import ContactPoint, Customer, NextStep
from agent_desk.services.signals import due_among


def eligible_conditions(
    now: datetime, actor_id: int | None, include_waiting: bool = False
) -> list[ColumnElement[bool]]:
    """Who may be in a queue right now (open, not paused, not waiting, not held elsewhere)."""
    return eligible_where(now, local_day(now), actor_id, include_waiting)


def eligible_where(
    now: Any, today: Any, actor: Any | None, include_waiting: bool = False
) -> list[ColumnElement[bool]]:
    """``eligible_conditions`` with each value given as a Python value or as a bound
    parameter (``today`` is the team's day of ``now``; ``actor`` None: nobody's
    holds are left out), so a statement built once can run with other values."""
    conditions: list[ColumnElement[bool]] = [
        Customer.status == CustomerStatus.OPEN,
        Customer.queue_bucket < int(queue_rules.Bucket.NOT_IN_QUEUE),
    ]
    if not include_waiting:
        conditions += [
            or_(Customer.paused_until.is_(None), Customer.paused_until < today),
            or_(Customer.next_step_due_at.is_(None), Customer.next_step_due_at <= now),
        ]
    if actor is not None:
        held_elsewhere = and_(
            Customer.held_until.is_not(None),
            Customer.held_until > now,
            Customer.held_by_agent_id != actor,
        )
        conditions.append(~held_elsewhere)
    return conditions


_DIGITS = re.compile(r"\D")
_POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{2})?\s*$")


def _search_condition(text: str) -> ColumnElement[bool] | None:
    text = text.strip()
    if not text:
        return None
    like = f"%{text.lower()}%"
    options: list[ColumnElement[bool]] = [
        func.lower(Customer.last_name).like(like),
        func.lower(Customer.first_name + " " + Customer.last_name).like(like),
        Customer.customer_number.like(f"{text}%"),
    ]
    postcode = _POSTCODE.match(text)
    if postcode:
        prefix = postcode.group(1) + (" " + postcode.group(2).upper() if postcode.group(2) else "")
        options.append(
            exists().where(
                ContactPoint.customer_id == Customer.id, ContactPoint.postcode.like(f"{prefix}%")
            )
        )
    digits = _DIGITS.sub("", text)
    if len(digits) >= 6:
        tail = digits[1:] if digits.startswith("0") else digits  # 0612… matches +31612…
        options.append(
            exists().where(
                ContactPoint.customer_id == Customer.id, ContactPoint.value.like(f"%{tail}%")
            )
        )
    return or_(*options)


def _ordered(statement: Select[Any], scope: QueueScope) -> Select[Any]:
    desc = scope.descending
    keys: list[ColumnElement[Any]]
    if scope.sort is QueueSort.PRIORITY:
        keys = [
            Customer.queue_bucket.desc() if desc else Customer.queue_bucket.asc(),
            Customer.oldest_due_date.desc() if desc else Customer.oldest_due_date.asc(),
            Customer.arrears_cents.asc() if desc else Customer.arrears_cents.desc(),
        ]
    else:
        column: Any = {
            QueueSort.NAME: Customer.last_name,
            QueueSort.ARREARS: Customer.arrears_cents,
            QueueSort.DAYS_PAST_DUE: Customer.oldest_due_date,
            QueueSort.NEXT_STEP: Customer.next_step_due_at,
            QueueSort.CUSTOMER_NUMBER: Customer.customer_number,
        }[scope.sort]
        # Days past due grow as the due date gets older: invert the direction.
        ascending = not desc if scope.sort is not QueueSort.DAYS_PAST_DUE else desc
        keys = [column.asc() if ascending else column.desc()]
    return statement.order_by(*keys, Customer.id)


def queue_statement(scope: QueueScope, now: datetime, actor_id: int | None) -> Select[Any]:
    statement = select(Customer.id).where(
        *eligible_conditions(now, actor_id, scope.include_waiting)
    )
    if scope.agent_id is not None:
        statement = statement.where(Customer.assigned_agent_id == scope.agent_id)
    condition = _search_condition(scope.search)
    if condition is not None:
        statement = statement.where(condition)
    return _ordered(statement, scope)


def queue_ids(
    session: Session, scope: QueueScope, now: datetime, actor_id: int | None = None
) -> list[int]:
    """Every id in the queue, in order; rows are fetched separately, a page at a time."""
    return list(session.scalars(queue_statement(scope, now, actor_id)))


def queue_size(session: Session, agent_id: int, now: datetime) -> int:
    statement = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.assigned_agent_id == agent_id, *eligible_conditions(now, None))
    )
    return int(session.scalar(statement) or 0)


_ROW_COLUMNS = (
    Customer.id,
    Customer.customer_number,
    Customer.first_name,
    Customer.last_name,
    Customer.status,
    Customer.arrears_cents,
    Customer.oldest_due_date,
    Customer.first_time_arrears,
    Customer.broken_arrangement,
    Customer.missed_instalment,
    Customer.called_in_at,
    Customer.next_step_kind,
    Customer.next_step_due_at,
    Customer.paused_until,
    Customer.queue_bucket,
    Customer.best_time,
    Customer.vulnerable,
    Customer.assigned_agent_id,
    Customer.held_by_agent_id,
    Customer.version,
)


def queue_rows(session: Session, ids: Sequence[int], now: datetime) -> list[QueueRow]:
    """Rows for the given ids, in the given order (plain columns, no ORM objects)."""
    if not ids:
        return []
    found: dict[int, QueueRow] = {}
    stale_before = now - timedelta(days=DEFAULT_INTERVAL_DAYS)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        stale = set(
            session.scalars(
                select(ContactPoint.customer_id)
                .where(
                    ContactPoint.customer_id.in_(chunk),
                    ContactPoint.invalid.is_(False),
                    or_(
                        ContactPoint.verified_at.is_(None), ContactPoint.verified_at < stale_before
                    ),
                )
                .distinct()
            )
        )
        reminders = _reminders(session, chunk)
        signals = due_among(session, chunk, local_day(now))
        for record in session.execute(select(*_ROW_COLUMNS).where(Customer.id.in_(chunk))):
            found[record.id] = _row(
                record,
                now,
                contact_stale=record.id in stale,
                reminder=reminders.get(record.id),
                signal_due=record.id in signals,
            )
    return [found[i] for i in ids if i in found]


_REMINDER_NOTE = re.compile(r"^instalment (\d+) due (\d{4}-\d{2}-\d{2})$")


def _reminders(session: Session, ids: Sequence[int]) -> dict[int, tuple[int, date]]:
    """Which instalment each open reminder is about (from the step the arrangement set)."""
    found: dict[int, tuple[int, date]] = {}
    rows = session.execute(
        select(NextStep.customer_id, NextStep.note).where(
            NextStep.customer_id.in_(ids),
            NextStep.done_at.is_(None),
            NextStep.kind == NextStepKind.INSTALMENT_REMINDER.value,
        )
    )
    for customer_id, note in rows:
        match = _REMINDER_NOTE.match(note or "")
        if match:
            found[customer_id] = (int(match.group(1)), date.fromisoformat(match.group(2)))
    return found


def _row(
    r: Any,
    now: datetime,
    *,
    contact_stale: bool = False,
    reminder: tuple[int, date] | None = None,
    signal_due: bool = False,
) -> QueueRow:
    """A queue row from a result row or a Customer (both have the same attribute names)."""
    facts = queue_rules.QueueFacts(
        open=r.status == CustomerStatus.OPEN,
        arrears_cents=r.arrears_cents,
        oldest_due_date=r.oldest_due_date,
        first_time_arrears=r.first_time_arrears,
        broken_arrangement=r.broken_arrangement,
        missed_instalment=r.missed_instalment,
        called_in=r.called_in_at is not None,
        next_step_kind=r.next_step_kind,
        next_step_due_at=r.next_step_due_at,
        paused_until=r.paused_until,
        contact_stale=contact_stale,
        reminder=reminder,
        signal_due=signal_due,
    )
    local = r.next_step_due_at.astimezone().strftime("%H:%M") if r.next_step_due_at else None
    return QueueRow(
        customer_id=r.id,
        customer_number=r.customer_number,
        name=f"{r.first_name} {r.last_name}".strip(),
        arrears_cents=r.arrears_cents,
        oldest_due_date=r.oldest_due_date,
        bucket=r.queue_bucket,
        reasons=tuple(queue_rules.reasons(facts, now, local_time=local)),
        next_step_kind=r.next_step_kind,
        next_step_due_at=r.next_step_due_at,
        best_time=r.best_time,
        vulnerable=r.vulnerable,
        paused_until=r.paused_until,
        assigned_agent_id=r.assigned_agent_id,
        held_by_agent_id=r.held_by_agent_id,
        version=r.version,
        contact_stale=contact_stale,
    )


def agent_queue(
    session: Session, agent_id: int, now: datetime, limit: int | None = None
) -> list[QueueRow]:
    statement = queue_statement(QueueScope(agent_id), now, agent_id)
    if limit is not None:
        statement = statement.limit(limit)
    return queue_rows(session, list(session.scalars(statement)), now)
