"""A supervisor's proactive message to a selection of customers (known triggers).

E.g. "everyone whose introductory discount ends next month": the import carries the
trigger and its date (``trigger``, ``trigger_on``). First a preview (how many, by which
channel, how many cannot be reached and why, one example text), then the same call
with ``send=True`` queues them, each once per campaign name; the sender sends them
within the rules like every other message.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain.messaging import MessageChannel, MessageKind, load_templates
from agent_desk.errors import ValidationError
from agent_desk.models import Customer, Message
from agent_desk.services import messages as msgs
from agent_desk.services.actor import Actor


@dataclass(frozen=True)
class Selection:
    trigger: str
    trigger_from: date | None = None
    trigger_to: date | None = None


@dataclass
class CampaignResult:
    name: str
    selected: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)
    unreachable: Counter[str] = field(default_factory=Counter)
    already_queued: int = 0
    queued: int = 0
    example: dict[str, str] | None = None
    sent: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "selected": self.selected,
            "by_channel": dict(self.by_channel),
            "unreachable": dict(self.unreachable),
            "already_queued": self.already_queued,
            "queued": self.queued,
            "example": self.example,
            "sent": self.sent,
        }

    def summary(self) -> str:
        verb = "queued" if self.sent else "would be queued (preview; add --send)"
        channels = ", ".join(f"{n} by {c}" for c, n in sorted(self.by_channel.items()))
        lines = [
            f"{self.selected} customers selected; {sum(self.by_channel.values())} {verb}"
            f"{': ' + channels if channels else ''}."
        ]
        for reason, n in sorted(self.unreachable.items()):
            lines.append(f"  not reachable ({reason}): {n}")
        if self.already_queued:
            lines.append(f"  already queued by this campaign: {self.already_queued}")
        if self.example:
            lines.append(f"Example ({self.example['channel']}): {self.example['body']}")
        return "\n".join(lines)


def select_customers(session: Session, selection: Selection) -> list[Customer]:
    query = select(Customer).where(Customer.status == "open", Customer.trigger == selection.trigger)
    if selection.trigger_from:
        query = query.where(Customer.trigger_on >= selection.trigger_from)
    if selection.trigger_to:
        query = query.where(Customer.trigger_on <= selection.trigger_to)
    return list(session.scalars(query.order_by(Customer.id)))


def run_campaign(
    session: Session,
    actor: Actor,
    name: str,
    selection: Selection,
    kind: MessageKind,
    now: datetime,
    *,
    text: str | None = None,
    when: str | None = None,
    send: bool = False,
) -> CampaignResult:
    actor.require_supervisor("send a message to a selection of customers")
    name = name.strip()
    if not name or len(name) > 60 or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValidationError(
            "Name the campaign with letters, digits, - or _ (at most 60).", "name"
        )
    if kind not in (MessageKind.ANNOUNCEMENT, MessageKind.FREE_TEXT):
        raise ValidationError("A campaign sends an announcement or a free text.", "kind")
    result = CampaignResult(name, sent=send)
    customers = select_customers(session, selection)
    result.selected = len(customers)
    templates = load_templates()
    creditor_ = msgs.creditor(session)
    prefix = f"campaign:{name}:"
    known = set(
        session.scalars(
            select(Message.idempotency_key).where(Message.idempotency_key.like(prefix + "%"))
        )
    )
    for customer in customers:
        key = f"{prefix}{customer.id}"
        if key in known:
            result.already_queued += 1
            continue
        channel = msgs.choose_channel(session, customer, list(MessageChannel))
        assert channel is not None
        points = [p for p in msgs.recipients(session, customer.id, channel) if msgs.usable(p)]
        if msgs.opted_out(customer, channel):
            result.unreachable["opted_out"] += 1
            continue
        if not points:
            result.unreachable["no_contact_point"] += 1
            continue
        draft = msgs.compose(
            session,
            customer,
            kind,
            channel,
            subject=msgs.subject_for(session, customer, kind),
            text=text,
            when=when,
            templates=templates,
            creditor_=creditor_,
            points=points,
        )
        result.by_channel[channel.value] += 1
        if result.example is None:
            result.example = {
                "channel": channel.value,
                "subject": draft.subject,
                "body": draft.body,
            }
        if send:
            msgs.queue(session, actor, draft, now, key=key)
            result.queued += 1
    return result
