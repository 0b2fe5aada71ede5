"""Messages to a customer: compose from the templates, queue in the outbox, list, and
take delivery reports back into the timeline.

Queueing is idempotent: each message has a key (``instalment-reminder:<id>`` for the
nightly run, ``desk:<uuid>`` for the desk, ``campaign:<name>:<customer>``); queueing
a key twice is one row. Nothing here talks to a mail server or an SMS provider: the
sender (``services.sending``) does, under the rules of the sending policy.

Over the ~600 lines a module should hold, for a reason: this is the one face of a
message as data (``msgs.*`` to the desk's send dialog, the CLI, campaigns, the nightly
run and the sender), in three parts that read one another's rows: the team's message
settings and the customer's channels (who may be written to, and how), composing
(texts, subjects, the payment link), and the journal (queue, list, delivery reports,
bounces). If it grows, composing is the seam to take out first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain.messaging import (
    FREE_TEXT_MAX,
    SMS_FORBIDDEN_WORDS,
    MessageChannel,
    MessageKind,
    MessageStatus,
    TemplateSet,
    fill,
    load_templates,
    sms_length,
)
from agent_desk.domain.money import cents_to_str
from agent_desk.domain.payment import lock_screen_link, payment_link
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.letters.data import Creditor
from agent_desk.models import (
    Agent,
    Arrangement,
    AuditEvent,
    ContactPoint,
    Customer,
    Instalment,
    Message,
    PromiseToPay,
    Setting,
)
from agent_desk.services.actor import Actor

# The contact point kind each channel goes to.
CHANNEL_KIND = {MessageChannel.EMAIL: "email", MessageChannel.SMS: "mobile"}
SETTING_KEYS = (
    "messages.smtp_url",
    "messages.mail_from",
    "messages.sms_url",
    "messages.sms_key_name",
    "messages.sms_originator",
    "messages.sms_report_url",
    "messages.bounce_maildir",
)


def creditor(session: Session) -> Creditor:
    """The sender of the messages: the team's creditor profile, as on the letters."""
    from agent_desk.services.letter_data import team_creditor

    return team_creditor(session)


def team_settings(session: Session) -> dict[str, str]:
    """The ``messages.*`` team settings (JSON strings), as plain text."""
    import json

    out: dict[str, str] = {}
    for setting in session.scalars(select(Setting).where(Setting.key.in_(SETTING_KEYS))):
        try:
            value = json.loads(setting.value)
        except ValueError:
            value = setting.value
        out[setting.key] = str(value)
    return out


def set_team_setting(session: Session, actor: Actor, key: str, value: str, now: datetime) -> None:
    """A supervisor sets a ``messages.*`` setting (never a password: that is the keyring's)."""
    import json

    actor.require_supervisor("change how messages are sent")
    if key not in SETTING_KEYS:
        raise ValidationError("'{key}' is not a message setting.", "key", key=key)
    if key == "messages.smtp_url" and value:
        from agent_desk.services.mail import parse_smtp_url

        parse_smtp_url(value, "check@example.org")
    setting = session.get(Setting, key)
    if setting is None:
        session.add(Setting(key=key, value=json.dumps(value), updated_by_id=actor.agent_id))
    else:
        setting.value = json.dumps(value)
        setting.updated_by_id = actor.agent_id
        setting.updated_at = now
    session.flush()


# ----------------------------------------------------------------------- contact points


def usable(point: ContactPoint) -> bool:
    """Not marked invalid, and not bounced since it was last verified."""
    if point.invalid:
        return False
    if point.bounced_at is None:
        return True
    return point.verified_at is not None and point.verified_at > point.bounced_at


def recipients(session: Session, customer_id: int, channel: MessageChannel) -> list[ContactPoint]:
    """The customer's addresses (or mobiles) for ``channel``, best first: verified,
    preferred, newest."""
    points = session.scalars(
        select(ContactPoint).where(
            ContactPoint.customer_id == customer_id,
            ContactPoint.kind == CHANNEL_KIND[channel],
        )
    ).all()

    def rank(p: ContactPoint) -> tuple[bool, bool, bool, float]:
        verified = p.verified_at.timestamp() if p.verified_at else 0.0
        return (not usable(p), p.verified_at is None, not p.preferred, -verified)

    return sorted(points, key=rank)


def opted_out(customer: Customer, channel: MessageChannel) -> bool:
    return customer.email_opt_out if channel is MessageChannel.EMAIL else customer.sms_opt_out


