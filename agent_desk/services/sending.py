"""The sender: takes messages from the outbox and hands them to the mail server or the
SMS provider, each at most once, within the sending policy.

The status column is a journal, committed before each step that cannot be undone:

``queued`` → (claim, commit) ``sending`` → (recipients accepted; commit)
``handed_over`` → (the gateway said yes; commit) ``sent`` → (report) ``delivered``.

After a crash (``kill -9``) a claim older than the lease is looked at again: a message
still ``sending`` never reached the point where the gateway could have it, so it is
queued again and sent once; one ``handed_over`` may have reached the gateway, so it
becomes ``in_doubt`` and is never sent again by itself (the list shows it; a person
checks the mailbox or the provider's log). That keeps "never twice" even when the
crash falls in the last millisecond; the window where a message can be in doubt is
the one round trip of SMTP ``DATA`` (or the SMS ``POST``).

Before a message leaves, the rules are checked again (the customer may have opted
out since it was queued): opt-out, bounced contact point, sending window, Sunday,
public holiday, weekly cap, expiry. Rules that make a message wrong for good cancel
it; the others postpone it to when it may go.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from agent_desk.domain.messaging import (
    OUT_STATUSES,
    MessageChannel,
    MessageKind,
    MessageStatus,
)
from agent_desk.domain.sending_rules import (
    FINAL_REASONS,
    HeldReason,
    SendingPolicy,
    backoff,
    load_sending_policy,
    next_window_opens,
    over_cap,
    window_refusal,
)
from agent_desk.models import (
    ContactPoint,
    Customer,
    Message,
)
from agent_desk.services import mail, sms
from agent_desk.services import messages as msgs
from agent_desk.services.changelog import log_changes
from agent_desk.services.database import Database

log = logging.getLogger(__name__)
AUTOMATIC_KINDS = frozenset(
    {MessageKind.INSTALMENT_REMINDER, MessageKind.MISSED_INSTALMENT, MessageKind.PROMISE_REMINDER}
)


class Transports(Protocol):
    def email(self) -> mail.SmtpTransport | None: ...

    def sms(self) -> sms.SmsGateway | None: ...

    def close(self) -> None: ...


@dataclass
class ConfiguredTransports:
    """Transports from the environment and the team settings, opened on first use."""

    settings: dict[str, str]
    _email: mail.SmtpTransport | None = None
    _sms: sms.SmsGateway | None = None
    email_error: str | None = None
    sms_error: str | None = None

    def email(self) -> mail.SmtpTransport | None:
        if self._email is None and self.email_error is None:
            try:
                config = mail.config_from(
                    self.settings.get("messages.smtp_url"), self.settings.get("messages.mail_from")
                )
                if config is None:
                    self.email_error = "no mail server set up (AGENT_DESK_SMTP_URL)"
                else:
                    self._email = mail.SmtpTransport.from_config(config)
            except (mail.MailConfigError, Exception) as error:
                self.email_error = str(error)
        return self._email

    def sms(self) -> sms.SmsGateway | None:
        if self._sms is None and self.sms_error is None:
            try:
                config = sms.config_from(self.settings)
                if config is None:
                    self.sms_error = "no SMS provider set up (AGENT_DESK_SMS_URL)"
                else:
                    self._sms = sms.gateway_from(config)
            except Exception as error:
                self.sms_error = str(error)
        return self._sms

    def close(self) -> None:
        if self._email is not None:
            self._email.close()


@dataclass
class DispatchResult:
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, channel)
    held: Counter[str] = field(default_factory=Counter)  # reason
    cancelled: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    bounced: int = 0
    retried: int = 0
    in_doubt: int = 0
    requeued_after_crash: int = 0
    errors: list[str] = field(default_factory=list)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def recover(database: Database, now: datetime) -> tuple[int, int]:
    """Claims of a process that died: back to the queue, or in doubt (see module doc)."""
    with database.transaction() as s:
        requeued: Any = s.execute(
            update(Message)
            .where(Message.status == MessageStatus.SENDING.value, Message.claimed_until < now)
            .values(status=MessageStatus.QUEUED.value, claimed_until=None)
        )
        doubt: Any = s.execute(
            update(Message)
            .where(Message.status == MessageStatus.HANDED_OVER.value, Message.claimed_until < now)
            .values(
                status=MessageStatus.IN_DOUBT.value,
                status_at=now,
                last_error="the sender stopped while handing this over; it may have been "
                "sent - check before sending it again",
            )
        )
    return int(requeued.rowcount or 0), int(doubt.rowcount or 0)


def _sent_last_week(session: Session, customer_ids: Iterable[int], now: datetime) -> Counter[int]:
    ids = list(set(customer_ids))
    counts: Counter[int] = Counter()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for customer_id, count in session.execute(
            select(Message.customer_id, func.count())
            .where(
                Message.customer_id.in_(chunk),
                Message.status.in_([s.value for s in OUT_STATUSES]),
                Message.sent_at >= now - timedelta(days=7),
            )
            .group_by(Message.customer_id)
        ):
            counts[int(customer_id)] = int(count)
    return counts


def recipients(
    session: Session, messages: Sequence[Message], now: datetime
) -> tuple[dict[int, Customer], dict[int, ContactPoint], Counter[int]]:
    """What the rules read to judge these messages: their customers, their contact
    points, and how many messages each customer was sent in the last week."""
    customers = {
        c.id: c
        for c in session.scalars(
            select(Customer).where(Customer.id.in_({m.customer_id for m in messages}))
        )
    }
    wanted = {m.contact_point_id for m in messages if m.contact_point_id}
    points = {
        p.id: p for p in session.scalars(select(ContactPoint).where(ContactPoint.id.in_(wanted)))
    }
    return customers, points, _sent_last_week(session, customers, now)


def check_rules(
    message: Message,
    customer: Customer,
    point: ContactPoint | None,
    sent_last_week: int,
    now: datetime,
    policy: SendingPolicy,
) -> HeldReason | None:
    channel = MessageChannel(message.channel)
    if msgs.opted_out(customer, channel):
        return HeldReason.OPTED_OUT
    if point is None or point.value != message.to_address:
        return HeldReason.NO_CONTACT_POINT
    if not msgs.usable(point):
        return HeldReason.BOUNCED_CONTACT
    expires = _utc(message.expires_at)
    if expires is not None and now > expires:
        return HeldReason.EXPIRED
    if MessageKind(message.kind) in AUTOMATIC_KINDS and customer.paused_until is not None:
        local_today = now.astimezone(policy.zone).date()
        if customer.paused_until >= local_today:
            return HeldReason.PAUSED
    refusal = window_refusal(now, policy)
    if refusal is not None:
        return refusal
    if over_cap(sent_last_week, policy):
        return HeldReason.FREQUENCY_CAP
    return None


def dispatch(
    database: Database,
    transports: Transports,
    now: datetime,
    *,
    policy: SendingPolicy | None = None,
    batch_size: int = 500,
    limit: int | None = None,
    clock: Callable[[], datetime] | None = None,
    only_ids: list[int] | None = None,
) -> DispatchResult:
    """Send what is due in the outbox; returns what was sent and why the rest was held."""
    policy = policy or load_sending_policy()
    result = DispatchResult()
    result.requeued_after_crash, result.in_doubt = recover(database, now)
    lease = timedelta(seconds=policy.claim_lease_seconds)
    stop_channels: set[str] = set()
    seen: set[int] = set()
    done = 0
    while limit is None or done < limit:
        with database.transaction() as s:
            query = (
                select(Message)
                .where(
                    Message.status == MessageStatus.QUEUED.value,
                    Message.next_attempt_at <= now,
                )
                .order_by(Message.next_attempt_at, Message.id)
                .limit(batch_size)
            )
            if only_ids is not None:
                query = query.where(Message.id.in_(only_ids))
            if stop_channels:
                query = query.where(Message.channel.not_in(stop_channels))
            if database.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            batch = [m for m in s.scalars(query).all() if m.id not in seen]
            if not batch:
                break
            customers, points, counts = recipients(s, batch, now)
            claimed: list[_Claimed] = []
            for message in batch:
                seen.add(message.id)
                customer = customers[message.customer_id]
                point = points.get(message.contact_point_id or 0)
                reason = check_rules(message, customer, point, counts[customer.id], now, policy)
                if reason in FINAL_REASONS:
                    message.status = MessageStatus.CANCELLED.value
                    message.held_reason = reason.value if reason else None
                    message.status_at = now
                    result.cancelled[reason.value if reason else "?"] += 1
                    result.held[reason.value if reason else "?"] += 1
                    continue
                if reason is not None:
                    message.held_reason = reason.value
                    if reason is HeldReason.FREQUENCY_CAP or reason is HeldReason.PAUSED:
                        message.next_attempt_at = now + timedelta(days=1)
                    else:
                        message.next_attempt_at = next_window_opens(now, policy)
                    result.held[reason.value] += 1
                    continue
                counts[customer.id] += 1
                message.status = MessageStatus.SENDING.value
                message.held_reason = None
                message.attempts += 1
                message.claimed_until = now + lease
                claimed.append(_Claimed.of(message))
        for item in claimed:
            if limit is not None and done >= limit:
                _release(database, item.id)
                continue
            outcome = _send_one(database, transports, item, now, policy, result, clock)
            done += 1
            if outcome == "config":
                stop_channels.add(item.channel)
    if stop_channels:
        # Every message of a channel that is not set up waits, tried tonight or not.
        with database.transaction() as s:
            waiting = select(func.count()).where(
                Message.status == MessageStatus.QUEUED.value,
                Message.next_attempt_at <= now,
                Message.channel.in_(stop_channels),
            )
            if only_ids is not None:
                waiting = waiting.where(Message.id.in_(only_ids))
            result.held[HeldReason.NOT_CONFIGURED.value] = int(s.scalar(waiting) or 0)
    transports.close()
    return result


@dataclass(frozen=True)
class _Claimed:
    """What the sender needs of a claimed message (read in the claiming transaction)."""

    id: int
    customer_id: int
    kind: str
    channel: str
    to: str
    key: str
    subject: str
    body: str
    attempts: int
    letter_id: int | None
    language: str

    @classmethod
    def of(cls, m: Message) -> _Claimed:
        return cls(
            m.id,
            m.customer_id,
            m.kind,
            m.channel,
            m.to_address,
            m.idempotency_key,
            m.subject,
            m.body,
            m.attempts,
            m.letter_id,
            m.language,
        )


def _release(database: Database, message_id: int) -> None:
    with database.transaction() as s:
        s.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == MessageStatus.SENDING.value)
            .values(status=MessageStatus.QUEUED.value, claimed_until=None)
        )


_SHOWN = frozenset({"sent", "delivered", "failed", "bounced", "in_doubt"})


def _set(
    database: Database, message_id: int, customer_id: int | None = None, **values: Any
) -> None:
    with database.transaction() as s:
        s.execute(update(Message).where(Message.id == message_id).values(**values))
        if values.get("status") in _SHOWN:
            # The customer's file shows the message: other desks refresh it.
            if customer_id is None:
                customer_id = s.scalar(select(Message.customer_id).where(Message.id == message_id))
            if customer_id is not None:
                log_changes(s, "customer", [customer_id], "update", [customer_id])


def _send_one(
    database: Database,
    transports: Transports,
    item: _Claimed,
    now: datetime,
    policy: SendingPolicy,
    result: DispatchResult,
    clock: Callable[[], datetime] | None,
) -> str:
    message_id = item.id
    channel = MessageChannel(item.channel)
    kind, to, key = item.kind, item.to, item.key
    subject, body, attempts = item.subject, item.body, item.attempts
    attachment = None
    if item.letter_id is not None:
        from agent_desk.services.letters import regenerate

        with database.transaction() as s:
            name = "bevestiging.pdf" if item.language == "nl" else "confirmation.pdf"
            attachment = (name, regenerate(s, item.letter_id))

    def handed_over() -> None:
        _set(database, message_id, status=MessageStatus.HANDED_OVER.value)

    def temporary(text: str) -> str:
        if attempts >= policy.max_attempts:
            _set(
                database,
                message_id,
                status=MessageStatus.FAILED.value,
                last_error=text,
                status_at=now,
                claimed_until=None,
            )
            result.failed += 1
            return "failed"
        _set(
            database,
            message_id,
            status=MessageStatus.QUEUED.value,
            last_error=text,
            next_attempt_at=now + backoff(attempts, policy),
            claimed_until=None,
        )
        result.retried += 1
        return "retry"

    def config(text: str) -> str:
        _set(
            database,
            message_id,
            status=MessageStatus.QUEUED.value,
            attempts=attempts - 1,
            held_reason=HeldReason.NOT_CONFIGURED.value,
            last_error=text,
            claimed_until=None,
        )
        result.held[HeldReason.NOT_CONFIGURED.value] += 1
        if text not in result.errors:
            result.errors.append(text)
        return "config"

    def bounced(text: str) -> str:
        with database.transaction() as s:
            row = s.get(Message, message_id)
            assert row is not None
            row.status = MessageStatus.BOUNCED.value
            row.last_error = text
            row.status_at = now
            row.sent_at = now
            row.claimed_until = None
            msgs.flag_bounced(s, row, now)
        result.bounced += 1
        return "bounced"

    def failed(text: str) -> str:
        _set(
            database,
            message_id,
            status=MessageStatus.FAILED.value,
            last_error=text,
            status_at=now,
            claimed_until=None,
        )
        result.failed += 1
        return "failed"

    sent_at = clock() if clock else now
    if channel is MessageChannel.EMAIL:
        transport = transports.email()
        if transport is None:
            return config(getattr(transports, "email_error", None) or "no mail server set up")
        email = mail.build_email(
            mail_from=transport.config.mail_from,
            to=to,
            subject=subject,
            body=body,
            message_id_key=key,
            attachment=attachment,
        )
        try:
            transport.send(email, [to], handed_over)
        except mail.MailRefused as error:
            return bounced(str(error))
        except mail.MailPermanent as error:
            return failed(str(error))
        except mail.MailConfigError as error:
            return config(str(error))
        except mail.MailTemporary as error:
            if not error.safe and _status(database, message_id) == MessageStatus.HANDED_OVER.value:
                _set(
                    database,
                    message_id,
                    status=MessageStatus.IN_DOUBT.value,
                    status_at=now,
                    last_error=str(error),
                )
                result.in_doubt += 1
                return "doubt"
            return temporary(str(error))
        _set(
            database,
            message_id,
            item.customer_id,
            status=MessageStatus.SENT.value,
            sent_at=sent_at,
            status_at=sent_at,
            claimed_until=None,
            last_error=None,
        )
    else:
        gateway = transports.sms()
        if gateway is None:
            return config(getattr(transports, "sms_error", None) or "no SMS provider set up")
        handed_over()
        try:
            answer = gateway.send(to=to, body=body, reference=key)
        except sms.SmsRejected as error:
            return bounced(str(error)) if error.bounced else failed(str(error))
        except sms.SmsConfigError as error:
            _set(database, message_id, status=MessageStatus.SENDING.value)
            return config(str(error))
        except sms.SmsTemporary as error:
            if not error.safe:  # it may have gone: never again by itself
                _set(
                    database,
                    message_id,
                    item.customer_id,
                    status=MessageStatus.IN_DOUBT.value,
                    status_at=now,
                    last_error=str(error),
                    claimed_until=None,
                )
                result.in_doubt += 1
                return "doubt"
            _set(database, message_id, status=MessageStatus.SENDING.value)
            return temporary(str(error))
        _set(
            database,
            message_id,
            item.customer_id,
            status=answer.status,
            provider_id=answer.provider_id,
            sent_at=sent_at,
            status_at=sent_at,
            claimed_until=None,
            last_error=None,
        )
    result.sent[(kind, channel.value)] += 1
    return "sent"


def _status(database: Database, message_id: int) -> str:
    with database.transaction() as s:
        return str(s.scalar(select(Message.status).where(Message.id == message_id)))


def poll_sms_status(database: Database, gateway: sms.SmsGateway, now: datetime) -> int:
    """Ask the provider about SMS sent but not yet delivered; returns how many changed."""
    with database.transaction() as s:
        pending = [
            str(p)
            for p in s.scalars(
                select(Message.provider_id).where(
                    Message.channel == MessageChannel.SMS.value,
                    Message.status == MessageStatus.SENT.value,
                    Message.provider_id.is_not(None),
                )
            )
        ]
    changed = 0
    for provider_id in pending:
        try:
            report = gateway.status(provider_id)
        except (sms.SmsTemporary, sms.SmsRejected, sms.SmsConfigError) as error:
            log.warning("status of an SMS could not be read: %s", error)
            continue
        if report is None or report.status == MessageStatus.SENT.value:
            continue
        with database.transaction() as s:
            if msgs.apply_delivery_report(s, provider_id, report.status, now) is not None:
                changed += 1
    return changed
