"""The whole story of one customer, as plain data for the desk (and audited as a view)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain.queue import days_past_due
from agent_desk.domain.team_day import local_day
from agent_desk.errors import NotFoundError
from agent_desk.models import (
    Agent,
    Arrangement,
    AuditEvent,
    ContactAttempt,
    ContactPoint,
    Customer,
    LetterSent,
    NextStep,
    Note,
    PromiseToPay,
)
from agent_desk.services import ledger, team_rules
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.balance import figures


@dataclass(frozen=True)
class ClaimLine:
    """One claim as the books have it today (interest up to today included)."""

    reference: str
    description: str
    due_date: date
    principal_cents: int  # invoiced
    paid_cents: int
    costs_cents: int = 0  # owed since a 14-day letter's term ran out
    interest_cents: int = 0  # statutory interest, booked and accrued
    outstanding_cents: int = 0
    in_default: bool = False


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


def _credit_values(detail: str | None) -> dict[str, str]:
    """What a ``credit_used`` audit row says, as plain strings.

    Rows written since the books kept credit say it as JSON (amount in cents, the
    claims settled, the day); older rows said "8.52 credit settled INV-2 on 2026-11-20",
    which is read too, so no row shows as raw machine text.
    """
    text = (detail or "").strip()
    try:
        data = json.loads(text) if text.startswith("{") else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        claims = data.get("claims", [])
        return {
            "amount_cents": str(int(data.get("amount_cents", 0))),
            "claims": ", ".join(str(c) for c in claims) if isinstance(claims, list) else "",
            "on": str(data.get("on", "")),
        }
    old = re.match(r"^(\d+)\.(\d{2}) credit settled (.*) on (\d{4}-\d{2}-\d{2})$", text)
    if old:
        cents = int(old.group(1)) * 100 + int(old.group(2))
        return {"amount_cents": str(cents), "claims": old.group(3), "on": old.group(4)}
    return {}


def _promise_resolutions(session: Session, ids: list[int]) -> dict[int, datetime]:
    """When the books marked each promise kept or broken (the last time), by id."""
    if not ids:
        return {}
    rows = session.execute(
        select(AuditEvent.entity_id, AuditEvent.at)
        .where(
            AuditEvent.entity == "promise_to_pay",
            AuditEvent.entity_id.in_(ids),
            AuditEvent.action.in_(("kept", "broken")),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return {int(entity_id): moment for entity_id, moment in rows if entity_id is not None}


def _resolution_moment(promise: PromiseToPay, recorded: datetime | None) -> datetime:
    """On the day it was kept or broken: when that was recorded if it was that day, else
    the end of that day (a promise breaks when its last day ends; a payment recorded
    the next morning kept it on the day it was paid)."""
    assert promise.resolved_on is not None
    end = datetime.combine(promise.resolved_on, time.max).astimezone()
    moment = end if recorded is None else min(end, recorded)
    return max(moment, promise.created_at)


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
    owed_cents: int = 0  # everything open today, per the books
    credit_cents: int = 0  # a surplus kept for the customer
    credit_used_cents: int = 0  # credit that settled later claims
    #: For the identity check: the desk shows it masked, in full only to compare with.
    date_of_birth: date | None = None
    #: The customer said "no e-mail" / "no SMS" (issue 14).
    email_opt_out: bool = False
    sms_opt_out: bool = False


def customer_file(
    session: Session, actor: Actor, customer_id: int, now: datetime, *, audit_view: bool = True
) -> CustomerFile:
    customer = session.get(Customer, customer_id, populate_existing=True)
    if customer is None:
        raise NotFoundError("This customer no longer exists.")
    names = {a.id: a.display_name for a in session.scalars(select(Agent))}
    balance = figures(
        ledger.load_customer_books(session, customer_id),
        local_day(now),
        team_rules.rate_table(session),
    )
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
    promises = session.scalars(
        select(PromiseToPay).where(PromiseToPay.customer_id == customer_id)
    ).all()
    resolved_at = _promise_resolutions(session, [p.id for p in promises if p.resolved_on])
    for promise in promises:
        values = {
            "promise_id": str(promise.id),
            "amount_cents": str(promise.amount_cents),
            "due_date": promise.due_date.isoformat(),
        }
        # The promise as made, and (once the books resolved it) kept or broken on its day.
        timeline.append(
            TimelineItem(
                promise.created_at, "promise", "open", "", names.get(promise.agent_id or 0), values
            )
        )
        if promise.status != "open" and promise.resolved_on is not None:
            timeline.append(
                TimelineItem(
                    _resolution_moment(promise, resolved_at.get(promise.id)),
                    "promise",
                    promise.status,
                    "",
                    None,
                    values
                    | {
                        "resolved_on": promise.resolved_on.isoformat(),
                        "paid_cents": str(promise.paid_cents),
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
        # How it left (printed, emailed, saved): a saved PDF was not sent.
        timeline.append(
            TimelineItem(
                letter.at,
                "letter",
                letter.template,
                "",
                names.get(letter.agent_id or 0),
                {"delivery": letter.delivery or "printed"},
            )
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
    # Early signals: an objection (or its withdrawal) and each signal sent (issue 15).
    signal_events = select(AuditEvent).where(
        AuditEvent.customer_id == customer_id,
        AuditEvent.action.in_(("signal_objection", "signal_withdrawal", "signal_sent")),
    )
    for event in session.scalars(signal_events):
        try:
            detail = {k: str(v) for k, v in json.loads(event.detail or "{}").items()}
        except (ValueError, AttributeError):
            detail = {}
        timeline.append(
            TimelineItem(
                event.at, "signal", event.action, "", names.get(event.agent_id or 0), detail
            )
        )
    # Credit that settled a later claim (the books' "credit_used" entries, audited).
    for event in session.scalars(
        select(AuditEvent).where(
            AuditEvent.customer_id == customer_id, AuditEvent.action == "credit_used"
        )
    ):
        timeline.append(
            TimelineItem(event.at, "credit", "credit_used", "", None, _credit_values(event.detail))
        )
    timeline.extend(_message_items(session, customer_id))
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
        days_past_due=days_past_due(customer.oldest_due_date, local_day(now))
        if customer.oldest_due_date
        else 0,
        best_time=customer.best_time,
        preferred_channel=customer.preferred_channel,
        next_step_kind=step.kind if step else None,
        next_step_due_at=step.due_at if step else None,
        next_step_note=step.note if step else "",
        version=customer.version,
        claims=tuple(
            ClaimLine(
                c.reference,
                c.description,
                c.due_date,
                c.principal,
                c.paid,
                c.costs,
                c.interest,
                c.outstanding,
                c.in_default_since is not None,
            )
            for c in balance.claims
        ),
        owed_cents=balance.outstanding,
        credit_cents=balance.credit,
        credit_used_cents=balance.credit_used,
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
        email_opt_out=bool(customer.email_opt_out),
        sms_opt_out=bool(customer.sms_opt_out),
    )


def _message_items(session: Session, customer_id: int) -> list[TimelineItem]:
    """Every e-mail and SMS in the timeline with its status (issue 14)."""
    from agent_desk.services.messages import list_messages

    return [
        TimelineItem(
            row.sent_at or row.created_at,
            "message",
            row.kind,
            row.subject or row.body,
            row.agent,
            {
                "channel": row.channel,
                "to": row.to,
                "status": row.status,
                "held_reason": row.held_reason or "",
            },
        )
        for row in list_messages(session, customer_id)
    ]
