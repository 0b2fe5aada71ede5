"""What a supervisor sees of the team: the overview, its counts and its charts.

Everything here is plain data for the team view, its charts and the CLI. Counting
happens in SQL and reads indexes or columns the database keeps, never a probe per
customer, so the overview costs about the same at a million customers as at a few
thousand (migration 0010): each agent's open customers and queue in one pass over
``ix_customer_team_load``; the stale-contact count from ``customer.contact_verified_at``
(kept by triggers on ``contact_point``); customers without a next step from the
derived ``next_step_due_at`` (the services keep it with every next step, the
PostgreSQL guards check it); the figures of the day over the indexes by time.

Reassigning work lives in :mod:`agent_desk.services.reassign`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.orm import Session

from agent_desk.domain.codes import ArrangementStatus, CustomerStatus, Outcome, PromiseStatus
from agent_desk.domain.team_day import local_day, team_zone
from agent_desk.errors import ValidationError
from agent_desk.models import (
    Agent,
    Arrangement,
    ContactAttempt,
    Customer,
    PromiseToPay,
)
from agent_desk.services.queue import eligible_conditions

#: The kept rate looks at the promises taken in this many days (today included).
PROMISE_DAYS = 30

# --------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class AgentStats:
    agent_id: int
    login: str
    display_name: str
    role: str
    queue_size: int  # customers due for a call now
    assigned: int  # open customers assigned
    attempts_today: int
    customers_reached_today: int
    promises_today: int
    arrangements_today: int
    # Promises the agent took in the last ``promise_days`` days, and how they ended.
    promises_made: int = 0
    promises_kept: int = 0
    promises_broken: int = 0

    @property
    def promises_resolved(self) -> int:
        return self.promises_kept + self.promises_broken

    @property
    def promise_kept_rate(self) -> float | None:
        """Kept of those resolved (kept or broken); None while none is resolved."""
        resolved = self.promises_resolved
        return self.promises_kept / resolved if resolved else None


@dataclass(frozen=True)
class TeamSummary:
    agents: list[AgentStats]
    pending_approval: int
    stale_contact_customers: int
    customers_without_next_step: int
    unassigned: int
    promise_days: int = PROMISE_DAYS


def day_bounds(now: datetime, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the working day that contains ``now``.

    ``tz``: the team's time zone (``team_day.team_zone()``, the same day the books
    count) unless given; never the machine's, which may be anywhere.
    """
    local = now.astimezone(tz or team_zone())
    start = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


_REACHED = [o.value for o in Outcome if not o.is_failed_attempt]


def _per_agent(session: Session, statement: Any) -> dict[int, int]:
    return {int(a): int(n) for a, n in session.execute(statement).all() if a is not None}


def agent_loads(session: Session, now: datetime) -> tuple[dict[int, int], dict[int, int]]:
    """Per agent: customers due for a call now, and open customers assigned.

    One pass over the index ``(status, assigned_agent_id, queue_bucket,
    paused_until, next_step_due_at)``: the open customers in agent order, the queue's
    eligibility read from the index itself (no row is fetched)."""
    due_now = case((and_(*eligible_conditions(now, None)), 1), else_=0)
    queue: dict[int, int] = {}
    assigned: dict[int, int] = {}
    for agent_id, total, due in session.execute(
        select(Customer.assigned_agent_id, func.count(), func.sum(due_now))
        .where(Customer.status == CustomerStatus.OPEN)
        .group_by(Customer.assigned_agent_id)
    ):
        if agent_id is not None:
            assigned[int(agent_id)] = int(total)
            queue[int(agent_id)] = int(due or 0)
    return queue, assigned


def promise_outcomes(
    session: Session, since: datetime, until: datetime
) -> dict[int, dict[str, int]]:
    """Per agent, the promises they took in [since, until) counted by status."""
    found: dict[int, dict[str, int]] = {}
    for agent_id, status, count in session.execute(
        select(PromiseToPay.agent_id, PromiseToPay.status, func.count())
        .where(PromiseToPay.created_at >= since, PromiseToPay.created_at < until)
        .group_by(PromiseToPay.agent_id, PromiseToPay.status)
    ):
        if agent_id is not None:
            found.setdefault(int(agent_id), {})[str(status)] = int(count)
    return found


def team_overview(
    session: Session,
    now: datetime,
    *,
    tz: tzinfo | None = None,
    promise_days: int = PROMISE_DAYS,
) -> list[AgentStats]:
    """Every active agent's queue and the work done today, agents before supervisors.

    The promise figures cover the promises each agent took in the last
    ``promise_days`` days (today included): how many, and how many of them were kept
    or broken so far (the rest are still running).
    """
    if promise_days < 1:
        raise ValidationError("The kept rate needs a period of at least one day.", "days")
    start, end = day_bounds(now, tz)
    period_start, _ = day_bounds(now - timedelta(days=promise_days - 1), tz)
    outcomes = promise_outcomes(session, period_start, end)
    queue, assigned = agent_loads(session, now)
    today = and_(ContactAttempt.at >= start, ContactAttempt.at < end)
    attempts = _per_agent(
        session,
        select(ContactAttempt.agent_id, func.count())
        .where(today)
        .group_by(ContactAttempt.agent_id),
    )
    reached = _per_agent(
        session,
        select(ContactAttempt.agent_id, func.count(func.distinct(ContactAttempt.customer_id)))
        .where(today, ContactAttempt.outcome.in_(_REACHED))
        .group_by(ContactAttempt.agent_id),
    )
    promises = _per_agent(
        session,
        select(PromiseToPay.agent_id, func.count())
        .where(PromiseToPay.created_at >= start, PromiseToPay.created_at < end)
        .group_by(PromiseToPay.agent_id),
    )
    arrangements = _per_agent(
        session,
        select(Arrangement.agent_id, func.count())
        .where(Arrangement.created_at >= start, Arrangement.created_at < end)
        .group_by(Arrangement.agent_id),
    )
    agents = session.scalars(
        select(Agent).where(Agent.active.is_(True)).order_by(Agent.role, Agent.display_name)
    ).all()
    return [
        AgentStats(
            agent_id=a.id,
            login=a.login,
            display_name=a.display_name,
            role=a.role,
            queue_size=queue.get(a.id, 0),
            assigned=assigned.get(a.id, 0),
            attempts_today=attempts.get(a.id, 0),
            customers_reached_today=reached.get(a.id, 0),
            promises_today=promises.get(a.id, 0),
            arrangements_today=arrangements.get(a.id, 0),
            promises_made=sum(outcomes.get(a.id, {}).values()),
            promises_kept=outcomes.get(a.id, {}).get(PromiseStatus.KEPT.value, 0),
            promises_broken=outcomes.get(a.id, {}).get(PromiseStatus.BROKEN.value, 0),
        )
        for a in agents
    ]


