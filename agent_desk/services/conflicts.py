"""What colleagues changed on a customer since an agent opened the file.

When a save meets a newer version (``ConflictError``) the desk shows the colleague's
changes beside the agent's own typed values. ``colleague_changes`` reads them from the
audit trail and from the activity tables: every change by someone else after ``since``,
with who and when, plus the latest next step, pause and contact attempts they recorded.
Read-only; runs on the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from agent_desk.models import Agent, AuditEvent, ContactAttempt, Customer, NextStep

#: Audit actions that change nothing (reading, exporting, letting go of a hold).
NOT_CHANGES = frozenset({"view", "export", "release"})
#: Entities described from their own rows rather than from the audit event.
DESCRIBED_ELSEWHERE = frozenset({"contact_attempt", "next_step"})


@dataclass(frozen=True)
class ChangeLine:
    """One thing a colleague changed, in a form the desk can put into words.

    ``kind`` is ``contact`` (a contact attempt: ``code`` the outcome, ``channel``,
    ``detail`` the note), ``next_step`` (``code`` the kind, ``due_at``), ``pause``
    (``detail`` the reason, ``until``; no ``until``: the pause ended) or ``event``
    (any other audited change: ``action``/``entity``/``detail``).
    """

    at: datetime
    who: str
    kind: str
    code: str = ""
    detail: str = ""
    action: str = ""
    entity: str = ""
    channel: str = ""
    due_at: datetime | None = None
    until: date | None = None

    @property
    def text(self) -> str:
        """Plain English (logs, tests); the desk translates from the fields."""
        code = self.code.replace("_", " ")
        if self.kind == "contact":
            words = f"contact attempt by {self.channel}: {code}"
            return f"{words} — {self.detail}" if self.detail else words
        if self.kind == "next_step":
            due = f" on {self.due_at:%Y-%m-%d %H:%M}" if self.due_at else ""
            return f"next step: {code}{due}"
        if self.kind == "pause":
            if self.until is None:
                return "ended the pause"
            return f"paused until {self.until.isoformat()}: {self.detail}"
        words = f"{self.action.replace('_', ' ')} {self.entity.replace('_', ' ')}"
        return f"{words}: {self.detail}" if self.detail else words


def _by_others(
    column: InstrumentedAttribute[int | None], exclude_agent_id: int | None
) -> ColumnElement[bool]:
    if exclude_agent_id is None:
        return true()
    return or_(column.is_(None), column != exclude_agent_id)


def colleague_changes(
    session: Session,
    customer_id: int,
    since: datetime,
    exclude_agent_id: int | None,
) -> list[ChangeLine]:
    """Changes to the customer after ``since`` by anyone but ``exclude_agent_id``, oldest first."""
    names = {agent.id: agent.display_name for agent in session.scalars(select(Agent))}

    def who(agent_id: int | None) -> str:
        return names.get(agent_id, "") if agent_id is not None else ""

    lines: list[ChangeLine] = []
    attempts = session.scalars(
        select(ContactAttempt)
        .where(
            ContactAttempt.customer_id == customer_id,
            ContactAttempt.at > since,
            _by_others(ContactAttempt.agent_id, exclude_agent_id),
        )
        .order_by(ContactAttempt.at, ContactAttempt.id)
    ).all()
    for attempt in attempts:
        lines.append(
            ChangeLine(
                at=attempt.at,
                who=who(attempt.agent_id),
                kind="contact",
                code=attempt.outcome,
                detail=attempt.note or "",
                channel=attempt.channel,
            )
        )
    step = session.scalars(
        select(NextStep)
        .where(
            NextStep.customer_id == customer_id,
            NextStep.created_at > since,
            _by_others(NextStep.created_by_id, exclude_agent_id),
        )
        .order_by(NextStep.created_at.desc(), NextStep.id.desc())
        .limit(1)
    ).first()
    if step is not None:
        lines.append(
            ChangeLine(
                at=step.created_at,
                who=who(step.created_by_id),
                kind="next_step",
                code=step.kind,
                detail=step.note or "",
                due_at=step.due_at,
            )
        )
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.customer_id == customer_id,
            AuditEvent.at > since,
            AuditEvent.action.not_in(NOT_CHANGES),
            AuditEvent.entity.not_in(DESCRIBED_ELSEWHERE),
            _by_others(AuditEvent.agent_id, exclude_agent_id),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    pauses = [e for e in events if e.action == "pause"]
    customer = session.get(Customer, customer_id)
    for event in events:
        if event.action == "pause":
            if event is not pauses[-1] or customer is None:
                continue  # only the latest pause says what holds now
            lines.append(
                ChangeLine(
                    at=event.at,
                    who=who(event.agent_id),
                    kind="pause",
                    detail=customer.pause_reason or "",
                    until=customer.paused_until,
                )
            )
            continue
        lines.append(
            ChangeLine(
                at=event.at,
                who=who(event.agent_id),
                kind="event",
                action=event.action,
                entity=event.entity,
                detail=event.detail or "",
            )
        )
    lines.sort(key=lambda line: line.at)
    return lines