def choose_channel(
    session: Session, customer: Customer, allowed: Iterable[MessageChannel]
) -> MessageChannel | None:
    """The customer's preferred channel when it can carry the message, else the other."""
    allowed = list(allowed)
    preferred = customer.preferred_channel
    order = sorted(allowed, key=lambda c: (c.value != preferred, c is not MessageChannel.EMAIL))
    for channel in order:
        if opted_out(customer, channel):
            continue
        if any(usable(p) for p in recipients(session, customer.id, channel)):
            return channel
    return order[0] if order else None


def set_opt_outs(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    email_opt_out: bool,
    sms_opt_out: bool,
    now: datetime,
) -> bool:
    """The customer's "no e-mail" / "no SMS", as they said it; audited. True if changed."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError("This customer no longer exists.")
    if (customer.email_opt_out, customer.sms_opt_out) == (email_opt_out, sms_opt_out):
        return False
    customer.email_opt_out = email_opt_out
    customer.sms_opt_out = sms_opt_out
    session.add(
        AuditEvent(
            at=now,
            agent_id=actor.agent_id,
            action="opt_out",
            entity="customer",
            entity_id=customer_id,
            customer_id=customer_id,
            detail=f"email_opt_out={email_opt_out} sms_opt_out={sms_opt_out}",
        )
    )
    session.flush()
    return True


def set_preferences(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    email_opt_out: bool,
    sms_opt_out: bool,
    preferred_channel: str | None,
    now: datetime,
) -> None:
    """The customer's channel choices, as they said them; recorded in the audit trail."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError("This customer no longer exists.")
    allowed = {None, "phone", "sms", "whatsapp", "email", "letter"}
    if preferred_channel not in allowed:
        raise ValidationError(
            "'{channel}' is not a channel.", "preferred_channel", channel=preferred_channel
        )
    customer.email_opt_out = email_opt_out
    customer.sms_opt_out = sms_opt_out
    customer.preferred_channel = preferred_channel
    session.add(
        AuditEvent(
            at=now,
            agent_id=actor.agent_id,
            action="channel_preferences",
            entity="customer",
            entity_id=customer_id,
            customer_id=customer_id,
            detail=f"email_opt_out={email_opt_out} sms_opt_out={sms_opt_out} "
            f"preferred={preferred_channel or '-'}",
        )
    )
    session.flush()


# ----------------------------------------------------------------------------- compose


@dataclass(frozen=True)
class Draft:
    """A message as it would go out: for a preview, and for the outbox."""

    customer_id: int
    kind: MessageKind
    channel: MessageChannel
    language: str
    to_address: str
    contact_point_id: int | None
    subject: str
    body: str
    template_version: str
    expires_at: datetime | None = None
    letter_id: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def sms(self) -> dict[str, Any] | None:
        if self.channel is not MessageChannel.SMS:
            return None
        length = sms_length(self.body)
        return {
            "encoding": length.encoding,
            "characters": length.characters,
            "segments": length.segments,
            "remaining": length.remaining,
        }


@dataclass(frozen=True)
class Subject:
    """What a message is about: its amount, date and payment reference."""

    reference: str
    amount_cents: int
    due_date: date | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None


def _money(cents: int, language: str) -> str:
    text = cents_to_str(cents)  # "1234.56"
    whole, _, frac = text.partition(".")
    groups = f"{int(whole):,}".replace(",", "." if language == "nl" else ",")
    return f"€ {groups},{frac}" if language == "nl" else f"€{groups}.{frac}"


_MONTHS_NL = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def _date(value: date, language: str) -> str:
    if language == "nl":
        return f"{value.day} {_MONTHS_NL[value.month - 1]} {value.year}"
    return f"{value.day} {value.strftime('%B')} {value.year}"


def _salutation(customer: Customer, language: str) -> str:
    if language == "nl":
        title = {"mr": "heer", "ms": "mevrouw"}.get(customer.salutation or "", "")
        return f"Beste {title} {customer.last_name}".replace("  ", " ").strip()
    title = {"mr": "Mr", "ms": "Ms"}.get(customer.salutation or "", "")
    return f"Dear {title} {customer.last_name}".replace("  ", " ").strip()


def _payment_link(
    creditor_: Creditor, reference: str, amount_cents: int, *, sms: bool = False
) -> str:
    """The way to pay; in an SMS without the amount (no debt detail on a lock screen)."""
    if creditor_.payment_link_template and amount_cents > 0:
        if sms:
            return lock_screen_link(creditor_.payment_link_template, reference) or (
                creditor_.website
            )
        return payment_link(creditor_.payment_link_template, reference, amount_cents)
    return creditor_.website


