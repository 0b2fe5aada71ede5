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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from agent_desk.domain.messaging import (
    OUT_STATUSES,
    MessageChannel,
    MessageKind,
    MessageStatus,
    load_templates,
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
    Arrangement,
    ContactPoint,
    Customer,
    Instalment,
    Message,
    PromiseToPay,
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
            customers = {
                c.id: c
                for c in s.scalars(
                    select(Customer).where(Customer.id.in_({m.customer_id for m in batch}))
                )
            }
            points = {
                p.id: p
                for p in s.scalars(
                    select(ContactPoint).where(
                        ContactPoint.id.in_(
                            {m.contact_point_id for m in batch if m.contact_point_id}
                        )
                    )
                )
            }
            counts = _sent_last_week(s, customers, now)
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


# ------------------------------------------------------------ bounces that come later


@dataclass
class BouncesRead:
    """What reading the bounce mailbox found."""

    mailbox: str | None
    read: int = 0  # messages read from the mailbox
    bounced: int = 0  # e-mails of ours now marked bounced, their address flagged
    not_ours: int = 0  # failed recipients the desk sent nothing to (or not that e-mail)
    not_bounces: int = 0  # out-of-office replies, delay notices, other mail
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "read": self.read,
            "bounced": self.bounced,
            "not_ours": self.not_ours,
            "not_bounces": self.not_bounces,
            "errors": self.errors,
        }

    def summary(self) -> str:
        if self.mailbox is None:
            return "Bounces: no bounce mailbox set up (AGENT_DESK_BOUNCE_MAILDIR)."
        line = (
            f"Bounces from {self.mailbox}: {self.read} read, {self.bounced} e-mails bounced "
            f"(their addresses flagged), {self.not_ours} not ours, {self.not_bounces} not bounces."
        )
        return "\n".join([line, *(f"  problem: {e}" for e in self.errors)])


def bounce_maildir(settings: dict[str, str]) -> str | None:
    """The maildir the mail server delivers bounces to: environment, then team setting."""
    import os

    path = os.environ.get(mail.ENV_BOUNCE_MAILDIR, "").strip()
    return path or settings.get("messages.bounce_maildir", "").strip() or None


def read_bounces(database: Database, now: datetime, path: str | None = None) -> BouncesRead:
    """Read the delivery status notifications (RFC 3464) that arrived in the bounce
    maildir: each failed recipient's e-mail becomes ``bounced`` in the timeline and its
    contact point is flagged (no more mail to it until it is verified again). Each
    message is read once (it moves to ``cur/``); reading one twice changes nothing."""
    if path is None:
        with database.transaction() as s:
            path = bounce_maildir(msgs.team_settings(s))
    from agent_desk.errors import ValidationError

    result = BouncesRead(path)
    if path is None:
        return result
    try:
        waiting = mail.read_maildir(path)
    except (ValidationError, OSError) as error:
        result.errors.append(str(error))
        return result
    for key, raw in waiting:
        result.read += 1
        try:
            bounces = mail.parse_dsn(raw)
        except Exception as error:  # a mangled message must not stop the others
            log.warning("a message in the bounce mailbox could not be read: %s", error)
            bounces = []
        if not bounces:
            result.not_bounces += 1
        with database.transaction() as s:
            for bounce in bounces:
                detail = " ".join(filter(None, [bounce.status, bounce.diagnostic]))
                found = msgs.apply_bounce(
                    s, bounce.recipient, bounce.original_message_id, detail, now
                )
                if found is None:
                    result.not_ours += 1
                else:
                    result.bounced += 1
        try:
            mail.mark_read(path, key)
        except OSError as error:
            result.errors.append(f"could not mark {key} as read: {error}")
    return result


# ---------------------------------------------------------------------- the nightly part


@dataclass
class SendDueResult:
    today: date
    dry_run: bool
    queued: Counter[tuple[str, str]] = field(default_factory=Counter)
    not_queued: Counter[str] = field(default_factory=Counter)
    dispatch: DispatchResult = field(default_factory=DispatchResult)

    def as_json(self) -> dict[str, Any]:
        d = self.dispatch
        sent: dict[str, dict[str, int]] = {}
        for (kind, channel), n in sorted(d.sent.items()):
            sent.setdefault(kind, {})[channel] = n
        queued: dict[str, dict[str, int]] = {}
        for (kind, channel), n in sorted(self.queued.items()):
            queued.setdefault(kind, {})[channel] = n
        held = Counter(d.held)
        held.update(self.not_queued)
        return {
            "today": self.today.isoformat(),
            "dry_run": self.dry_run,
            "queued": queued,
            "sent": sent,
            "sent_total": sum(d.sent.values()),
            "held_back": dict(sorted(held.items())),
            "held_back_total": sum(held.values()),
            "failed": d.failed,
            "bounced": d.bounced,
            "retry_later": d.retried,
            "in_doubt": d.in_doubt,
            "requeued_after_crash": d.requeued_after_crash,
            "errors": d.errors,
        }

    def summary(self) -> str:
        data = self.as_json()
        lines = [
            f"Messages for {data['today']}{' (dry run: nothing sent)' if self.dry_run else ''}:",
            f"  sent: {data['sent_total']}",
        ]
        for kind, channels in data["sent"].items():
            for channel, n in channels.items():
                lines.append(f"    {kind} by {channel}: {n}")
        lines.append(f"  held back: {data['held_back_total']}")
        for reason, n in data["held_back"].items():
            lines.append(f"    {reason}: {n}")
        for name in ("failed", "bounced", "retry_later", "in_doubt"):
            if data[name]:
                lines.append(f"  {name.replace('_', ' ')}: {data[name]}")
        lines.extend(f"  problem: {e}" for e in data["errors"])
        return "\n".join(lines)


