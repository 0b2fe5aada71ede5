"""Contact verification on the database: load the points, apply a finished check.

:func:`load_verification` turns the stored contact points into the domain's
:class:`~agent_desk.domain.verification.ContactPoint` values (plus the versions the
desk saw); :func:`apply_verification` writes a
:class:`~agent_desk.domain.verification.VerificationResult` in the caller's single
transaction: confirmed, corrected and added points get ``verified_at/by/source``,
points marked invalid keep their value with the reason, and a refusal is recorded as
a refusal (an audit event and a note), never as a verification. Preferences go on the
customer (preferred channel, best time) and on the phone numbers (SMS/WhatsApp
consent). The date of birth the customer stated goes on the customer, checked again
with the domain's rule; the note and the audit trail say *that* it was confirmed,
corrected or added, never the date itself. Any stale version raises
``ConflictError`` and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain.contact_validation import (
    PostalAddress,
    normalise_email,
    normalise_mobile,
    normalise_phone,
    validate_address,
)
from agent_desk.domain.date_of_birth import check_date_of_birth
from agent_desk.domain.verification import (
    Channel,
    ContactChange,
    ContactKind,
    ContactPoint,
    ContactPreferences,
    DateOfBirthChange,
    Decision,
    TimeOfDay,
    VerificationPolicy,
    VerificationResult,
    needs_verification,
)
from agent_desk.errors import ConflictError, NotFoundError, ValidationError
from agent_desk.models import ContactPoint as ContactPointRow
from agent_desk.models import Customer, Note
from agent_desk.services.activity import load_customer
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.customer_file import CustomerFile

_KINDS = {kind.value: kind for kind in ContactKind}
_TIME_ORDER = (TimeOfDay.MORNING, TimeOfDay.AFTERNOON, TimeOfDay.EVENING)
_PHONE_KINDS = (ContactKind.PHONE.value, ContactKind.MOBILE.value)
#: Which stored kinds can carry each channel, best first.
_CHANNEL_KINDS: Mapping[Channel, tuple[str, ...]] = {
    Channel.PHONE: (ContactKind.MOBILE.value, ContactKind.PHONE.value),
    Channel.SMS: (ContactKind.MOBILE.value, ContactKind.PHONE.value),
    Channel.WHATSAPP: (ContactKind.MOBILE.value, ContactKind.PHONE.value),
    Channel.EMAIL: (ContactKind.EMAIL.value,),
    Channel.LETTER: (ContactKind.ADDRESS.value,),
}

CONFLICT = (
    "A colleague changed this customer's contact details while you were working; nothing "
    "was saved. The latest data is shown; check it and save again."
)

#: The note written in the customer's timeline, in the desk's language.
_NOTE_TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Contact details checked with the customer",
        "date_of_birth": "date of birth",
        "confirmed": "confirmed",
        "corrected": "corrected",
        "added": "added",
        "marked_invalid": "no longer right",
        "refused": "the customer would not say whether this is right",
        "channel": "preferred channel",
        "times": "best time to call",
        "consent_sms": "consent for SMS",
        "consent_whatsapp": "consent for WhatsApp",
        "yes": "yes",
        "no": "no",
        "phone": "phone",
        "sms": "text message",
        "whatsapp": "WhatsApp",
        "email": "e-mail",
        "letter": "letter",
        "morning": "mornings",
        "afternoon": "afternoons",
        "evening": "evenings",
    },
    "nl": {
        "title": "Contactgegevens gecontroleerd met de klant",
        "date_of_birth": "geboortedatum",
        "confirmed": "bevestigd",
        "corrected": "verbeterd",
        "added": "toegevoegd",
        "marked_invalid": "klopt niet meer",
        "refused": "de klant wilde niet zeggen of dit klopt",
        "channel": "voorkeurskanaal",
        "times": "beste tijd om te bellen",
        "consent_sms": "toestemming voor sms",
        "consent_whatsapp": "toestemming voor WhatsApp",
        "yes": "ja",
        "no": "nee",
        "phone": "telefoon",
        "sms": "sms",
        "whatsapp": "WhatsApp",
        "email": "e-mail",
        "letter": "brief",
        "morning": "ochtend",
        "afternoon": "middag",
        "evening": "avond",
    },
}


@dataclass(frozen=True)
class VerificationData:
    """What the verification dialog starts from, with the versions it was read at."""

    customer_id: int
    customer_version: int
    points: tuple[ContactPoint, ...]
    point_versions: Mapping[int, int]
    preferences: ContactPreferences
    date_of_birth: date | None = None


@dataclass(frozen=True)
class VerificationSaved:
    verified: int
    marked_invalid: int
    refused: int
    added: int
    note_id: int | None
    point_ids: tuple[int, ...] = field(default=())
    #: What happened to the date of birth: confirmed, corrected, added (None: not asked).
    date_of_birth: str | None = None


# --------------------------------------------------------------------------- reading


def _address_of(row: ContactPointRow) -> PostalAddress | None:
    if row.kind != ContactKind.ADDRESS.value or not row.street:
        return None
    return PostalAddress(row.street, row.house_number or "", row.postcode or "", row.city or "")


def _point(row: ContactPointRow) -> ContactPoint | None:
    kind = _KINDS.get(row.kind)
    if kind is None:
        return None
    return ContactPoint(
        id=row.id,
        kind=kind,
        value=row.value,
        verified_at=row.verified_at,
        invalid=row.invalid,
        address=_address_of(row),
    )


def load_verification(session: Session, actor: Actor, customer_id: int) -> VerificationData:
    customer = session.get(Customer, customer_id, populate_existing=True)
    if customer is None:
        raise NotFoundError("This customer no longer exists.")
    rows = session.scalars(
        select(ContactPointRow)
        .where(ContactPointRow.customer_id == customer_id)
        .order_by(ContactPointRow.id)
    ).all()
    points = [p for p in (_point(row) for row in rows) if p is not None]
    usable_phones = [r for r in rows if r.kind in _PHONE_KINDS and not r.invalid]
    channel = customer.preferred_channel
    best = customer.best_time
    preferred = Channel(channel) if channel and channel in Channel.__members__.values() else None
    times = (
        frozenset({TimeOfDay(best)})
        if best and best in TimeOfDay.__members__.values()
        else frozenset()
    )
    preferences = ContactPreferences(
        preferred_channel=preferred,
        best_times=times,
        consent_sms=True if any(r.consent_sms for r in usable_phones) else None,
        consent_whatsapp=True if any(r.consent_whatsapp for r in usable_phones) else None,
    )
    return VerificationData(
        customer_id=customer.id,
        customer_version=customer.version,
        points=tuple(points),
        point_versions={row.id: row.version for row in rows},
        preferences=preferences,
        date_of_birth=customer.date_of_birth,
    )


def points_from_file(file: CustomerFile) -> list[ContactPoint]:
    """The file's contact points as domain values (enough to judge freshness)."""
    found = []
    for line in file.contact_points:
        kind = _KINDS.get(line.kind)
        if kind is not None:
            found.append(
                ContactPoint(line.id, kind, line.value, line.verified_at, line.invalid, None)
            )
    return found


