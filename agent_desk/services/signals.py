"""Early signals to the municipality: objections, and who is reportable since when.

The rule is ``agent_desk.domain.signals.reportability``; this module gathers its facts
from the books and the records, for many customers in a few queries:

* (a) personal contact tried: a phone call (any direction or outcome) or a conversation
  by another channel than a letter (SMS, WhatsApp, e-mail that reached the customer),
  since the arrears began;
* (b) pointed to debt help: the customer's debt-help referral (F2 outcome "referred to
  debt help"), or a debt-help letter sent;
* (c) a written reminder: a 14-day letter sent (its ``DemandNotice``);
* (d) the offer: a 14-day letter sent whose recorded text offered to pass the details
  on (``early_signal_offer`` in the letter's parameters; the letter prints it when the
  creditor's sector has the duty);
* the objection: the latest objection record of the customer is an objection (not a
  withdrawal);
* the thresholds (minimum arrears, waiting days) come from the creditor profile.

The export of the due signals is ``signal_export``'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from agent_desk.domain import signals as rules
from agent_desk.domain.codes import Channel, ContactKind, CustomerStatus, Outcome
from agent_desk.domain.money import cents_to_str
from agent_desk.domain.municipality import Municipality, municipality_for, same_municipality
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.models import (
    ContactAttempt,
    ContactPoint,
    Customer,
    DemandNotice,
    EarlySignal,
    LetterSent,
    SignalObjection,
)
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.changelog import log_changes
from agent_desk.services.creditor import Profile, current_profile

#: How an objection reached the creditor.
OBJECTION_CHANNELS = ("phone", "letter", "email", "in_person", "sms", "whatsapp", "web", "import")
#: What marks a 14-day letter that offered to pass the details on (its parameters JSON).
OFFER_MARK = '"early_signal_offer": true'
_SENT = ("printed", "emailed")
_REACHED = (
    Outcome.REACHED.value,
    Outcome.CALLBACK_REQUESTED.value,
    Outcome.PROMISE_MADE.value,
    Outcome.ARRANGEMENT_MADE.value,
    Outcome.REFERRED_DEBT_HELP.value,
    Outcome.PAUSE_REQUESTED.value,
    Outcome.DISPUTE.value,
    Outcome.REFUSED.value,
)


@dataclass(frozen=True)
class DueSignal:
    customer_id: int
    customer_number: str
    name: str
    municipality: str
    municipality_source: str
    arrears_cents: int
    arrears_since: date
    since: date
    why: str

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_number": self.customer_number,
            "why": self.why,
            "since": self.since.isoformat(),
            "municipality": self.municipality,
            "municipality_source": self.municipality_source,
            "arrears": cents_to_str(self.arrears_cents),
            "arrears_since": self.arrears_since.isoformat(),
        }


@dataclass(frozen=True)
class SignalStatus:
    """One customer's early-signal state, for the file and ``signals status``."""

    duty: bool
    reportability: rules.Reportability
    objection: tuple[str, date, str] | None  # kind, day, channel of the latest record
    sent: tuple[tuple[date, str], ...]  # (day, municipality) of each signal sent


# ----------------------------------------------------------------------- objections


def record_objection(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    on: date,
    channel: str,
    now: datetime,
    source: str = "desk",
    withdrawal: bool = False,
    note: str = "",
) -> int:
    """Record that the customer objects to an early signal (or withdraws the objection).

    The objection stops signals for this customer until a withdrawal is recorded.
    """
    channel = channel.strip().lower().replace("-", "_")
    if channel not in OBJECTION_CHANNELS:
        raise ValidationError(
            "The channel is one of {channels}, not '{channel}'.",
            "channel",
            channels=", ".join(OBJECTION_CHANNELS),
            channel=channel,
        )
    if on > now.date():
        raise ValidationError(
            "The date of the objection {date} is in the future; give the day it reached you.",
            "date",
            date=on.isoformat(),
        )
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError("This customer no longer exists.")
    if on < date(2021, 1, 1):
        raise ValidationError(
            "Early signals exist since 2021; an objection dated {date} is a typing error.",
            "date",
            date=on.isoformat(),
        )
    kind = "withdrawal" if withdrawal else "objection"
    # A Core insert: no ORM change-log row for this table (the change log knows the
    # customer's rows); the customer is logged as changed instead, so desks refresh.
    new_id = session.execute(
        insert(SignalObjection)
        .values(
            customer_id=customer.id,
            kind=kind,
            objected_on=on,
            channel=channel,
            source=source,
            recorded_by_id=actor.agent_id,
            recorded_at=now,
            note=note.strip(),
        )
        .returning(SignalObjection.id)
    ).scalar_one()
    audit(
        session,
        actor,
        "signal_" + kind,
        "signal_objection",
        int(new_id),
        customer_id=customer.id,
        detail=json.dumps({"on": on.isoformat(), "channel": channel, "source": source}),
        at=now,
    )
    log_changes(session, "customer", [customer.id], "update", [customer.id])
    return int(new_id)


