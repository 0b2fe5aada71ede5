"""What a supervisor sees and does for the team: the overview and reassigning work.

Everything here is plain data for the team view, its charts and the CLI. Counting
happens in SQL and reads indexes or columns the database keeps, never a probe per
customer, so the overview costs about the same at a million customers as at a few
thousand (migration 0010): each agent's open customers and queue in one pass over
``ix_customer_team_load``; the stale-contact count from ``customer.contact_verified_at``
(kept by triggers on ``contact_point``); customers without a next step from the
derived ``next_step_due_at`` (the services keep it with every next step, the
PostgreSQL guards check it); the figures of the day over the indexes by time.

Reassigning moves customers to one agent or spreads them evenly over several
(round-robin in queue priority order, so each agent also gets a fair share of the
urgent ones), in one transaction, with an audit event per customer and a change-log
row per moved customer so the desks concerned update live. A customer open on a
desk right now (an unexpired hold) is not moved under the agent's hands: it is
reported as skipped and can be moved later.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from agent_desk.domain.codes import ArrangementStatus, CustomerStatus, Outcome, PromiseStatus
from agent_desk.domain.team_day import local_day
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.i18n import N_
from agent_desk.models import (
    Agent,
    Arrangement,
    AuditEvent,
    ContactAttempt,
    ContactPoint,
    Customer,
    NextStep,
    PromiseToPay,
)
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.changelog import log_changes
from agent_desk.services.queue import eligible_conditions

_T = TypeVar("_T")

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

    ``tz`` is the team's time zone; by default the machine's local one.
    """
    local = now.astimezone(tz)
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
    """Verified before this (UTC midnight ``days`` days ago) is too long ago."""
    return datetime.combine(now.astimezone(UTC).date() - timedelta(days=days), time(0), UTC)


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
    """Contact outcomes counted per (UTC) day, for the chart; days without calls absent."""
    start = _as_utc(since)
    at = ContactAttempt.at
    day: Any = (
        func.date(func.timezone("UTC", at))
        if session.get_bind().dialect.name == "postgresql"
        else func.date(at)
    )
    statement = select(day, ContactAttempt.outcome, func.count()).where(at >= start)
    if until is not None:
        statement = statement.where(at < _as_utc(until))
    statement = statement.group_by(day, ContactAttempt.outcome)
    found: dict[date, dict[str, int]] = {}
    for value, outcome, count in session.execute(statement):
        key = value if isinstance(value, date) else date.fromisoformat(str(value))
        found.setdefault(key, {})[outcome] = int(count)
    return dict(sorted(found.items()))


def _as_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), UTC)


# --------------------------------------------------------------------------- reassign


@dataclass(frozen=True)
class ReassignFilter:
    """Which customers to move; criteria combine with AND. Only open customers move."""

    from_agent: str | None = None  # login
    segment: str | None = None
    postcode_from: int | None = None  # four digits, inclusive
    postcode_to: int | None = None
    min_days_past_due: int | None = None
    first_time_only: bool = False
    customer_numbers: Sequence[str] | None = None  # picked by hand

    @property
    def empty(self) -> bool:
        return (
            self.from_agent is None
            and self.segment is None
            and self.postcode_from is None
            and self.postcode_to is None
            and self.min_days_past_due is None
            and not self.first_time_only
            and not self.customer_numbers
        )

    def describe(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in {
                "from": self.from_agent,
                "segment": self.segment,
                "postcode_from": self.postcode_from,
                "postcode_to": self.postcode_to,
                "min_days_past_due": self.min_days_past_due,
                "first_time_only": self.first_time_only or None,
                "customers": list(self.customer_numbers) if self.customer_numbers else None,
            }.items()
            if value is not None
        }


