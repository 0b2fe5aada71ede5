"""The audit trail: who viewed or changed which customer, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from agent_desk.models import AuditEvent
from agent_desk.models.base import utcnow
from agent_desk.services.actor import Actor


def audit(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    customer_id: int | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    session.add(
        AuditEvent(
            at=at or utcnow(),
            agent_id=actor.agent_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            customer_id=customer_id,
            detail=detail,
        )
    )