# ----------------------------------------------------------------------- the facts


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _max_by_customer(session: Session, statement: Any) -> dict[int, date]:
    return {
        int(cid): day
        for cid, value in session.execute(statement)
        if (day := _date(value)) is not None
    }


def _chunks(ids: Sequence[int], size: int = 2000) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _facts(
    session: Session, customer_ids: Sequence[int], today: date, profile: Profile
) -> dict[int, rules.SignalFacts]:
    found: dict[int, rules.SignalFacts] = {}
    for ids in _chunks(list(customer_ids)):
        customers = session.execute(
            select(
                Customer.id,
                Customer.status,
                Customer.arrears_cents,
                Customer.oldest_due_date,
                Customer.debt_help_referred_at,
            ).where(Customer.id.in_(ids))
        ).all()
        contact = _max_by_customer(
            session,
            select(ContactAttempt.customer_id, func.max(ContactAttempt.at))
            .where(
                ContactAttempt.customer_id.in_(ids),
                or_(
                    ContactAttempt.channel == Channel.PHONE.value,
                    and_(
                        ContactAttempt.channel != Channel.LETTER.value,
                        ContactAttempt.outcome.in_(_REACHED),
                    ),
                ),
            )
            .group_by(ContactAttempt.customer_id),
        )
        referred = _max_by_customer(
            session,
            select(ContactAttempt.customer_id, func.max(ContactAttempt.at))
            .where(
                ContactAttempt.customer_id.in_(ids),
                ContactAttempt.outcome == Outcome.REFERRED_DEBT_HELP.value,
            )
            .group_by(ContactAttempt.customer_id),
        )
        help_letter = _max_by_customer(
            session,
            select(LetterSent.customer_id, func.max(LetterSent.at))
            .where(
                LetterSent.customer_id.in_(ids),
                LetterSent.template == "debt_help",
                LetterSent.delivery.in_(_SENT),
            )
            .group_by(LetterSent.customer_id),
        )
        reminder = _max_by_customer(
            session,
            select(DemandNotice.customer_id, func.max(DemandNotice.sent_on))
            .where(DemandNotice.customer_id.in_(ids))
            .group_by(DemandNotice.customer_id),
        )
        offer = _max_by_customer(
            session,
            select(DemandNotice.customer_id, func.max(DemandNotice.sent_on))
            .join(LetterSent, LetterSent.id == DemandNotice.letter_id)
            .where(
                DemandNotice.customer_id.in_(ids),
                LetterSent.parameters.contains(OFFER_MARK),
            )
            .group_by(DemandNotice.customer_id),
        )
        objections = _latest_objections(session, ids)
        sent = _max_by_customer(
            session,
            select(EarlySignal.customer_id, func.max(EarlySignal.sent_on))
            .where(EarlySignal.customer_id.in_(ids))
            .group_by(EarlySignal.customer_id),
        )
        for cid, status, arrears, oldest, referred_at in customers:
            helped = [d for d in (_date(referred_at), referred.get(cid), help_letter.get(cid)) if d]
            objection = objections.get(cid)
            found[cid] = rules.SignalFacts(
                today=today,
                duty=profile.early_signal_duty,
                open=status == CustomerStatus.OPEN.value,
                arrears_cents=int(arrears or 0),
                min_arrears_cents=profile.signal_min_arrears_cents,
                wait_days=profile.signal_wait_days,
                arrears_since=_date(oldest),
                contact_on=contact.get(cid),
                debt_help_on=max(helped) if helped else None,
                reminder_on=reminder.get(cid),
                offer_on=offer.get(cid),
                objected_on=objection[1] if objection and objection[0] == "objection" else None,
                signal_sent_on=sent.get(cid),
            )
    return found


def _latest_objections(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, date, str]]:
    latest: dict[int, tuple[str, date, str]] = {}
    rows = session.execute(
        select(
            SignalObjection.customer_id,
            SignalObjection.kind,
            SignalObjection.objected_on,
            SignalObjection.channel,
        )
        .where(SignalObjection.customer_id.in_(ids))
        .order_by(SignalObjection.customer_id, SignalObjection.objected_on, SignalObjection.id)
    )
    for cid, kind, on, channel in rows:
        latest[int(cid)] = (kind, on, channel)  # ordered: the last one wins
    return latest