@dataclass(frozen=True)
class ReassignPreview:
    count: int
    per_target: dict[str, int]  # login -> customers they get
    sample_names: list[str]
    skipped_held: int  # open on a desk right now; not moved
    from_name: str | None
    to_names: list[str]

    def sentence(self) -> str:
        """E.g. '142 customers move from Sanne de Vries to Daan Bakker and Eva Janssen.'"""
        noun = "customer moves" if self.count == 1 else "customers move"
        source = f" from {self.from_name}" if self.from_name else ""
        return f"{self.count} {noun}{source} to {_and_list(self.to_names)}."


@dataclass(frozen=True)
class ReassignResult:
    moved: int
    per_target: dict[str, int]
    skipped_held: int
    customer_ids: tuple[int, ...] = field(repr=False)


@dataclass(frozen=True)
class _Plan:
    moves: list[tuple[int, str, int | None, Agent]]  # customer id, name, old agent, target
    skipped_held: int
    source: Agent | None
    targets: list[Agent]

    def per_target(self) -> dict[str, int]:
        counts = {t.login: 0 for t in self.targets}
        for *_rest, target in self.moves:
            counts[target.login] += 1
        return counts


def _and_list(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _agent(session: Session, login: str, what: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.login == login.strip().lower()))
    if agent is None:
        if what == "to":
            raise NotFoundError(
                "There is no agent with login '{login}' to move customers to.", login=login
            )
        raise NotFoundError(
            "There is no agent with login '{login}' to move customers from.", login=login
        )
    return agent


def _check_filter(selection: ReassignFilter) -> None:
    if selection.empty:
        raise ValidationError(
            "Say which customers to move: an agent, a segment, a postcode range, days past "
            "due, first-time arrears or customer numbers.",
            "filter",
        )
    for name in ("postcode_from", "postcode_to"):
        value = getattr(selection, name)
        if value is not None and not 1000 <= value <= 9999:
            raise ValidationError(
                "A postcode range uses four digits, not {value}.", name, value=value
            )
    low, high = selection.postcode_from, selection.postcode_to
    if low is not None and high is not None and low > high:
        raise ValidationError(
            "The postcode range {low}-{high} is empty; put the lower number first.",
            "postcode_from",
            low=low,
            high=high,
        )
    if selection.min_days_past_due is not None and selection.min_days_past_due < 0:
        raise ValidationError("Days past due cannot be negative.", "min_days_past_due")


def _conditions(
    session: Session, selection: ReassignFilter, source: Agent | None, now: datetime
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Customer.status == CustomerStatus.OPEN]
    if source is not None:
        conditions.append(Customer.assigned_agent_id == source.id)
    if selection.segment is not None:
        conditions.append(Customer.segment == selection.segment)
    if selection.postcode_from is not None or selection.postcode_to is not None:
        digits = func.substr(ContactPoint.postcode, 1, 4)
        low = f"{selection.postcode_from or 1000:04d}"
        high = f"{selection.postcode_to or 9999:04d}"
        conditions.append(
            exists().where(
                ContactPoint.customer_id == Customer.id,
                ContactPoint.kind == "address",
                ContactPoint.invalid.is_(False),
                digits >= low,
                digits <= high,
            )
        )
    if selection.min_days_past_due is not None:
        latest_due = local_day(now) - timedelta(days=selection.min_days_past_due)
        conditions.append(Customer.oldest_due_date <= latest_due)
    if selection.first_time_only:
        conditions.append(Customer.first_time_arrears.is_(True))
    if selection.customer_numbers:
        numbers = sorted({n.strip() for n in selection.customer_numbers if n.strip()})
        known = set(
            session.scalars(
                select(Customer.customer_number).where(Customer.customer_number.in_(numbers))
            )
        )
        unknown = [n for n in numbers if n not in known]
        if unknown:
            listed = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise NotFoundError("No customer has the number {listed}.", listed=listed)
        conditions.append(Customer.customer_number.in_(numbers))
    return conditions


#: More customers open on desks than this at once: the preview counts them row by row.
_FEW_HOLDS = 2000

