"""The message outbox: every e-mail and SMS to a customer, from queued to delivered.

One row per message, written before anything leaves; ``idempotency_key`` is unique,
so queueing the same reminder twice (a replayed night, a double click) is one row,
and the status column is the sender's journal that makes a crash safe (see
``agent_desk.services.sending``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agent_desk.models.base import Base, BigId, UTCDateTime, utcnow


class Message(Base):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # MessageKind
    channel: Mapped[str] = mapped_column(String(8))  # MessageChannel
    contact_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_point.id", ondelete="SET NULL")
    )
    to_address: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(2), default="nl")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    template_version: Mapped[str] = mapped_column(String(32), default="")
    # An attached letter (the arrangement confirmation), regenerated from its record.
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter_sent.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # MessageStatus
    held_reason: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Don't send after this moment (a reminder after its due date would be wrong).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_message_customer_created", "customer_id", "created_at"),
        Index("ix_message_status_next", "status", "next_attempt_at"),
        Index("ix_message_provider_id", "provider_id"),
    )