def file_needs_verification(
    file: CustomerFile, now: datetime, policy: VerificationPolicy | None = None
) -> bool:
    """Whether the desk should prompt for a check (policy: 90 days by default)."""
    return needs_verification(points_from_file(file), now, policy)


# --------------------------------------------------------------------------- writing


def apply_verification(
    session: Session,
    actor: Actor,
    customer_id: int,
    result: VerificationResult,
    *,
    now: datetime,
    expected_version: int | None = None,
    point_versions: Mapping[int, int] | None = None,
    language: str = "en",
) -> VerificationSaved:
    """Write every decision of ``result`` in the caller's transaction, or nothing."""
    customer = load_customer(session, customer_id, expected_version)
    rows = {
        row.id: row
        for row in session.scalars(
            select(ContactPointRow)
            .where(ContactPointRow.customer_id == customer_id)
            .execution_options(populate_existing=True)
        )
    }
    versions = dict(point_versions or {})
    for change in result.changes:
        if change.point_id is None:
            continue
        row = rows.get(change.point_id)
        if row is None:
            raise ConflictError(CONFLICT)
        seen = versions.get(change.point_id)
        if seen is not None and seen != row.version:
            raise ConflictError(CONFLICT)

    counts = {"verified": 0, "marked_invalid": 0, "refused": 0, "added": 0}
    lines: list[str] = []
    words = _NOTE_TEXT.get(language, _NOTE_TEXT["en"])
    touched: list[ContactPointRow] = []
    for change in result.changes:
        row = _apply_change(session, actor, customer, rows, change)
        if row is not None:
            touched.append(row)
            rows[row.id] = row
        if change.decision is Decision.REFUSED:
            counts["refused"] += 1
        elif change.decision is Decision.MARKED_INVALID:
            counts["marked_invalid"] += 1
        else:
            counts["verified"] += 1
            if change.decision is Decision.ADDED:
                counts["added"] += 1
        line = f"{change.value}: {words[change.decision.value]}"
        if change.decision is Decision.CORRECTED and change.previous_value:
            line = f"{change.previous_value} → {line}"
        if change.reason:
            line += f" ({change.reason})"
        lines.append(line)

    lines.extend(_apply_preferences(customer, list(rows.values()), result, words))
    birth = result.date_of_birth
    if birth is not None:
        lines.append(_apply_date_of_birth(session, actor, customer, birth, words))
    session.flush()
    note_id = None
    if lines:
        text = words["title"] + ":\n" + "\n".join(f"- {line}" for line in lines)
        note = Note(customer_id=customer.id, agent_id=actor.agent_id, at=now, text=text)
        session.add(note)
        session.flush()
        note_id = note.id
        audit(session, actor, "create", "note", note.id, customer_id=customer.id, at=now)
    audit(
        session,
        actor,
        "verify",
        "customer",
        customer.id,
        customer_id=customer.id,
        detail=", ".join(f"{k}={v}" for k, v in counts.items()),
        at=now,
    )
    return VerificationSaved(
        verified=counts["verified"],
        marked_invalid=counts["marked_invalid"],
        refused=counts["refused"],
        added=counts["added"],
        note_id=note_id,
        point_ids=tuple(row.id for row in touched),
        date_of_birth=birth.decision.value if birth is not None else None,
    )