_PLAN_ORDER = (
    Customer.queue_bucket,
    Customer.oldest_due_date.asc().nulls_last(),
    Customer.arrears_cents.desc(),
    Customer.id,
)


def _selection(
    session: Session, selection: ReassignFilter, to_logins: Sequence[str], now: datetime
) -> tuple[Agent | None, list[Agent], list[ColumnElement[bool]]]:
    """The checked filter: source, targets, and the conditions of who would move."""
    _check_filter(selection)
    logins = [login.strip().lower() for login in to_logins if login.strip()]
    if not logins:
        raise ValidationError("Say to which agent (or agents) the customers move.", "to")
    if len(set(logins)) != len(logins):
        raise ValidationError("An agent is named twice in the list to move to.", "to")
    targets = [_agent(session, login, "to") for login in logins]
    for target in targets:
        if not target.active:
            raise ValidationError("Agent '{login}' is no longer active.", "to", login=target.login)
    source = _agent(session, selection.from_agent, "from") if selection.from_agent else None
    if source is not None and source.id in {t.id for t in targets}:
        raise ValidationError(
            "Customers of {name} cannot move to {name}; choose another agent.",
            "to",
            name=source.display_name,
        )
    conditions = _conditions(session, selection, source, now)
    conditions.append(
        or_(
            Customer.assigned_agent_id.is_(None),
            Customer.assigned_agent_id.not_in([t.id for t in targets]),
        )
    )
    return source, targets, conditions