def pending_approval_count(session: Session) -> int:
    statement = (
        select(func.count())
        .select_from(Arrangement)
        .where(Arrangement.status == ArrangementStatus.PENDING_APPROVAL)
    )
    return int(session.scalar(statement) or 0)


def stale_cutoff(now: datetime, days: int = 90) -> datetime:
    """Verified before this (the start of the team's day ``days`` days ago, in UTC) is
    too long ago: the verification rule's calendar days (``domain.verification``)."""
    zone = team_zone()
    start = datetime.combine(local_day(now, zone) - timedelta(days=days), time(0), zone)
    return start.astimezone(UTC)


def stale_contact_customers(session: Session, now: datetime, days: int = 90) -> int:
    """Open customers whose contact data needs checking (the verification rule):
    a usable point never verified or verified more than ``days`` days ago, or no
    usable point at all.

    ``customer.contact_verified_at`` is the oldest verification of the usable points
    (NULL: one never verified, or none usable), kept by the database's triggers on
    ``contact_point``; so this is two ranges of ``ix_customer_contact_check``."""
    cutoff = stale_cutoff(now, days)
    checked = Customer.contact_verified_at
    counted = (
        select(func.count()).select_from(Customer).where(Customer.status == CustomerStatus.OPEN)
    )
    never = session.scalar(counted.where(checked.is_(None)))
    too_long_ago = session.scalar(counted.where(checked < cutoff))
    return int(never or 0) + int(too_long_ago or 0)


def customers_without_next_step(session: Session) -> int:
    """Open customers with no open next step.

    ``customer.next_step_due_at`` is the due time of the customer's first open next
    step (every step has one), NULL when there is none: the services set it with
    every next step written and the PostgreSQL guards refuse any other value. So
    this is one range of ``ix_customer_team_next_step``."""
    statement = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.status == CustomerStatus.OPEN, Customer.next_step_due_at.is_(None))
    )
    return int(session.scalar(statement) or 0)


def unassigned_count(session: Session) -> int:
    statement = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.status == CustomerStatus.OPEN, Customer.assigned_agent_id.is_(None))
    )
    return int(session.scalar(statement) or 0)


def team_summary(
    session: Session,
    now: datetime,
    *,
    tz: tzinfo | None = None,
    stale_days: int = 90,
    promise_days: int = PROMISE_DAYS,
) -> TeamSummary:
    return TeamSummary(
        agents=team_overview(session, now, tz=tz, promise_days=promise_days),
        pending_approval=pending_approval_count(session),
        stale_contact_customers=stale_contact_customers(session, now, stale_days),
        customers_without_next_step=customers_without_next_step(session),
        unassigned=unassigned_count(session),
        promise_days=promise_days,
    )


def outcomes_per_day(
    session: Session, since: date | datetime, until: date | datetime | None = None
) -> dict[date, dict[str, int]]:
    """Contact outcomes counted per team day (``team_day``: a call at 00:30 in
    Amsterdam is that day's, not the UTC evening before), for the chart; days without
    calls absent. ``since``/``until`` as days are the team's days.

    PostgreSQL converts each moment to the team's zone itself. SQLite has no zones:
    it counts per quarter of an hour (every zone's offset is a multiple of 15 minutes)
    and the quarters are put on their team day here, at most 96 groups a day."""
    zone = team_zone()
    start = _as_utc(since, zone)
    at = ContactAttempt.at
    postgres = session.get_bind().dialect.name == "postgresql"
    bucket: Any = (
        func.date(func.timezone(zone.key, at))
        if postgres
        else func.strftime("%Y-%m-%d %H:", at).concat(
            func.printf("%02d", cast(func.strftime("%M", at), Integer) / 15 * 15)
        )
    )
    statement = select(bucket, ContactAttempt.outcome, func.count()).where(at >= start)
    if until is not None:
        statement = statement.where(at < _as_utc(until, zone))
    statement = statement.group_by(bucket, ContactAttempt.outcome)
    found: dict[date, dict[str, int]] = {}
    for value, outcome, count in session.execute(statement):
        if isinstance(value, date):
            key = value
        elif postgres:
            key = date.fromisoformat(str(value))
        else:  # "2026-11-23 23:45" in UTC
            key = local_day(datetime.fromisoformat(str(value)).replace(tzinfo=UTC), zone)
        counts = found.setdefault(key, {})
        counts[outcome] = counts.get(outcome, 0) + int(count)
    return dict(sorted(found.items()))


def _as_utc(value: date | datetime, zone: tzinfo) -> datetime:
    """A moment as UTC; a day as the start of that team day, in UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), zone).astimezone(UTC)
