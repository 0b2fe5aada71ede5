"""The nightly check of running arrangements: paid, missed, broken or completed.

Rules, on the instalment rows' ``paid_cents`` (what the payment import has allocated
to each instalment, in due order):

* an instalment is ``paid`` once ``paid_cents`` covers its amount;
* it is ``missed`` while unpaid more than ``policy.missed_after_days`` days after its
  due date (those days are grace);
* the arrangement is ``broken`` once ``policy.missed_instalments_before_broken``
  instalments are missed at the same time, and ``completed`` when all are paid
  (completed wins).

Only active arrangements are looked at, in batches, and only changed rows are written.
A missed instalment gets its follow-up next step (unless an agent's callback or
promise check is open), the next instalment its reminder (``arrangements.reminder_step``).
Agreeing, approving and declining are ``arrangements``'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from agent_desk.domain.codes import ArrangementStatus, InstalmentStatus, NextStepKind
from agent_desk.domain.policy import ArrangementPolicy
from agent_desk.models import Arrangement, Customer, Instalment, NextStep
from agent_desk.services import team_rules
from agent_desk.services.activity import (
    NextStepInput,
    set_next_step,
)
from agent_desk.services.actor import SYSTEM
from agent_desk.services.arrangements import reminder_step
from agent_desk.services.audit import audit
from agent_desk.services.derived import refresh_customer

NIGHTLY_BATCH = 1000


# Open next steps the nightly run never replaces: an agent promised this to the
# customer, and they already put the customer at the top of the queue.
_KEEP_KINDS = frozenset({NextStepKind.CALLBACK.value, NextStepKind.PROMISE_CHECK.value})


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
    policy = policy or team_rules.policy(session)
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
            session, SYSTEM, customer, reminder_step(row.number, row.due, policy, now), now
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