def _plan(
    session: Session,
    selection: ReassignFilter,
    to_logins: Sequence[str],
    now: datetime,
    *,
    lock: bool,
) -> _Plan:
    source, targets, conditions = _selection(session, selection, to_logins, now)
    statement = (
        select(
            Customer.id,
            Customer.first_name,
            Customer.last_name,
            Customer.assigned_agent_id,
            Customer.held_by_agent_id,
            Customer.held_until,
        )
        .where(*conditions)
        .order_by(*_PLAN_ORDER)
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        # Waits for a desk claiming one of them right now, then sees its hold.
        statement = statement.with_for_update(of=Customer)
    moves: list[tuple[int, str, int | None, Agent]] = []
    skipped = 0
    for row in session.execute(statement):
        if row.held_by_agent_id is not None and row.held_until and row.held_until > now:
            skipped += 1
            continue
        name = f"{row.first_name} {row.last_name}".strip()
        moves.append((row.id, name, row.assigned_agent_id, targets[len(moves) % len(targets)]))
    return _Plan(moves, skipped, source, targets)


def preview_reassign(
    session: Session,
    actor: Actor,
    selection: ReassignFilter,
    to_logins: Sequence[str],
    now: datetime,
    *,
    samples: int = 5,
) -> ReassignPreview:
    """How many customers would move, and to whom; changes nothing."""
    actor.require_supervisor(N_("move customers to another agent"))
    source, targets, conditions = _selection(session, selection, to_logins, now)
    # Counted in SQL (not by reading every row that would move): a preview over a
    # big book costs a count and one short page of names.
    held = and_(
        Customer.held_by_agent_id.is_not(None),
        Customer.held_until.is_not(None),
        Customer.held_until > now,
    )
    counted = select(func.count()).select_from(Customer)
    live_holds: list[int] | None = None
    if session.get_bind().dialect.name == "sqlite":
        # The few customers open on a desk now, over ``ix_customer_held`` (SQLite
        # only; the only condition here, so the one index the engine can use).
        live_holds = list(session.scalars(select(Customer.id).where(held).limit(_FEW_HOLDS + 1)))
    if live_holds is not None and len(live_holds) <= _FEW_HOLDS:
        # All of them from an index alone (for the usual filters), minus those held.
        total = session.scalar(counted.where(*conditions))
        skipped = (
            int(session.scalar(counted.where(Customer.id.in_(live_holds), *conditions)) or 0)
            if live_holds
            else 0
        )
    else:  # one pass, the holds read with the rows (no index on a hold column)
        total, held_now = session.execute(
            select(func.count(), func.sum(case((held, 1), else_=0)))
            .select_from(Customer)
            .where(*conditions)
        ).one()
        skipped = int(held_now or 0)
    count = int(total or 0) - skipped
    names = session.execute(
        select(Customer.first_name, Customer.last_name)
        .where(*conditions, ~held)
        .order_by(*_PLAN_ORDER)
        .limit(samples)
    ).all()
    # Round-robin in priority order: the first targets get one more when it is uneven.
    per_target = {
        t.login: count // len(targets) + (1 if i < count % len(targets) else 0)
        for i, t in enumerate(targets)
    }
    return ReassignPreview(
        count=count,
        per_target=per_target,
        sample_names=[f"{first} {last}".strip() for first, last in names],
        skipped_held=skipped,
        from_name=source.display_name if source else None,
        to_names=[t.display_name for t in targets],
    )


def reassign(
    session: Session,
    actor: Actor,
    selection: ReassignFilter,
    to_logins: Sequence[str],
    now: datetime,
) -> ReassignResult:
    """Move the selected customers in the caller's transaction (audited, change-logged).

    The selection is made again here, so the result may differ slightly from an
    earlier preview when colleagues worked in between; the result says what moved.
    """
    actor.require_supervisor(N_("move customers to another agent"))
    plan = _plan(session, selection, to_logins, now, lock=True)
    if not plan.moves:
        return ReassignResult(0, plan.per_target(), plan.skipped_held, ())
    logins: dict[int, str] = {
        int(r[0]): r[1] for r in session.execute(select(Agent.id, Agent.login))
    }
    by_target: dict[int, list[int]] = {}
    for customer_id, _name, _old, target in plan.moves:
        by_target.setdefault(target.id, []).append(customer_id)
    for target_id, ids in by_target.items():
        for chunk in _chunks(ids):
            session.execute(
                update(Customer)
                .where(Customer.id.in_(chunk))
                .values(assigned_agent_id=target_id, version=Customer.version + 1)
                .execution_options(synchronize_session=False)
            )
            steps = session.execute(
                select(NextStep.id, NextStep.customer_id).where(
                    NextStep.customer_id.in_(chunk), NextStep.done_at.is_(None)
                )
            ).all()
            if steps:
                session.execute(
                    update(NextStep)
                    .where(NextStep.id.in_([s[0] for s in steps]))
                    .values(assigned_agent_id=target_id, version=NextStep.version + 1)
                    .execution_options(synchronize_session=False)
                )
                log_changes(
                    session, "next_step", [s[0] for s in steps], "update", [s[1] for s in steps]
                )
    audit_rows = [
        {
            "at": now,
            "agent_id": actor.agent_id,
            "action": "reassign",
            "entity": "customer",
            "entity_id": customer_id,
            "customer_id": customer_id,
            "detail": f"{logins.get(old, '-') if old else '-'} -> {target.login}",
        }
        for customer_id, _name, old, target in plan.moves
    ]
    for chunk_rows in _chunks(audit_rows):
        session.execute(insert(AuditEvent), chunk_rows)
    per_target = plan.per_target()
    audit(
        session,
        actor,
        "reassign",
        "team",
        None,
        detail=json.dumps(
            {"filter": selection.describe(), "moved": per_target, "skipped": plan.skipped_held},
            sort_keys=True,
        ),
        at=now,
    )
    moved_ids = [customer_id for customer_id, *_rest in plan.moves]
    log_changes(session, "customer", moved_ids, "update", moved_ids)
    session.expire_all()
    return ReassignResult(len(moved_ids), per_target, plan.skipped_held, tuple(moved_ids))


def _chunks(items: list[_T], size: int = 5000) -> list[list[_T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