def subject_for(
    session: Session,
    customer: Customer,
    kind: MessageKind,
    *,
    instalment_id: int | None = None,
    promise_id: int | None = None,
    arrangement_id: int | None = None,
) -> Subject:
    """Amount, date and reference of what the message is about, from the records."""
    if kind in (MessageKind.INSTALMENT_REMINDER, MessageKind.MISSED_INSTALMENT):
        instalment = session.get(Instalment, instalment_id) if instalment_id else None
        if instalment is None:
            instalment = _next_instalment(session, customer.id, kind)
        if instalment is None:
            raise ValidationError("This customer has no instalment to remind them of.", "kind")
        arrangement = instalment.arrangement
        if arrangement.customer_id != customer.id:
            raise ValidationError("That instalment belongs to another customer.", "kind")
        left = max(0, instalment.amount_cents - instalment.paid_cents)
        expires = None
        if kind is MessageKind.INSTALMENT_REMINDER:
            expires = datetime.combine(instalment.due_date, time(23, 59), tzinfo=UTC)
        return Subject(
            f"{customer.customer_number}-{arrangement.id}",
            left,
            instalment.due_date,
            {"instalment_id": str(instalment.id)},
            expires,
        )
    if kind is MessageKind.PROMISE_REMINDER:
        promise = session.get(PromiseToPay, promise_id) if promise_id else None
        if promise is None:
            promise = session.scalars(
                select(PromiseToPay)
                .where(PromiseToPay.customer_id == customer.id, PromiseToPay.status == "open")
                .order_by(PromiseToPay.due_date)
            ).first()
        if promise is None or promise.customer_id != customer.id:
            raise ValidationError("This customer has no open promise to pay.", "kind")
        left = max(0, promise.amount_cents - promise.paid_cents)
        return Subject(
            customer.customer_number,
            left,
            promise.due_date,
            {},
            datetime.combine(promise.due_date, time(23, 59), tzinfo=UTC),
        )
    if kind is MessageKind.ARRANGEMENT_CONFIRMATION:
        agreed = session.get(Arrangement, arrangement_id) if arrangement_id else None
        if agreed is None:
            agreed = session.scalars(
                select(Arrangement)
                .where(Arrangement.customer_id == customer.id, Arrangement.status == "active")
                .order_by(Arrangement.created_at.desc())
            ).first()
        if agreed is None or agreed.customer_id != customer.id:
            raise ValidationError("This customer has no active arrangement to confirm.", "kind")
        first = agreed.instalments[0] if agreed.instalments else None
        return Subject(
            f"{customer.customer_number}-{agreed.id}",
            first.amount_cents if first else agreed.total_cents,
            first.due_date if first else None,
            {"arrangement_id": str(agreed.id)},
        )
    return Subject(customer.customer_number, max(0, customer.arrears_cents))


def _next_instalment(session: Session, customer_id: int, kind: MessageKind) -> Instalment | None:
    status = "missed" if kind is MessageKind.MISSED_INSTALMENT else "open"
    order = Instalment.due_date.desc() if status == "missed" else Instalment.due_date
    return session.scalars(
        select(Instalment)
        .join(Arrangement, Arrangement.id == Instalment.arrangement_id)
        .where(
            Arrangement.customer_id == customer_id,
            Arrangement.status == "active",
            Instalment.status == status,
        )
        .order_by(order)
    ).first()


