"""The whole story of one customer, as plain data for the desk (and audited as a view)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain.queue import days_past_due
from agent_desk.errors import NotFoundError
from agent_desk.models import (
    Agent,
    Arrangement,
    AuditEvent,
    Claim,
    ContactAttempt,
    ContactPoint,
    Customer,
    LetterSent,
    NextStep,
    Note,
    PromiseToPay,
)
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit


@dataclass(frozen=True)
class ClaimLine:
    reference: str
    description: str
    due_date: date
    principal_cents: int
    paid_cents: int

    @property
    def outstanding_cents(self) -> int:
        return self.principal_cents - self.paid_cents


@dataclass(frozen=True)
class ContactLine:
    id: int
    kind: str
    value: str
    preferred: bool
    verified_at: datetime | None
    verified_by: str | None
    invalid: bool
    invalid_reason: str | None
    consent_sms: bool
    consent_whatsapp: bool
    version: int


@dataclass(frozen=True)
class InstalmentLine:
    number: int
    due_date: date
    amount_cents: int
    paid_cents: int
    status: str


@dataclass(frozen=True)
class ArrangementLine:
    id: int
    status: str
    total_cents: int
    created_at: datetime
    instalments: tuple[InstalmentLine, ...]


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # contact | promise | arrangement | letter | note | pause | claim
    summary: str  # machine words (outcome code, template...), translated by the UI
    detail: str
    agent: str | None
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerFile:
    id: int
    customer_number: str
    name: str
    first_name: str
    last_name: str
    salutation: str | None
    language: str
    segment: str
    trigger: str | None
    status: str
    assigned_agent: str | None
    vulnerable: bool
    vulnerability_note: str | None
    debt_help_referred_at: datetime | None
    paused_until: date | None
    pause_reason: str | None
    first_time_arrears: bool
    broken_arrangement: bool
    missed_instalment: bool
    arrears_cents: int
    oldest_due_date: date | None
    days_past_due: int
    best_time: str | None
    preferred_channel: str | None
    next_step_kind: str | None
    next_step_due_at: datetime | None
    next_step_note: str
    version: int
    claims: tuple[ClaimLine, ...]
    contact_points: tuple[ContactLine, ...]
    arrangements: tuple[ArrangementLine, ...]
    timeline: tuple[TimelineItem, ...]
    #: For the identity check: the desk shows it masked, in full only to compare with.
    date_of_birth: date | None = None


def customer_file(
    session: Session, actor: Actor, customer_id: int, now: datetime, *, audit_view: bool = True
) -> CustomerFile:
    customer = session.get(Customer, customer_id, populate_existing=True)
    if customer is None:
        raise NotFoundError("This customer no longer exists.")
    names = {a.id: a.display_name for a in session.scalars(select(Agent))}
    claims = session.scalars(
        select(Claim).where(Claim.customer_id == customer_id).order_by(Claim.due_date)
    ).all()
    points = session.scalars(
        select(ContactPoint)
        .where(ContactPoint.customer_id == customer_id)
        .order_by(ContactPoint.id)
    ).all()
    arrangements = session.scalars(
        select(Arrangement)
        .where(Arrangement.customer_id == customer_id)
        .order_by(Arrangement.created_at.desc())
    ).all()
    step = session.scalars(
        select(NextStep)
        .where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
        .order_by(NextStep.due_at)
        .limit(1)
    ).first()
    timeline: list[TimelineItem] = []
    for attempt in session.scalars(
        select(ContactAttempt).where(ContactAttempt.customer_id == customer_id)
    ):
        timeline.append(
            TimelineItem(
                attempt.at,
                "contact",
                attempt.outcome,
                attempt.note,
                names.get(attempt.agent_id or 0),
                {"channel": attempt.channel, "direction": attempt.direction},
            )
        )
    for promise in session.scalars(
        select(PromiseToPay).where(PromiseToPay.customer_id == customer_id)
    ):
        timeline.append(
            TimelineItem(
                promise.created_at,
                "promise",
                promise.status,
                "",
                names.get(promise.agent_id or 0),
                {
                    "amount_cents": str(promise.amount_cents),
                    "due_date": promise.due_date.isoformat(),
                },
            )
        )
    for arrangement in arrangements:
        timeline.append(
            TimelineItem(
                arrangement.created_at,
                "arrangement",
                arrangement.status,
                "",
                names.get(arrangement.agent_id or 0),
                {
                    "total_cents": str(arrangement.total_cents),
                    "instalments": str(len(arrangement.instalments)),
                },
            )
        )
    for letter in session.scalars(select(LetterSent).where(LetterSent.customer_id == customer_id)):
        timeline.append(
            TimelineItem(letter.at, "letter", letter.template, "", names.get(letter.agent_id or 0))
        )
    for note in session.scalars(select(Note).where(Note.customer_id == customer_id)):
        timeline.append(
            TimelineItem(note.at, "note", "note", note.text, names.get(note.agent_id or 0))
        )
    pauses = select(AuditEvent).where(
        AuditEvent.customer_id == customer_id, AuditEvent.action == "pause"
    )
    for event in session.scalars(pauses):
        timeline.append(
            TimelineItem(event.at, "pause", event.detail, "", names.get(event.agent_id or 0))
        )
    timeline.sort(key=lambda item: item.at, reverse=True)
    if audit_view:
        audit(session, actor, "view", "customer", customer.id, customer_id=customer.id, at=now)
    return CustomerFile(
        id=customer.id,
        customer_number=customer.customer_number,
        name=customer.name,
        first_name=customer.first_name,
        last_name=customer.last_name,
        salutation=customer.salutation,
        language=customer.language,
        segment=customer.segment,
        trigger=customer.trigger,
        status=customer.status,
        assigned_agent=names.get(customer.assigned_agent_id or 0),
        vulnerable=customer.vulnerable,
        vulnerability_note=customer.vulnerability_note,
        debt_help_referred_at=customer.debt_help_referred_at,
        paused_until=customer.paused_until,
        pause_reason=customer.pause_reason,
        first_time_arrears=customer.first_time_arrears,
        broken_arrangement=customer.broken_arrangement,
        missed_instalment=customer.missed_instalment,
        arrears_cents=customer.arrears_cents,
        oldest_due_date=customer.oldest_due_date,
        days_past_due=days_past_due(customer.oldest_due_date, now.date())
        if customer.oldest_due_date
        else 0,
        best_time=customer.best_time,
        preferred_channel=customer.preferred_channel,
        next_step_kind=step.kind if step else None,
        next_step_due_at=step.due_at if step else None,
        next_step_note=step.note if step else "",
        version=customer.version,
        claims=tuple(
            ClaimLine(c.reference, c.description, c.due_date, c.principal_cents, c.paid_cents)
            for c in claims
        ),
        contact_points=tuple(
            ContactLine(
                p.id,
                p.kind,
                p.value,
                p.preferred,
                p.verified_at,
                names.get(p.verified_by_id or 0),
                p.invalid,
                p.invalid_reason,
                p.consent_sms,
                p.consent_whatsapp,
                p.version,
            )
            for p in points
        ),
        arrangements=tuple(
            ArrangementLine(
                a.id,
                a.status,
                a.total_cents,
                a.created_at,
                tuple(
                    InstalmentLine(i.number, i.due_date, i.amount_cents, i.paid_cents, i.status)
                    for i in a.instalments
                ),
            )
            for a in arrangements
        ),
        timeline=tuple(timeline),
        date_of_birth=customer.date_of_birth,
    )