def _apply_date_of_birth(
    session: Session,
    actor: Actor,
    customer: Customer,
    change: DateOfBirthChange,
    words: Mapping[str, str],
) -> str:
    """Store the stated date of birth; returns the note line (which holds no date)."""
    value = check_date_of_birth(change.value, change.recorded_at.date())
    # Judged again on the row as it is now: the flow compared with what it loaded.
    if customer.date_of_birth == value:
        decision = Decision.CONFIRMED
    elif change.decision is Decision.CONFIRMED:
        raise ConflictError(CONFLICT)  # "the same as on file", but the file changed
    else:
        decision = Decision.ADDED if customer.date_of_birth is None else Decision.CORRECTED
        customer.date_of_birth = value
    audit(
        session,
        actor,
        "verify",
        "customer",
        customer.id,
        customer_id=customer.id,
        detail=f"date of birth {decision.value}",
        at=change.recorded_at,
    )
    return f"{words['date_of_birth']}: {words[decision.value]}"


def _normalised(
    kind: ContactKind, value: str, address: PostalAddress | None
) -> tuple[str, PostalAddress | None]:
    """Check again what the flow checked: the service is the last line of defence."""
    if kind is ContactKind.ADDRESS:
        if address is None:
            raise ValidationError("Enter the address in its parts.", "street")
        checked = validate_address(address)
        return checked.one_line(), checked
    if kind is ContactKind.EMAIL:
        return normalise_email(value), None
    if kind is ContactKind.MOBILE:
        return normalise_mobile(value), None
    return normalise_phone(value), None


