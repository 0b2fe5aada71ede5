"""What an agent does on a customer: log a contact, promise, pause, note, next step.

Each function runs inside the caller's transaction (``Database.transaction``), checks
the customer's version the desk last saw, writes an audit event and recomputes the
customer's queue state. A stale version raises ``ConflictError`` and writes nothing.

A contact logged after an arrangement, a promise or an agreed callback keeps that
upcoming next step (the instalment reminder, the promise check, the callback) unless
the agent sets another one: pass ``next_step=KEEP``, or no next step at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent_desk.domain.codes import (
    Channel,
    CustomerStatus,
    Direction,
    NextStepKind,
    Outcome,
    PromiseStatus,
)
from agent_desk.domain.limits import MAX_NEXT_STEP_DAYS, MAX_PAUSE_DAYS, MAX_PROMISE_DAYS
from agent_desk.domain.team_day import local_day
from agent_desk.errors import ConflictError, NotFoundError, ValidationError
from agent_desk.models import ContactAttempt, Customer, NextStep, Note, PromiseToPay
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.balance import customer_balance
from agent_desk.services.derived import refresh_customer

MAX_NOTE = 4000


@dataclass(frozen=True)
class NextStepInput:
    kind: NextStepKind
    due_at: datetime
    note: str = ""


#: "Keep the open next step": what the desk sends when the agent leaves the kept step.
KEEP: Final = "keep"
Keep = Literal["keep"]
#: Next steps a contact does not replace unless the agent chooses another: they carry
#: something agreed with the customer (an instalment, a promise, a callback).
KEPT_STEPS = frozenset(
    {NextStepKind.INSTALMENT_REMINDER, NextStepKind.PROMISE_CHECK, NextStepKind.CALLBACK}
)


def step_to_keep(session: Session, customer_id: int, now: datetime) -> NextStep | None:
    """The customer's open next step that a contact keeps, if there is one.

    Only one still ahead: a callback or reminder that is due now is what the agent is
    doing with this contact, so the contact completes it and needs a next step.
    """
    return session.scalars(
        select(NextStep)
        .where(
            NextStep.customer_id == customer_id,
            NextStep.done_at.is_(None),
            NextStep.kind.in_([kind.value for kind in KEPT_STEPS]),
            NextStep.due_at > now,
        )
        .order_by(NextStep.due_at)
        .limit(1)
    ).first()


def load_customer(session: Session, customer_id: int, expected_version: int | None) -> Customer:
    customer = session.get(Customer, customer_id, populate_existing=True)
    if customer is None:
        raise NotFoundError("This customer no longer exists.")
    if expected_version is not None and customer.version != expected_version:
        raise ConflictError(
            "A colleague changed this customer while you were working; nothing was "
            "overwritten. The latest data is shown; your text is kept."
        )
    return customer


def _check_next_step(step: NextStepInput | None, now: datetime) -> NextStepInput:
    if step is None:
        raise ValidationError(
            "Choose a next step before you move on: every open customer needs one.", "next_step"
        )
    if step.due_at.tzinfo is None:
        raise ValidationError("The next step needs a date and time with a time zone.", "next_step")
    if step.due_at < now.replace(second=0, microsecond=0) and step.kind is not NextStepKind.REVIEW:
        raise ValidationError("The next step cannot be in the past.", "next_step_due")
    if step.due_at > now + timedelta(days=MAX_NEXT_STEP_DAYS):
        raise ValidationError(
            "A next step can be at most {days} days ahead.",
            "next_step_due",
            days=MAX_NEXT_STEP_DAYS,
        )
    return step


def _check_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(
            "The note is too long ({length} characters; at most {most}).",
            "note",
            length=len(note),
            most=MAX_NOTE,
        )
    return note


# Pure checks, shared by the services and the offline outbox (which runs them before
# it says "saved", so an agent hears about a mistake while the form is still open).


def check_contact_attempt(
    note: str, next_step: NextStepInput | Keep | None, now: datetime
) -> tuple[str, NextStepInput | Keep]:
    """The note and the next step; ``KEEP`` passes (whether there is a step to keep
    needs the database: ``log_contact_attempt`` checks that)."""
    if next_step == KEEP:
        return _check_note(note), KEEP
    assert not isinstance(next_step, str)
    return _check_note(note), _check_next_step(next_step, now)


def check_next_step(step: NextStepInput | None, now: datetime) -> NextStepInput:
    return _check_next_step(step, now)


def check_promise(amount_cents: int, due_date: date, now: datetime) -> None:
    if amount_cents <= 0:
        raise ValidationError("The promised amount must be more than zero.", "amount")
    if due_date < local_day(now):
        raise ValidationError("The promise date cannot be in the past.", "due_date")
    if (due_date - local_day(now)).days > MAX_PROMISE_DAYS:
        raise ValidationError(
            "A promise more than three months ahead is an arrangement; use the arrangement "
            "calculator.",
            "due_date",
        )


def check_pause(
    until: date | None, reason: str, now: datetime, max_days: int = MAX_PAUSE_DAYS
) -> str:
    """The reason to store (stripped); ending a pause (``until=None``) needs none."""
    reason = reason.strip()
    if until is None:
        return reason
    if not reason:
        raise ValidationError("Say why collection is paused; colleagues need to know.", "reason")
    if until <= local_day(now):
        raise ValidationError("A pause must end after today.", "until")
    if (until - local_day(now)).days > max_days:
        raise ValidationError(
            "A pause can last at most {max_days} days; set a review date and extend it then.",
            "until",
            max_days=max_days,
        )
    return reason


def check_note_text(text: str) -> str:
    text = _check_note(text)
    if not text:
        raise ValidationError("The note is empty.", "note")
    return text


def set_next_step(
    session: Session, actor: Actor, customer: Customer, step: NextStepInput, now: datetime
) -> NextStep:
    """Replace the customer's open next steps with this one."""
    session.execute(
        update(NextStep)
        .where(NextStep.customer_id == customer.id, NextStep.done_at.is_(None))
        .values(done_at=now, version=NextStep.version + 1)
        .execution_options(synchronize_session=False)
    )
    new = NextStep(
        customer_id=customer.id,
        kind=step.kind.value,
        due_at=step.due_at,
        assigned_agent_id=customer.assigned_agent_id,
        note=step.note,
        created_by_id=actor.agent_id,
        created_at=now,
    )
    session.add(new)
    return new