def _candidates(session: Session, profile: Profile) -> list[int]:
    """Open customers with at least the minimum arrears and a reminder with the offer:
    the few the full rule must look at."""
    statement = (
        select(Customer.id)
        .where(
            Customer.status == CustomerStatus.OPEN.value,
            Customer.arrears_cents >= max(1, profile.signal_min_arrears_cents),
            Customer.id.in_(
                select(DemandNotice.customer_id)
                .join(LetterSent, LetterSent.id == DemandNotice.letter_id)
                .where(LetterSent.parameters.contains(OFFER_MARK))
            ),
        )
        .order_by(Customer.id)
    )
    return list(session.scalars(statement))


def addresses_of(session: Session, ids: Sequence[int]) -> dict[int, ContactPoint]:
    """The address the letters go to: preferred, then the most recently verified."""
    best: dict[int, ContactPoint] = {}
    for chunk in _chunks(list(ids)):
        points = session.scalars(
            select(ContactPoint).where(
                ContactPoint.customer_id.in_(chunk),
                ContactPoint.kind == ContactKind.ADDRESS.value,
                ContactPoint.invalid.is_(False),
            )
        )
        for point in points:
            current = best.get(point.customer_id)
            if current is None or _rank(point) > _rank(current):
                best[point.customer_id] = point
    return best


def _rank(point: ContactPoint) -> tuple[int, float, int]:
    verified = point.verified_at.timestamp() if point.verified_at else 0.0
    return (1 if point.preferred else 0, verified, point.id)


def municipality_of(point: ContactPoint | None) -> Municipality:
    if point is None:
        return Municipality("", "")
    return municipality_for(point.postcode, point.city)


# ----------------------------------------------------------------------- due and status


def due_signals(
    session: Session, today: date, *, municipality: str | None = None
) -> list[DueSignal]:
    """Every customer for whom a signal to the municipality is due, oldest first."""
    profile = current_profile(session)
    if not profile.early_signal_duty:
        return []
    ids = _candidates(session, profile)
    facts = _facts(session, ids, today, profile)
    due_ids = [cid for cid in ids if rules.reportability(facts[cid]).due]
    if not due_ids:
        return []
    addresses = addresses_of(session, due_ids)
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(due_ids)))}
    found: list[DueSignal] = []
    for cid in due_ids:
        result = rules.reportability(facts[cid])
        place = municipality_of(addresses.get(cid))
        if municipality is not None and not same_municipality(place.name, municipality):
            continue
        customer = customers[cid]
        arrears_since = facts[cid].arrears_since
        assert result.since is not None and arrears_since is not None
        found.append(
            DueSignal(
                customer_id=cid,
                customer_number=customer.customer_number,
                name=customer.name,
                municipality=place.name,
                municipality_source=place.source,
                arrears_cents=customer.arrears_cents,
                arrears_since=arrears_since,
                since=result.since,
                why=result.why(),
            )
        )
    found.sort(key=lambda d: (d.since, d.customer_number))
    return found


def due_among(session: Session, customer_ids: Sequence[int], today: date) -> set[int]:
    """Which of these customers (a page of the queue) have a signal due."""
    if not customer_ids:
        return set()
    profile = current_profile(session)
    if not profile.early_signal_duty:
        return set()
    offered: list[int] = []
    for chunk in _chunks(list(customer_ids)):
        offered += session.scalars(
            select(DemandNotice.customer_id)
            .join(LetterSent, LetterSent.id == DemandNotice.letter_id)
            .where(DemandNotice.customer_id.in_(chunk), LetterSent.parameters.contains(OFFER_MARK))
            .distinct()
        )
    facts = _facts(session, offered, today, profile)
    return {cid for cid, f in facts.items() if rules.reportability(f).due}


def signal_status(session: Session, customer_id: int, today: date) -> SignalStatus:
    profile = current_profile(session)
    facts = _facts(session, [customer_id], today, profile).get(customer_id)
    if facts is None:
        raise NotFoundError("This customer no longer exists.")
    sent = tuple(
        (row.sent_on, row.municipality)
        for row in session.scalars(
            select(EarlySignal)
            .where(EarlySignal.customer_id == customer_id)
            .order_by(EarlySignal.sent_on)
        )
    )
    return SignalStatus(
        duty=profile.early_signal_duty,
        reportability=rules.reportability(facts),
        objection=_latest_objections(session, [customer_id]).get(customer_id),
        sent=sent,
    )


# ----------------------------------------------------------------------- the export
