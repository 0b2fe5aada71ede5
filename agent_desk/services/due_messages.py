"""The messages the night owes: instalment and promise reminders, missed instalments.

``send_due`` is the nightly run's sending part: it finds what is owed today
(``due_items``), composes and queues each message once (its key makes a second run a
no-op) by the customer's preferred channel or one that is set up, and then lets the
sender (``sending.dispatch``) send what may go. A dry run queues inside a transaction
that is rolled back and says what the rules would send or hold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from agent_desk.domain.messaging import (
    MessageChannel,
    MessageKind,
    MessageStatus,
    load_templates,
)
from agent_desk.domain.sending_rules import (
    HeldReason,
    SendingPolicy,
    load_sending_policy,
)
from agent_desk.models import (
    Arrangement,
    ContactPoint,
    Customer,
    Instalment,
    Message,
    PromiseToPay,
)
from agent_desk.services import messages as msgs
from agent_desk.services.database import Database
from agent_desk.services.sending import (
    ConfiguredTransports,
    DispatchResult,
    Transports,
    check_rules,
    dispatch,
    recipients,
)


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
    customers, points, counts = recipients(session, rows, now)
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