@dataclass(frozen=True)
class DueItem:
    customer_id: int
    kind: MessageKind
    key: str
    instalment_id: int | None = None
    promise_id: int | None = None


def due_items(session: Session, today: date, policy: SendingPolicy) -> list[DueItem]:
    """The reminders and missed-instalment messages the night owes (each once, by key)."""
    items: list[DueItem] = []
    remind_on = today + timedelta(days=policy.instalment_reminder_days_before)
    for instalment_id, customer_id in session.execute(
        select(Instalment.id, Arrangement.customer_id)
        .join(Arrangement, Arrangement.id == Instalment.arrangement_id)
        .where(
            Arrangement.status == "active",
            Instalment.status == "open",
            Instalment.due_date > today,
            Instalment.due_date <= remind_on,
        )
    ):
        items.append(
            DueItem(
                int(customer_id),
                MessageKind.INSTALMENT_REMINDER,
                f"instalment-reminder:{instalment_id}",
                instalment_id=int(instalment_id),
            )
        )
    for instalment_id, customer_id in session.execute(
        select(Instalment.id, Arrangement.customer_id)
        .join(Arrangement, Arrangement.id == Instalment.arrangement_id)
        .where(Arrangement.status == "active", Instalment.status == "missed")
    ):
        items.append(
            DueItem(
                int(customer_id),
                MessageKind.MISSED_INSTALMENT,
                f"missed-instalment:{instalment_id}",
                instalment_id=int(instalment_id),
            )
        )
    promise_on = today + timedelta(days=policy.promise_reminder_days_before)
    for promise_id, customer_id in session.execute(
        select(PromiseToPay.id, PromiseToPay.customer_id).where(
            PromiseToPay.status == "open",
            PromiseToPay.due_date >= today,
            PromiseToPay.due_date <= promise_on,
        )
    ):
        items.append(
            DueItem(
                int(customer_id),
                MessageKind.PROMISE_REMINDER,
                f"promise-reminder:{promise_id}",
                promise_id=int(promise_id),
            )
        )
    return items


def queue_due(
    session: Session,
    today: date,
    now: datetime,
    policy: SendingPolicy,
    result: SendDueResult,
    channels: frozenset[MessageChannel] | None = None,
) -> None:
    items = due_items(session, today, policy)
    keys = [i.key for i in items]
    known: set[str] = set()
    for start in range(0, len(keys), 900):
        known.update(
            session.scalars(
                select(Message.idempotency_key).where(
                    Message.idempotency_key.in_(keys[start : start + 900])
                )
            )
        )
    todo = [i for i in items if i.key not in known]
    templates = load_templates()
    creditor_ = msgs.creditor(session)
    for start in range(0, len(todo), 500):
        chunk = todo[start : start + 500]
        ids = {i.customer_id for i in chunk}
        customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
        points: dict[int, list[ContactPoint]] = {}
        for p in session.scalars(select(ContactPoint).where(ContactPoint.customer_id.in_(ids))):
            points.setdefault(p.customer_id, []).append(p)
        # Into the identity map: composing each message then reads no more rows.
        instalment_ids = [i.instalment_id for i in chunk if i.instalment_id]
        held: list[object] = []  # the identity map is weak: keep them while composing
        if instalment_ids:
            held += session.scalars(
                select(Instalment)
                .options(joinedload(Instalment.arrangement))
                .where(Instalment.id.in_(instalment_ids))
            ).all()
        promise_ids = [i.promise_id for i in chunk if i.promise_id]
        if promise_ids:
            held += session.scalars(
                select(PromiseToPay).where(PromiseToPay.id.in_(promise_ids))
            ).all()
        with session.no_autoflush:
            _compose_chunk(
                session, chunk, customers, points, now, templates, creditor_, result, channels
            )
        session.flush()
        del held


