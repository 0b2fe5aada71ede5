"""The life of a payment arrangement: agree, approve or decline, and the nightly run.

Every function runs inside the caller's transaction (``Database.transaction``),
writes an audit event and recomputes the customer's queue state, like the services
in ``activity.py``. The rules themselves (plans, policy) live in ``agent_desk.domain``.

Nightly rules, on the instalment rows' ``paid_cents`` (what the payment import has
allocated to each instalment, in due order):

* an instalment is ``paid`` once ``paid_cents`` covers its amount;
* it is ``missed`` while unpaid more than ``policy.missed_after_days`` days after its
  due date (those days are grace);
* the arrangement is ``broken`` once ``policy.missed_instalments_before_broken``
  instalments are missed at the same time, and ``completed`` when all are paid
  (completed wins).

Only active arrangements are looked at, in batches, and only changed rows are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from agent_desk.domain.arrangements import Plan
from agent_desk.domain.codes import ArrangementStatus, InstalmentStatus, NextStepKind
from agent_desk.domain.money import cents_to_str
from agent_desk.domain.policy import ArrangementPolicy, check_plan, load_default_policy
from agent_desk.errors import ConflictError, NotFoundError, ValidationError
from agent_desk.i18n import N_
from agent_desk.models import Agent, Arrangement, Customer, Instalment, NextStep
from agent_desk.services.activity import (
    NextStepInput,
    load_customer,
    set_next_step,
)
from agent_desk.services.actor import SYSTEM, Actor
from agent_desk.services.audit import audit
from agent_desk.services.derived import refresh_customer

MAX_REASON = 2000
NIGHTLY_BATCH = 1000

# Open next steps the nightly run never replaces: an agent promised this to the
# customer, and they already put the customer at the top of the queue.
_KEEP_KINDS = frozenset({NextStepKind.CALLBACK.value, NextStepKind.PROMISE_CHECK.value})
_RUNNING = (ArrangementStatus.ACTIVE.value, ArrangementStatus.PENDING_APPROVAL.value)


# --------------------------------------------------------------------------- agree


def agree_arrangement(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    plan: Plan,
    costs_cents: int,
    interest_cents: int,
    costs_waived: bool,
    interest_waived: bool,
    now: datetime,
    expected_version: int | None = None,
    approval_reason: str | None = None,
    policy: ArrangementPolicy | None = None,
) -> int:
    """Save an agreed plan with its instalments; returns the arrangement id.

    The plan's total is the principal plus the costs and interest that are not waived.
    Within policy the arrangement is ``active``; outside it, it waits for a
    supervisor (``pending_approval``) and the agent must say why in ``approval_reason``.
    """
    if now.tzinfo is None:
        raise ValidationError("The time of agreeing needs a time zone.", "now")
    policy = policy or load_default_policy()
    if costs_cents < 0:
        raise ValidationError("The collection costs cannot be negative.", "costs")
    if interest_cents < 0:
        raise ValidationError("The interest cannot be negative.", "interest")
    if not plan.instalments:
        raise ValidationError("An arrangement needs at least one instalment.", "instalments")
    if any(i.amount <= 0 for i in plan.instalments):
        raise ValidationError("Every instalment must be more than zero.", "instalments")
    if sum(i.amount for i in plan.instalments) != plan.total:
        raise ValidationError(
            "The instalments do not add up to the total; recalculate the plan.", "instalments"
        )
    added_costs = 0 if costs_waived else costs_cents
    added_interest = 0 if interest_waived else interest_cents
    principal = plan.total - added_costs - added_interest
    if principal <= 0:
        raise ValidationError(
            "The total must be more than the costs and interest added to it.", "amount"
        )
    first = min(plan.instalments, key=lambda i: (i.due, i.number))
    if first.due < now.date():
        raise ValidationError("The first instalment cannot be due in the past.", "start")

    check = check_plan(plan, policy, costs_added=added_costs > 0)
    reason = (approval_reason or "").strip()
    if check.needs_approval:
        if not reason:
            raise ValidationError(
                "This plan is outside policy and needs a supervisor's approval; "
                "say why it is needed.",
                "approval_reason",
            )
        if len(reason) > MAX_REASON:
            raise ValidationError(
                "The reason is too long ({length} characters; at most {most}).",
                "approval_reason",
                length=len(reason),
                most=MAX_REASON,
            )
        status = ArrangementStatus.PENDING_APPROVAL
        needed = " ".join(b.message for b in check.breaches) + f"\nReason given: {reason}"
    else:
        status = ArrangementStatus.ACTIVE
        needed = None

    customer = load_customer(session, customer_id, expected_version)
    running = session.scalar(
        select(func.count())
        .select_from(Arrangement)
        .where(Arrangement.customer_id == customer.id, Arrangement.status.in_(_RUNNING))
    )
    if running:
        raise ValidationError(
            "This customer already has an arrangement running or waiting for approval; "
            "it must end or be declined before a new one is agreed.",
            "arrangement",
        )
    if customer.arrears_cents > 0 and principal > customer.arrears_cents:
        raise ValidationError(
            "The plan is for {principal} without costs and interest, more than the customer owes "
            "({arrears_cents}).",
            "amount",
            principal=cents_to_str(principal),
            arrears_cents=cents_to_str(customer.arrears_cents),
        )

    arrangement = Arrangement(
        customer_id=customer.id,
        agent_id=actor.agent_id,
        created_at=now,
        frequency=plan.frequency.value,
        principal_cents=principal,
        costs_cents=costs_cents,
        interest_cents=interest_cents,
        costs_waived=costs_waived,
        interest_waived=interest_waived,
        total_cents=plan.total,
        status=status.value,
        approval_needed_reason=needed,
        instalments=[
            Instalment(
                number=i.number,
                due_date=i.due,
                amount_cents=i.amount,
                paid_cents=0,
                status=InstalmentStatus.OPEN.value,
            )
            for i in plan.instalments
        ],
    )
    session.add(arrangement)
    set_next_step(
        session, actor, customer, _reminder_step(first.number, first.due, policy, now), now
    )
    session.flush()
    detail = status.value
    if status is ArrangementStatus.PENDING_APPROVAL:
        detail = f"{status.value}: {reason}"[:MAX_REASON]
    if costs_waived or interest_waived:
        waived = [n for n, w in (("costs", costs_waived), ("interest", interest_waived)) if w]
        detail += f"; waived {' and '.join(waived)}"
    audit(
        session,
        actor,
        "create",
        "arrangement",
        arrangement.id,
        customer_id=customer.id,
        detail=detail,
        at=now,
    )
    refresh_customer(session, customer)
    return arrangement.id


def _reminder_step(
    number: int, due: date, policy: ArrangementPolicy, now: datetime
) -> NextStepInput:
    """Remind ``reminder_days_before_due`` days ahead; if that has passed, on the due
    date (or now, if that has passed too)."""
    at = datetime.combine(due - timedelta(days=policy.reminder_days_before_due), now.timetz())
    if at < now:
        at = max(datetime.combine(due, now.timetz()), now)
    return NextStepInput(
        NextStepKind.INSTALMENT_REMINDER, at, f"instalment {number} due {due.isoformat()}"
    )


# ------------------------------------------------------------------------ approval


@dataclass(frozen=True)
class PendingApproval:
    arrangement_id: int
    customer_id: int
    customer_number: str
    customer_name: str
    agent_login: str | None
    agent_name: str | None
    created_at: datetime
    total_cents: int
    instalment_count: int
    first_due: date
    last_due: date
    frequency: str
    reason: str  # the policy breaches, and the agent's reason
    version: int


def pending_approvals(session: Session) -> list[PendingApproval]:
    """Arrangements outside policy waiting for a supervisor, oldest first."""
    counts = (
        select(
            Instalment.arrangement_id.label("arrangement_id"),
            func.count().label("count"),
            func.min(Instalment.due_date).label("first_due"),
            func.max(Instalment.due_date).label("last_due"),
        )
        .group_by(Instalment.arrangement_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Arrangement,
            Customer.customer_number,
            Customer.first_name,
            Customer.last_name,
            Agent.login,
            Agent.display_name,
            counts.c.count,
            counts.c.first_due,
            counts.c.last_due,
        )
        .join(Customer, Customer.id == Arrangement.customer_id)
        .join(counts, counts.c.arrangement_id == Arrangement.id)
        .outerjoin(Agent, Agent.id == Arrangement.agent_id)
        .where(Arrangement.status == ArrangementStatus.PENDING_APPROVAL.value)
        .order_by(Arrangement.created_at, Arrangement.id)
    ).all()
    return [
        PendingApproval(
            arrangement_id=a.id,
            customer_id=a.customer_id,
            customer_number=number,
            customer_name=f"{first} {last}".strip(),
            agent_login=login,
            agent_name=agent_name,
            created_at=a.created_at,
            total_cents=a.total_cents,
            instalment_count=int(count),
            first_due=first_due,
            last_due=last_due,
            frequency=a.frequency,
            reason=a.approval_needed_reason or "",
            version=a.version,
        )
        for a, number, first, last, login, agent_name, count, first_due, last_due in rows
    ]


def approve_arrangement(
    session: Session,
    actor: Actor,
    arrangement_id: int,
    note: str,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> None:
    """A supervisor approves a plan outside policy; it becomes active."""
    actor.require_supervisor(N_("approve an arrangement outside policy"))
    arrangement = _decide(session, actor, arrangement_id, note, now, expected_version)
    arrangement.status = ArrangementStatus.ACTIVE.value
    session.flush()
    audit(
        session,
        actor,
        "approve",
        "arrangement",
        arrangement.id,
        customer_id=arrangement.customer_id,
        detail=arrangement.approval_note or "",
        at=now,
    )
    customer = load_customer(session, arrangement.customer_id, None)
    refresh_customer(session, customer)


def decline_arrangement(
    session: Session,
    actor: Actor,
    arrangement_id: int,
    note: str,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> None:
    """A supervisor declines; the agent gets a review of the customer now."""
    actor.require_supervisor(N_("decline an arrangement"))
    arrangement = _decide(session, actor, arrangement_id, note, now, expected_version)
    arrangement.status = ArrangementStatus.DECLINED.value
    customer = load_customer(session, arrangement.customer_id, None)
    set_next_step(
        session,
        actor,
        customer,
        NextStepInput(
            NextStepKind.REVIEW, now, f"arrangement declined: {arrangement.approval_note}"
        ),
        now,
    )
    session.flush()
    audit(
        session,
        actor,
        "decline",
        "arrangement",
        arrangement.id,
        customer_id=arrangement.customer_id,
        detail=arrangement.approval_note or "",
        at=now,
    )
    refresh_customer(session, customer)


def _decide(
    session: Session,
    actor: Actor,
    arrangement_id: int,
    note: str,
    now: datetime,
    expected_version: int | None,
) -> Arrangement:
    note = note.strip()
    if not note:
        raise ValidationError("Give a reason for your decision; the agent will see it.", "note")
    if len(note) > MAX_REASON:
        raise ValidationError(
            "The note is too long ({length} characters; at most {most}).",
            "note",
            length=len(note),
            most=MAX_REASON,
        )
    arrangement = session.get(Arrangement, arrangement_id, populate_existing=True)
    if arrangement is None:
        raise NotFoundError("This arrangement no longer exists.")
    if expected_version is not None and arrangement.version != expected_version:
        raise ConflictError(
            "Someone changed this arrangement while you were looking at it; nothing was "
            "overwritten. The latest data is shown."
        )
    if arrangement.status != ArrangementStatus.PENDING_APPROVAL.value:
        raise ConflictError(
            "This arrangement is no longer waiting for approval; someone else decided first."
        )
    arrangement.approved_by_id = actor.agent_id
    arrangement.approved_at = now
    arrangement.approval_note = note
    return arrangement


# ------------------------------------------------------------------------- nightly


@dataclass
class NightlyResult:
    """What the nightly run did."""

    today: date
    arrangements_checked: int = 0
    instalments_paid: int = 0
    instalments_missed: int = 0  # newly missed tonight
    arrangements_broken: int = 0
    arrangements_completed: int = 0
    customers_refreshed: int = 0
    reminders_scheduled: int = 0
    changed_arrangement_ids: list[int] = field(default_factory=list)
    broken_arrangement_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Nightly run for {self.today.isoformat()}: checked {self.arrangements_checked} "
            f"active arrangements; {self.instalments_missed} instalments newly missed, "
            f"{self.instalments_paid} paid; {self.arrangements_broken} arrangements broken, "
            f"{self.arrangements_completed} completed; {self.customers_refreshed} customers "
            f"updated, {self.reminders_scheduled} reminders scheduled."
        )


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    number: int
    due: date
    amount: int
    paid: int
    status: str


@dataclass
class _Outcome:
    arrangement_id: int
    customer_id: int
    status: str
    missed: list[_Row]
    newly_missed: list[_Row]
    next_open: _Row | None


def mark_missed_instalments(
    session: Session,
    today: date,
    policy: ArrangementPolicy | None = None,
    *,
    batch_size: int = NIGHTLY_BATCH,
) -> NightlyResult:
    """Evaluate every active arrangement on ``today``; write only what changed."""
    policy = policy or load_default_policy()
    now = datetime.combine(today, time(0), tzinfo=UTC)
    missed_before = today - timedelta(days=policy.missed_after_days)  # due < this: missed
    result = NightlyResult(today)
    instalment_table = cast(Table, Instalment.__table__)
    arrangement_table = cast(Table, Arrangement.__table__)
    set_instalment = (
        update(instalment_table)
        .where(instalment_table.c.id == bindparam("row_id"))
        .values(status=bindparam("new_status"), version=instalment_table.c.version + 1)
    )
    set_arrangement = (
        update(arrangement_table)
        .where(arrangement_table.c.id == bindparam("row_id"))
        .values(status=bindparam("new_status"), version=arrangement_table.c.version + 1)
    )
    changed_customers: set[int] = set()
    last_id = 0
    while True:
        batch = session.execute(
            select(Arrangement.id, Arrangement.customer_id)
            .where(Arrangement.status == ArrangementStatus.ACTIVE.value, Arrangement.id > last_id)
            .order_by(Arrangement.id)
            .limit(batch_size)
        ).all()
        if not batch:
            break
        last_id = batch[-1][0]
        customer_of = {int(a): int(c) for a, c in batch}
        result.arrangements_checked += len(batch)
        rows: dict[int, list[_Row]] = {a: [] for a in customer_of}
        for r in session.execute(
            select(
                Instalment.arrangement_id,
                Instalment.id,
                Instalment.number,
                Instalment.due_date,
                Instalment.amount_cents,
                Instalment.paid_cents,
                Instalment.status,
            )
            .where(Instalment.arrangement_id.in_(list(customer_of)))
            .order_by(Instalment.arrangement_id, Instalment.due_date, Instalment.number)
        ):
            rows[int(r[0])].append(_Row(int(r[1]), r[2], r[3], r[4], r[5], r[6]))

        instalment_changes: list[dict[str, object]] = []
        arrangement_changes: list[dict[str, object]] = []
        outcomes: list[_Outcome] = []
        for arrangement_id, instalments in rows.items():
            outcome, changes = _evaluate(
                arrangement_id, customer_of[arrangement_id], instalments, missed_before, policy
            )
            if not changes and outcome.status == ArrangementStatus.ACTIVE.value:
                continue
            for row, new_status in changes:
                instalment_changes.append({"row_id": row.id, "new_status": new_status})
                if new_status == InstalmentStatus.PAID.value:
                    result.instalments_paid += 1
            result.instalments_missed += len(outcome.newly_missed)
            if outcome.status != ArrangementStatus.ACTIVE.value:
                arrangement_changes.append({"row_id": arrangement_id, "new_status": outcome.status})
                if outcome.status == ArrangementStatus.BROKEN.value:
                    result.arrangements_broken += 1
                    result.broken_arrangement_ids.append(arrangement_id)
                else:
                    result.arrangements_completed += 1
            outcomes.append(outcome)
        if instalment_changes:
            session.execute(set_instalment, instalment_changes)
        if arrangement_changes:
            session.execute(set_arrangement, arrangement_changes)
        for outcome in outcomes:
            result.changed_arrangement_ids.append(outcome.arrangement_id)
            if _follow_up(session, outcome, policy, now):
                result.reminders_scheduled += 1
        changed_customers.update(o.customer_id for o in outcomes)
    result.customers_refreshed = _refresh(session, changed_customers)
    return result


def _evaluate(
    arrangement_id: int,
    customer_id: int,
    instalments: Sequence[_Row],
    missed_before: date,
    policy: ArrangementPolicy,
) -> tuple[_Outcome, list[tuple[_Row, str]]]:
    changes: list[tuple[_Row, str]] = []
    missed: list[_Row] = []
    newly: list[_Row] = []
    next_open: _Row | None = None
    for row in instalments:
        if row.paid >= row.amount:
            new = InstalmentStatus.PAID.value
        elif row.due < missed_before:
            new = InstalmentStatus.MISSED.value
            missed.append(row)
            if row.status != new:
                newly.append(row)
        else:
            new = InstalmentStatus.OPEN.value
            if next_open is None:
                next_open = row
        if row.status != new:
            changes.append((row, new))
    if instalments and not missed and next_open is None:
        status = ArrangementStatus.COMPLETED.value
    elif len(missed) >= policy.missed_instalments_before_broken:
        status = ArrangementStatus.BROKEN.value
    else:
        status = ArrangementStatus.ACTIVE.value
    return _Outcome(arrangement_id, customer_id, status, missed, newly, next_open), changes


def _follow_up(
    session: Session, outcome: _Outcome, policy: ArrangementPolicy, now: datetime
) -> bool:
    """Set the customer's next step after a change; True when a reminder was set."""
    open_steps = list(
        session.scalars(
            select(NextStep).where(
                NextStep.customer_id == outcome.customer_id, NextStep.done_at.is_(None)
            )
        )
    )
    kinds = {s.kind for s in open_steps}
    customer = session.get(Customer, outcome.customer_id)
    if customer is None:  # pragma: no cover - cascade deletes keep this from happening
        return False
    reminder = False
    if outcome.status == ArrangementStatus.BROKEN.value:
        numbers = ", ".join(str(r.number) for r in outcome.missed)
        text = f"arrangement broken: instalments {numbers} missed"
        detail = "broken"
    elif outcome.newly_missed:
        numbers = ", ".join(str(r.number) for r in outcome.newly_missed)
        text = f"instalment {numbers} missed"
        detail = f"missed instalment {numbers}"
    else:
        text = ""
        detail = outcome.status
    if text:
        if not kinds & _KEEP_KINDS:
            set_next_step(
                session, SYSTEM, customer, NextStepInput(NextStepKind.REVIEW, now, text), now
            )
    elif outcome.status == ArrangementStatus.COMPLETED.value:
        for step in open_steps:
            if step.kind == NextStepKind.INSTALMENT_REMINDER.value:
                step.done_at = now
    elif outcome.next_open is not None and kinds <= {NextStepKind.INSTALMENT_REMINDER.value}:
        row = outcome.next_open
        set_next_step(
            session, SYSTEM, customer, _reminder_step(row.number, row.due, policy, now), now
        )
        reminder = True
        detail = f"next reminder: instalment {row.number}"
    audit(
        session,
        SYSTEM,
        "nightly",
        "arrangement",
        outcome.arrangement_id,
        customer_id=outcome.customer_id,
        detail=detail,
        at=now,
    )
    return reminder


def _refresh(session: Session, customer_ids: set[int]) -> int:
    session.flush()
    # The bulk UPDATEs bypassed the identity map: reload what the refresh reads.
    for customer_id in customer_ids:
        customer = session.get(Customer, customer_id, populate_existing=True)
        if customer is not None:
            refresh_customer(session, customer)
    return len(customer_ids)
