"""Reassigning customers between agents: choose, preview and move them.

One job: a supervisor's reassignment. Reassigning moves customers to one agent or
spreads them evenly over several (round-robin in queue priority order, so each agent
also gets a fair share of the urgent ones), in one transaction, with an audit event per
customer and a change-log row per moved customer so the desks concerned update live. A
customer open on a desk right now (an unexpired hold) is not moved under the agent's
hands: it is reported as skipped and can be moved later.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from agent_desk.domain.codes import CustomerStatus
from agent_desk.domain.team_day import local_day
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.i18n import N_
from agent_desk.models import (
    Agent,
    AuditEvent,
    ContactPoint,
    Customer,
    NextStep,
)
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.changelog import log_changes

_T = TypeVar("_T")


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