def compose(
    session: Session,
    customer: Customer,
    kind: MessageKind,
    channel: MessageChannel,
    *,
    subject: Subject,
    agent_name: str = "",
    text: str | None = None,
    when: str | None = None,
    contact_point_id: int | None = None,
    templates: TemplateSet | None = None,
    creditor_: Creditor | None = None,
    points: list[ContactPoint] | None = None,
) -> Draft:
    """The message as it would go out (a preview changes nothing)."""
    templates = templates or load_templates()
    creditor_ = creditor_ or creditor(session)
    language = customer.language if customer.language in ("nl", "en") else "nl"
    template = templates.get(language, kind, channel)
    if points is None:
        points = recipients(session, customer.id, channel)
    if contact_point_id is not None:
        points = [p for p in points if p.id == contact_point_id]
        if not points:
            raise ValidationError(
                "That address is not one of this customer's.",
                "to",
            )
    point = points[0] if points else None
    values: dict[str, str] = {
        "salutation": _salutation(customer, language),
        "creditor": creditor_.name,
        "phone": creditor_.phone,
        "hours": creditor_.hours(language),  # type: ignore[arg-type]
        "website": creditor_.website,
        "agent": agent_name or creditor_.name,
        "payment_link": _payment_link(
            creditor_,
            subject.reference,
            subject.amount_cents,
            sms=channel == MessageChannel.SMS,
        ),
        "reference": subject.reference,
        "amount": _money(subject.amount_cents, language),
    }
    if subject.due_date is not None:
        values["due_date"] = _date(subject.due_date, language)
    if kind is MessageKind.ARRANGEMENT_CONFIRMATION:
        arrangement = session.get(Arrangement, int(subject.values["arrangement_id"]))
        assert arrangement is not None
        values |= {
            "total": _money(arrangement.total_cents, language),
            "instalments": str(len(arrangement.instalments)),
            "first_amount": _money(subject.amount_cents, language),
            "first_due": values.get("due_date", ""),
        }
    if kind is MessageKind.FREE_TEXT:
        values["text"] = _free_text(text, channel)
    if kind is MessageKind.ANNOUNCEMENT:
        values["when"] = (when or "").strip() or ("binnenkort" if language == "nl" else "soon")
    body = fill(template.body, values)
    if channel is MessageChannel.SMS:
        length = sms_length(body)
        if length.segments > 3:
            raise ValidationError(
                "This SMS would need {segments} parts; keep it to 3 (shorten the text).",
                "text",
                segments=length.segments,
            )
    return Draft(
        customer_id=customer.id,
        kind=kind,
        channel=channel,
        language=language,
        to_address=point.value if point else "",
        contact_point_id=point.id if point else None,
        subject=fill(template.subject, values),
        body=body,
        template_version=template.version,
        expires_at=subject.expires_at,
    )


def _free_text(text: str | None, channel: MessageChannel) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError("Write the message first.", "text")
    if len(text) > FREE_TEXT_MAX:
        raise ValidationError(
            "The message is longer than {most} characters.", "text", most=FREE_TEXT_MAX
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise ValidationError("The message contains a control character.", "text")
    if channel is MessageChannel.SMS:
        words = set(re.findall(r"[a-zà-ÿ]+", text.lower()))
        bad = sorted(words & set(SMS_FORBIDDEN_WORDS))
        if bad:
            raise ValidationError(
                "An SMS can be read on a locked screen: leave out '{word}' and say it "
                "when you speak to the customer.",
                "text",
                word=bad[0],
            )
    return text


# ------------------------------------------------------------------------------ queue


@dataclass(frozen=True)
class Queued:
    message_id: int
    created: bool  # False: the key was queued before (a replay)
    status: str


def queue(
    session: Session,
    actor: Actor | None,
    draft: Draft,
    now: datetime,
    *,
    key: str | None = None,
    known_new: bool = False,
) -> Queued:
    """Put ``draft`` in the outbox once: a key queued before returns that message.

    ``known_new``: the caller checked the keys in bulk (the nightly run); the row is
    added without a flush of its own (the unique key still guards a race)."""
    key = key or f"desk:{uuid.uuid4()}"
    if not known_new:
        existing = session.scalar(select(Message).where(Message.idempotency_key == key))
        if existing is not None:
            return Queued(existing.id, False, existing.status)
    if not draft.to_address:
        raise ValidationError(
            "This customer has no {channel} address to send to.",
            "to",
            channel=draft.channel.value,
        )
    message = Message(
        customer_id=draft.customer_id,
        agent_id=actor.agent_id if actor else None,
        idempotency_key=key,
        kind=draft.kind.value,
        channel=draft.channel.value,
        contact_point_id=draft.contact_point_id,
        to_address=draft.to_address,
        language=draft.language,
        subject=draft.subject[:200],
        body=draft.body,
        template_version=draft.template_version,
        letter_id=draft.letter_id,
        status=MessageStatus.QUEUED.value,
        attempts=0,
        next_attempt_at=now,
        expires_at=draft.expires_at,
        created_at=now,
    )
    session.add(message)
    if known_new:
        return Queued(0, True, message.status)
    session.flush()
    return Queued(message.id, True, message.status)


def attach_confirmation(
    session: Session, actor: Actor, draft: Draft, arrangement_id: int, now: datetime
) -> Draft:
    """Render the arrangement confirmation with the letter service and record it as
    e-mailed; the e-mail carries that PDF (regenerated from its record when sent)."""
    from dataclasses import replace

    from agent_desk import letters
    from agent_desk.services.letter_data import arrangement_letter_data
    from agent_desk.services.letters import record_letter

    data = arrangement_letter_data(
        session, arrangement_id, now, actor.display_name or creditor(session).name
    )
    pdf = letters.render_pdf(data)
    written = letters.WrittenLetter(
        path=Path("(e-mail)"),
        sha256=letters.sha256_hex(pdf),
        kind=data.kind,
        template_version=letters.template_version(data.kind),
        reference=data.reference,
        size=len(pdf),
    )
    record = record_letter(
        session,
        actor,
        data,
        written,
        now,
        customer_id=draft.customer_id,
        delivery="emailed",
        arrangement_id=arrangement_id,
    )
    return replace(draft, letter_id=record.letter_id)


# ----------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class MessageRow:
    id: int
    kind: str
    channel: str
    to: str
    status: str
    sent_at: datetime | None
    created_at: datetime
    subject: str
    body: str
    held_reason: str | None
    agent: str | None
    status_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "channel": self.channel,
            "to": self.to,
            "status": self.status,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "created_at": self.created_at.isoformat(),
            "held_reason": self.held_reason,
            "status_at": self.status_at.isoformat() if self.status_at else None,
        }