def _compose_chunk(
    session: Session,
    chunk: list[DueItem],
    customers: dict[int, Customer],
    points: dict[int, list[ContactPoint]],
    now: datetime,
    templates: Any,
    creditor_: Any,
    result: SendDueResult,
    channels: frozenset[MessageChannel] | None = None,
) -> None:
    for item in chunk:
        customer = customers[item.customer_id]
        if customer.status != "open":
            continue
        channel = _channel_for(customer, points.get(customer.id, []), channels)
        if channel is None:
            reachable_but_opted_out = any(
                msgs.opted_out(customer, c)
                and any(
                    p.kind == msgs.CHANNEL_KIND[c] and msgs.usable(p)
                    for p in points.get(customer.id, [])
                )
                for c in MessageChannel
            )
            only_bounced = any(
                not msgs.opted_out(customer, c)
                and any(
                    p.kind == msgs.CHANNEL_KIND[c] and not msgs.usable(p)
                    for p in points.get(customer.id, [])
                )
                for c in MessageChannel
            )
            if reachable_but_opted_out:
                reason = HeldReason.OPTED_OUT
            elif only_bounced:  # its address bounced (or is invalid) and was not verified since
                reason = HeldReason.BOUNCED_CONTACT
            else:
                reason = HeldReason.NO_CONTACT_POINT
            result.not_queued[reason.value] += 1
            continue
        kind_points = [
            p for p in points.get(customer.id, []) if p.kind == msgs.CHANNEL_KIND[channel]
        ]
        kind_points.sort(key=lambda p: (not msgs.usable(p), p.verified_at is None, not p.preferred))
        subject = msgs.subject_for(
            session,
            customer,
            item.kind,
            instalment_id=item.instalment_id,
            promise_id=item.promise_id,
        )
        draft = msgs.compose(
            session,
            customer,
            item.kind,
            channel,
            subject=subject,
            templates=templates,
            creditor_=creditor_,
            points=kind_points,
        )
        msgs.queue(session, None, draft, now, key=item.key, known_new=True)
        result.queued[(item.kind.value, channel.value)] += 1


def _channel_for(
    customer: Customer,
    points: list[ContactPoint],
    available: frozenset[MessageChannel] | None = None,
) -> MessageChannel | None:
    """The customer's preferred channel that may and can reach them; of those, one that is
    set up (``available``) first, so a customer who prefers SMS on a desk without an SMS
    provider gets the e-mail instead of waiting for a provider."""
    order = [MessageChannel.EMAIL, MessageChannel.SMS]
    if customer.preferred_channel == "sms":
        order.reverse()
    reachable = [
        channel
        for channel in order
        if not msgs.opted_out(customer, channel)
        and any(p.kind == msgs.CHANNEL_KIND[channel] and msgs.usable(p) for p in points)
    ]
    if available is not None:
        reachable.sort(key=lambda channel: channel not in available)
    return reachable[0] if reachable else None


def send_due(
    database: Database,
    today: date,
    now: datetime,
    *,
    dry_run: bool = False,
    transports: Transports | None = None,
    policy: SendingPolicy | None = None,
    channels: frozenset[MessageChannel] | None = None,
) -> SendDueResult:
    """The nightly run's sending part: queue what is owed, then send what may go.

    ``channels``: the ones set up; a customer reachable by one of them is written to by it
    even when they prefer another (None: by preference only)."""
    policy = policy or load_sending_policy()
    result = SendDueResult(today, dry_run)
    if dry_run:
        with database.engine.connect() as connection:
            transaction = connection.begin()
            try:
                from sqlalchemy.orm import Session as OrmSession

                with OrmSession(bind=connection) as s:
                    queue_due(s, today, now, policy, result, channels)
                    s.flush()
                    _preview_rules(s, now, policy, result)
            finally:
                transaction.rollback()
        return result
    with database.transaction() as s:
        queue_due(s, today, now, policy, result, channels)
    if transports is None:
        with database.transaction() as s:
            transports = ConfiguredTransports(msgs.team_settings(s))
    result.dispatch = dispatch(database, transports, now, policy=policy)
    return result


def _preview_rules(
    session: Session, now: datetime, policy: SendingPolicy, result: SendDueResult
) -> None:
    """What a real run would send or hold, without sending (dry run)."""
    rows = session.scalars(
        select(Message).where(
            Message.status == MessageStatus.QUEUED.value, Message.next_attempt_at <= now
        )
    ).all()
    customers = {
        c.id: c
        for c in session.scalars(
            select(Customer).where(Customer.id.in_({m.customer_id for m in rows}))
        )
    }
    points = {
        p.id: p
        for p in session.scalars(
            select(ContactPoint).where(
                ContactPoint.id.in_({m.contact_point_id for m in rows if m.contact_point_id})
            )
        )
    }
    counts = _sent_last_week(session, customers, now)
    for m in rows:
        customer = customers[m.customer_id]
        reason = check_rules(
            m, customer, points.get(m.contact_point_id or 0), counts[customer.id], now, policy
        )
        if reason is None:
            counts[customer.id] += 1
            result.dispatch.sent[(m.kind, m.channel)] += 1
        else:
            result.dispatch.held[reason.value] += 1