def _verified(row: ContactPointRow, actor: Actor, change: ContactChange) -> None:
    row.verified_at = change.verified_at
    row.verified_by_id = actor.agent_id
    row.verification_source = change.source[:64]
    if row.invalid:
        row.invalid = False
        row.invalid_reason = None


def _apply_change(
    session: Session,
    actor: Actor,
    customer: Customer,
    rows: Mapping[int, ContactPointRow],
    change: ContactChange,
) -> ContactPointRow | None:
    at = change.recorded_at
    if change.decision is Decision.ADDED:
        value, address = _normalised(change.kind, change.value, change.address)
        row = ContactPointRow(
            customer_id=customer.id,
            kind=change.kind.value,
            value=value,
            street=address.street if address else None,
            house_number=address.house_number if address else None,
            postcode=address.postcode if address else None,
            city=address.city if address else None,
            preferred=False,
            consent_sms=False,
            consent_whatsapp=False,
        )
        _verified(row, actor, change)
        session.add(row)
        session.flush()
        audit(session, actor, "create", "contact_point", row.id, customer_id=customer.id, at=at)
        return row
    assert change.point_id is not None
    row = rows[change.point_id]
    if change.decision is Decision.CONFIRMED:
        _verified(row, actor, change)
        detail = "confirmed"
    elif change.decision is Decision.CORRECTED:
        value, address = _normalised(change.kind, change.value, change.address)
        row.value = value
        if address is not None:
            row.street, row.house_number = address.street, address.house_number
            row.postcode, row.city = address.postcode, address.city
        _verified(row, actor, change)
        detail = "corrected"
    elif change.decision is Decision.MARKED_INVALID:
        row.invalid = True
        row.invalid_reason = change.reason or ""
        row.preferred = False
        detail = "marked invalid"
    else:  # refused: recorded as a refusal, the point stays as it was (not verified)
        audit(
            session,
            actor,
            "verification_refused",
            "contact_point",
            row.id,
            customer_id=customer.id,
            detail="customer would not confirm",
            at=at,
        )
        return None
    audit(
        session,
        actor,
        "verify",
        "contact_point",
        row.id,
        customer_id=customer.id,
        detail=detail,
        at=at,
    )
    return row


def _apply_preferences(
    customer: Customer,
    rows: list[ContactPointRow],
    result: VerificationResult,
    words: Mapping[str, str],
) -> list[str]:
    prefs = result.preferences.preferences
    lines: list[str] = []
    usable = [row for row in rows if not row.invalid]
    phones = [row for row in usable if row.kind in _PHONE_KINDS]
    if prefs.consent_sms is not None:
        for row in phones:
            if row.consent_sms != prefs.consent_sms:
                row.consent_sms = prefs.consent_sms
        lines.append(f"{words['consent_sms']}: {words['yes' if prefs.consent_sms else 'no']}")
    if prefs.consent_whatsapp is not None:
        for row in phones:
            if row.consent_whatsapp != prefs.consent_whatsapp:
                row.consent_whatsapp = prefs.consent_whatsapp
        lines.append(
            f"{words['consent_whatsapp']}: {words['yes' if prefs.consent_whatsapp else 'no']}"
        )
    channel = prefs.preferred_channel
    if channel is not None:
        if customer.preferred_channel != channel.value:
            customer.preferred_channel = channel.value
        kinds = _CHANNEL_KINDS[channel]
        candidates = sorted(
            (row for row in usable if row.kind in kinds),
            key=lambda row: (kinds.index(row.kind), row.verified_at is None, row.id or 0),
        )
        chosen = candidates[0] if candidates else None
        for row in rows:
            wanted = row is chosen
            if row.preferred != wanted:
                row.preferred = wanted
        lines.append(f"{words['channel']}: {words[channel.value]}")
    if prefs.best_times:
        first = next(t for t in _TIME_ORDER if t in prefs.best_times)
        if customer.best_time != first.value:
            customer.best_time = first.value
        times = ", ".join(words[t.value] for t in _TIME_ORDER if t in prefs.best_times)
        lines.append(f"{words['times']}: {times}")
    return lines