def plan_next_step(
    session: Session,
    actor: Actor,
    customer_id: int,
    step: NextStepInput | None,
    now: datetime,
    expected_version: int | None = None,
) -> int:
    """Set the customer's next step on its own (no contact made); returns its id."""
    step = _check_next_step(step, now)
    customer = load_customer(session, customer_id, expected_version)
    new = set_next_step(session, actor, customer, step, now)
    session.flush()
    audit(session, actor, "create", "next_step", new.id, customer_id=customer.id, at=now)
    refresh_customer(session, customer)
    return new.id


def log_contact_attempt(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    channel: Channel,
    direction: Direction,
    outcome: Outcome,
    note: str,
    next_step: NextStepInput | Keep | None,
    now: datetime,
    expected_version: int | None = None,
    operation_id: str | None = None,
) -> int:
    """Record a call/message and the next step in one go; returns the attempt id.

    ``next_step``: the new next step (it replaces the open ones), or ``KEEP`` / ``None``
    to keep an upcoming instalment reminder, promise check or callback (one due later
    than ``now``). ``KEEP`` with none is refused (the agent meant to keep something that
    is gone or due); ``None`` with none asks for a next step, as every open customer
    needs one.

    With an ``operation_id`` a replay of the same operation (offline outbox) does nothing
    and returns the id of the attempt written the first time.
    """
    if operation_id:
        existing = session.scalar(
            select(ContactAttempt.id).where(ContactAttempt.operation_id == operation_id)
        )
        if existing is not None:
            return int(existing)
    kept = None if isinstance(next_step, NextStepInput) else step_to_keep(session, customer_id, now)
    if next_step is None and kept is not None:
        next_step = KEEP
    note, step = check_contact_attempt(note, next_step, now)
    if step == KEEP and kept is None:
        raise ValidationError(
            "There is no upcoming instalment reminder, promise check or callback to keep; "
            "choose a next step.",
            "next_step",
        )
    customer = load_customer(session, customer_id, expected_version)
    attempt = ContactAttempt(
        customer_id=customer.id,
        agent_id=actor.agent_id,
        at=now,
        channel=channel.value,
        direction=direction.value,
        outcome=outcome.value,
        note=note,
        operation_id=operation_id,
    )
    session.add(attempt)
    if direction is Direction.INBOUND and outcome is Outcome.CALLBACK_REQUESTED:
        customer.called_in_at = now
    elif not outcome.is_failed_attempt and customer.called_in_at is not None:
        customer.called_in_at = None
    if outcome is Outcome.REFERRED_DEBT_HELP and customer.debt_help_referred_at is None:
        customer.debt_help_referred_at = now
    if isinstance(step, NextStepInput):
        set_next_step(session, actor, customer, step, now)
    session.flush()
    audit(
        session,
        actor,
        "create",
        "contact_attempt",
        attempt.id,
        customer_id=customer.id,
        detail=outcome.value,
        at=now,
    )
    refresh_customer(session, customer)
    return attempt.id