def list_messages(session: Session, customer_id: int) -> list[MessageRow]:
    names = {a.id: a.display_name for a in session.scalars(select(Agent))}
    rows = session.scalars(
        select(Message)
        .where(Message.customer_id == customer_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
    ).all()
    return [
        MessageRow(
            m.id,
            m.kind,
            m.channel,
            m.to_address,
            m.status,
            m.sent_at,
            m.created_at,
            m.subject,
            m.body,
            m.held_reason,
            names.get(m.agent_id or 0),
            m.status_at,
        )
        for m in rows
    ]


# ------------------------------------------------------------------- delivery reports


def apply_delivery_report(
    session: Session, provider_id: str, status: str, now: datetime
) -> Message | None:
    """A provider's report on a sent message: its status in the timeline; a bounce flags
    the contact point. Reports for unknown ids are ignored (``None``)."""
    message = session.scalar(select(Message).where(Message.provider_id == provider_id))
    if message is None:
        return None
    try:
        new = MessageStatus(status)
    except ValueError:
        raise ValidationError(
            "'{status}' is not a delivery status.", "status", status=status
        ) from None
    order = {
        MessageStatus.HANDED_OVER: 0,
        MessageStatus.IN_DOUBT: 0,
        MessageStatus.SENT: 1,
        MessageStatus.DELIVERED: 2,
        MessageStatus.FAILED: 2,
        MessageStatus.BOUNCED: 2,
    }
    current = MessageStatus(message.status)
    if order.get(new, 0) < order.get(current, 0):
        return message  # an older report arrived late
    message.status = new.value
    message.status_at = now
    if message.sent_at is None:
        message.sent_at = now
    if new is MessageStatus.BOUNCED:
        flag_bounced(session, message, now)
    session.flush()
    return message


def flag_bounced(session: Session, message: Message, now: datetime) -> None:
    if message.contact_point_id is None:
        return
    point = session.get(ContactPoint, message.contact_point_id)
    if point is not None:
        point.bounced_at = now


def apply_bounce(
    session: Session,
    recipient: str,
    original_local: str | None,
    detail: str,
    now: datetime,
) -> Message | None:
    """A bounce that came back later (a DSN): the e-mail to ``recipient`` whose Message-ID
    matches is ``bounced`` in the timeline and its contact point is flagged. Without a
    Message-ID in the DSN, the last e-mail sent to that address. ``None`` when no e-mail
    of ours matches (the DSN is about mail the desk did not send)."""
    from sqlalchemy import func

    from agent_desk.services.changelog import log_changes
    from agent_desk.services.mail import message_id_local

    candidates = session.scalars(
        select(Message)
        .where(
            Message.channel == MessageChannel.EMAIL.value,
            func.lower(Message.to_address) == recipient.strip().lower(),
            Message.status.in_(
                [
                    MessageStatus.SENT.value,
                    MessageStatus.DELIVERED.value,
                    MessageStatus.HANDED_OVER.value,
                    MessageStatus.IN_DOUBT.value,
                    MessageStatus.BOUNCED.value,
                ]
            ),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
    ).all()
    if original_local is not None:
        candidates = [
            m for m in candidates if message_id_local(m.idempotency_key) == original_local
        ]
    if not candidates:
        return None
    message = candidates[0]
    if message.status == MessageStatus.BOUNCED.value:
        return message  # the same bounce read twice
    message.status = MessageStatus.BOUNCED.value
    message.status_at = now
    message.last_error = f"bounced later: {detail}"[:2000]
    if message.sent_at is None:
        message.sent_at = now
    flag_bounced(session, message, now)
    log_changes(session, "customer", [message.customer_id], "update", [message.customer_id])
    session.flush()
    return message
