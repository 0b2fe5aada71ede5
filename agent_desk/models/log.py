"""The audit trail (accountability) and the change log (sync)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agent_desk.models.base import Base, BigId, UTCDateTime, utcnow


class AuditEvent(Base):
    """Who viewed or changed what, and when. Append-only."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(BigId)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_audit_event_customer_at", "customer_id", "at"),)


class ChangeLog(Base):
    """One row per changed row, written in the same transaction; ``id`` only grows.

    Desks remember the last id they saw and read what came after it.
    """

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    table_name: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(8))  # insert | update | delete
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    #: The desk session that made the change ("<agent id>:<token>", migration 0010),
    #: None for tools and people without a desk; a desk skips its own echo by it.
    origin: Mapped[str | None] = mapped_column(String(64))
