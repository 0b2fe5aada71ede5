"""The life of a payment arrangement: agree it, approve or decline it.

Every function runs inside the caller's transaction (``Database.transaction``),
writes an audit event and recomputes the customer's queue state, like the services
in ``activity.py``. The rules themselves (plans, charges, policy) live in
``agent_desk.domain.arrangement_plan``.

On the books: agreeing reads what is owed from the ledger (never from the client),
books the interest up to today and any waiver, so the claims owe exactly the
arrangement's total; while it runs they accrue nothing. A declined arrangement undoes
its waivers with offsetting entries and interest runs again from the decline. What
the nightly run does with a running arrangement is ``missed_instalments``'.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.domain.arrangement_plan import (
    MAX_REASON,
    Charges,
    ClaimOwed,
    Message,
    Money,
    Owed,
    Terms,
    compute_plan,
    owed_on,
    review_plan,
)
from agent_desk.domain.arrangements import Plan
from agent_desk.domain.codes import ArrangementStatus, InstalmentStatus, NextStepKind
from agent_desk.domain.interest import RateTable
from agent_desk.domain.ledger import EntryKind, Part
from agent_desk.domain.money import cents_to_str
from agent_desk.domain.policy import ArrangementPolicy
from agent_desk.errors import ConflictError, NotFoundError, ValidationError
from agent_desk.i18n import N_
from agent_desk.models import Agent, Arrangement, Customer, Instalment, LedgerEntry
from agent_desk.services import ledger, team_rules
from agent_desk.services.activity import (
    NextStepInput,
    load_customer,
    set_next_step,
)
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.derived import refresh_customer

_RUNNING = (ArrangementStatus.ACTIVE.value, ArrangementStatus.PENDING_APPROVAL.value)


# --------------------------------------------------------------------------- agree


def arrangement_owed(
    session: Session, customer_id: int, on: date, *, rates: RateTable | None = None
) -> Owed:
    """What an arrangement agreed on ``on`` would be for, from the books (the calculator
    shows it; :func:`agree_arrangement` works it out again when saving)."""
    if session.get(Customer, customer_id) is None:
        raise NotFoundError("This customer no longer exists.")
    books = ledger.load_customer_books(session, customer_id)
    return owed_from_books(books, on, rates or team_rules.rate_table(session))


def owed_from_books(books: ledger.CustomerBooks, on: date, rates: RateTable) -> Owed:
    balance = ledger.figures(books, on, rates)
    owed = owed_on(
        (
            ClaimOwed(
                c.due_date, c.outstanding_principal, c.outstanding_costs, c.outstanding_interest
            )
            for c in balance.claims
        ),
        on,
    )
    if owed.interest and owed.interest_since is not None:
        provisional = rates.provisional_from(owed.interest_since, on)
        if provisional is not None:
            owed = replace(owed, interest_provisional_from=provisional)
    return owed


def agree_arrangement(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    now: datetime,
    terms: Terms | None = None,
    plan: Plan | None = None,
    principal_cents: int | None = None,
    costs_cents: int | None = None,
    interest_cents: int | None = None,
    costs_waived: bool | None = None,
    interest_waived: bool | None = None,
    expected_version: int | None = None,
    approval_reason: str | None = None,
    policy: ArrangementPolicy | None = None,
    rates: RateTable | None = None,
) -> int:
    """Agree a plan over what the books say is owed; returns the arrangement id.

    The service works out the amount itself: the outstanding principal of the claims
    due by today, the costs booked on them and the interest up to today (booked now).
    ``terms`` say how to pay it (the plan is made here, by the same code as the
    calculator's); a client that made its own schedule passes ``plan`` instead, with
    ``costs_waived``/``interest_waived``, and its total must be the books' exactly.
    ``principal_cents``/``costs_cents``/``interest_cents``, when given, are the figures
    the client showed (before any waiver): if the books differ, nothing is saved and
    the client must recalculate. Waived costs or interest are booked as waiver
    entries, so afterwards the claims owe exactly the arrangement's total.

    Within policy the arrangement is ``active``; outside it, it waits for a supervisor
    (``pending_approval``) and the agent must say why in ``approval_reason``.
    """
    if now.tzinfo is None:
        raise ValidationError("The time of agreeing needs a time zone.", "now")
    if (terms is None) == (plan is None):
        raise TypeError("agree_arrangement needs either terms or a plan")
    if terms is not None and (costs_waived is not None or interest_waived is not None):
        raise TypeError("with terms, the waivers are part of the terms")
    policy = policy or team_rules.policy(session)
    rates = rates or team_rules.rate_table(session)
    today = now.date()
    for name, cents in (("costs", costs_cents), ("interest", interest_cents)):
        if cents is not None and cents < 0:
            raise ValidationError(
                "The collection costs cannot be negative."
                if name == "costs"
                else "The interest cannot be negative.",
                name,
            )

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
    books = ledger.load_customer_books(session, customer.id)
    owed = owed_from_books(books, today, rates)
    _refuse_other_figures(owed, principal_cents, costs_cents, interest_cents)
    if terms is not None:
        result = compute_plan(owed, terms, policy, today=today)
        waive_costs, waive_interest = terms.waive_costs, terms.waive_interest
    else:
        assert plan is not None
        waive_costs, waive_interest = bool(costs_waived), bool(interest_waived)
        result = review_plan(
            owed, plan, policy, waive_costs=waive_costs, waive_interest=waive_interest, today=today
        )
    reason = (approval_reason or "").strip()
    refusal = result.refusal(reason)
    if refusal is not None:
        field_name, message = refusal
        raise ValidationError(message.id, field_name, **_english_values(message))
    agreed = result.plan
    assert agreed is not None
    if result.needs_approval:
        status = ArrangementStatus.PENDING_APPROVAL
        needed = result.approval_record() + f"\nReason given: {reason}"
    else:
        status = ArrangementStatus.ACTIVE
        needed = None

    arrangement = Arrangement(
        customer_id=customer.id,
        agent_id=actor.agent_id,
        created_at=now,
        frequency=agreed.frequency.value,
        principal_cents=owed.principal,
        costs_cents=owed.costs,
        interest_cents=owed.interest,
        costs_waived=waive_costs and owed.costs > 0,
        interest_waived=waive_interest and owed.interest > 0,
        total_cents=agreed.total,
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
            for i in agreed.instalments
        ],
    )
    session.add(arrangement)
    session.flush()
    _book_agreement(session, actor, books, result.charges, arrangement.id, today, now, rates)
    first = min(agreed.instalments, key=lambda i: (i.due, i.number))
    set_next_step(
        session, actor, customer, reminder_step(first.number, first.due, policy, now), now
    )
    session.flush()
    detail = status.value
    if status is ArrangementStatus.PENDING_APPROVAL:
        detail = f"{status.value}: {reason}"[:MAX_REASON]
    if arrangement.costs_waived or arrangement.interest_waived:
        waived = [
            n
            for n, w in (
                ("costs", arrangement.costs_waived),
                ("interest", arrangement.interest_waived),
            )
            if w
        ]
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


def _refuse_other_figures(
    owed: Owed, principal: int | None, costs: int | None, interest: int | None
) -> None:
    """The client's figures must be the books': a client is never trusted with money."""
    sent = {"principal": principal, "costs": costs, "interest": interest}
    if all(cents is None or cents == getattr(owed, part) for part, cents in sent.items()):
        return
    raise ValidationError(
        "The amounts changed since you calculated: the books now say {principal} principal, "
        "{costs} costs and {interest} interest. Recalculate the plan.",
        "amount",
        principal=cents_to_str(owed.principal),
        costs=cents_to_str(owed.costs),
        interest=cents_to_str(owed.interest),
    )


def _english_values(message: Message) -> dict[str, object]:
    """A domain message's values as the CLI and the logs show them."""
    return {
        name: cents_to_str(int(value))
        if isinstance(value, Money)
        else value.isoformat()
        if isinstance(value, date)
        else value
        for name, value in message.values.items()
    }


def _book_agreement(
    session: Session,
    actor: Actor,
    books: ledger.CustomerBooks,
    charged: Charges,
    arrangement_id: int,
    today: date,
    now: datetime,
    rates: RateTable,
) -> None:
    """Interest up to today, and the waivers: afterwards the claims the arrangement covers
    owe exactly its total (and accrue nothing while it runs)."""
    ledger.book_interest(books, today, now, rates, arrangement_id=arrangement_id)
    covered = [c for c in books.ordered() if c.due_date <= today]
    waived = {Part.COSTS: 0, Part.INTEREST: 0}
    for part, wanted in (
        (Part.COSTS, charged.costs_waived),
        (Part.INTEREST, charged.interest_waived),
    ):
        for claim in covered:  # oldest first
            if wanted <= 0:
                break
            open_part = claim.costs if part is Part.COSTS else claim.interest
            amount = min(open_part, wanted)
            if amount <= 0:
                continue
            books.add(
                claim,
                EntryKind.WAIVER,
                part,
                -amount,
                today,
                now,
                arrangement_id=arrangement_id,
                agent_id=actor.agent_id,
                note="waived in arrangement",
            )
            wanted -= amount
            waived[part] += amount
    if (
        waived[Part.COSTS] != charged.costs_waived
        or waived[Part.INTEREST] != charged.interest_waived
    ):
        raise AssertionError("the books could not waive what the plan waives")  # a bug, not input
    owed_now = sum(c.outstanding for c in covered)
    if owed_now != charged.total:
        raise AssertionError(f"the books owe {owed_now} after agreeing, the plan {charged.total}")
    ledger.write(session, [books])
    ledger.sync_claim_caches(session, [books], today)


def reminder_step(
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
    session.flush()
    _unbook_agreement(session, actor, arrangement, now, "arrangement declined")
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


def _unbook_agreement(
    session: Session, actor: Actor, arrangement: Arrangement, now: datetime, why: str
) -> None:
    """An arrangement ended before it was kept (declined): what it waived is owed again
    (offsetting entries, never a deletion) and interest runs again from today."""
    books = ledger.load_customer_books(session, arrangement.customer_id)
    today = now.date()
    e = LedgerEntry
    waived = session.execute(
        select(e.claim_id, e.part, func.sum(e.amount_cents))
        .where(e.arrangement_id == arrangement.id, e.kind == EntryKind.WAIVER.value)
        .group_by(e.claim_id, e.part)
        .order_by(e.claim_id, e.part)
    ).all()
    for claim_id, part, total in waived:
        claim = books.claims.get(int(claim_id)) if claim_id is not None else None
        if claim is None or not total:
            continue
        books.add(
            claim,
            EntryKind.WAIVER,
            Part(part),
            -int(total),
            today,
            now,
            arrangement_id=arrangement.id,
            agent_id=actor.agent_id,
            note=f"waiver undone: {why}",
        )
    ledger.mark_accrual_restart(books, arrangement.created_at.date(), today, now, why)
    ledger.write(session, [books])
    ledger.sync_claim_caches(session, [books], today)


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