def record_promise(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    amount_cents: int,
    due_date: date,
    now: datetime,
    expected_version: int | None = None,
    operation_id: str | None = None,
) -> int:
    """A promise to pay; the next step becomes checking it the day after it is due."""
    if operation_id:
        existing = session.scalar(
            select(PromiseToPay.id).where(PromiseToPay.operation_id == operation_id)
        )
        if existing is not None:
            return int(existing)
    check_promise(amount_cents, due_date, now)
    customer = load_customer(session, customer_id, expected_version)
    if customer.status == CustomerStatus.CLOSED:
        raise ValidationError(
            "This customer owes nothing any more (closed); there is nothing to promise.",
            "amount",
        )
    # What is owed today, interest up to today included, as the file shows it.
    owed = customer_balance(session, customer.id, local_day(now)).outstanding
    if amount_cents > owed:
        raise ValidationError("The promised amount is more than the customer owes.", "amount")
    promise = PromiseToPay(
        customer_id=customer.id,
        agent_id=actor.agent_id,
        created_at=now,
        amount_cents=amount_cents,
        due_date=due_date,
        status=PromiseStatus.OPEN.value,
        operation_id=operation_id,
    )
    session.add(promise)
    check_at = datetime.combine(date.fromordinal(due_date.toordinal() + 1), now.timetz())
    set_next_step(
        session, actor, customer, NextStepInput(NextStepKind.PROMISE_CHECK, check_at), now
    )
    session.flush()
    audit(session, actor, "create", "promise_to_pay", promise.id, customer_id=customer.id, at=now)
    refresh_customer(session, customer)
    return promise.id


def set_pause(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    until: date | None,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
    max_days: int = MAX_PAUSE_DAYS,
) -> None:
    """Pause automatic collection (dunning, termination) until a date, with a reason.

    ``until=None`` ends a pause. The queue leaves the customer out while paused.
    """
    reason = check_pause(until, reason, now, max_days)
    customer = load_customer(session, customer_id, expected_version)
    if until is None:
        customer.paused_until = None
        customer.pause_reason = None
        detail = "ended"
    else:
        customer.paused_until = until
        customer.pause_reason = reason
        review = datetime.combine(until, now.timetz())
        set_next_step(
            session, actor, customer, NextStepInput(NextStepKind.REVIEW, review, reason), now
        )
        detail = f"until {until.isoformat()}"
    session.flush()
    audit(
        session,
        actor,
        "pause",
        "customer",
        customer.id,
        customer_id=customer.id,
        detail=detail,
        at=now,
    )
    refresh_customer(session, customer)


def add_note(
    session: Session,
    actor: Actor,
    customer_id: int,
    text: str,
    now: datetime,
    operation_id: str | None = None,
) -> int:
    if operation_id:
        existing = session.scalar(select(Note.id).where(Note.operation_id == operation_id))
        if existing is not None:
            return int(existing)
    text = check_note_text(text)
    customer = load_customer(session, customer_id, None)
    note = Note(
        customer_id=customer.id,
        agent_id=actor.agent_id,
        at=now,
        text=text,
        operation_id=operation_id,
    )
    session.add(note)
    session.flush()
    audit(session, actor, "create", "note", note.id, customer_id=customer.id, at=now)
    return note.id
