"""The creditor's profile (versioned) and early signals: objections and signals sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from agent_desk.models.base import Base, BigId, UTCDateTime, utcnow


class CreditorProfileVersion(Base):
    """One version of the creditor's profile (the whole profile as JSON). Append-only:
    the highest ``version`` is the profile in force; older rows are the history."""

    __tablename__ = "creditor_profile"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    profile: Mapped[str] = mapped_column(Text)
    changed_key: Mapped[str] = mapped_column(String(64), default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignalObjection(Base):
    """The customer objects to (or withdraws an objection to) an early signal. Append-only;
    the latest row per customer decides."""

    __tablename__ = "signal_objection"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="objection")  # | withdrawal
    objected_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="desk")  # desk | cli | import
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_signal_objection_customer", "customer_id", "objected_on"),
        CheckConstraint("kind IN ('objection', 'withdrawal')", name="kind"),
    )


class EarlySignal(Base):
    """A signal sent to the municipality: one per customer and arrears (``arrears_since``)."""

    __tablename__ = "early_signal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    municipality: Mapped[str] = mapped_column(String(100))
    arrears_since: Mapped[date] = mapped_column(Date)
    arrears_cents: Mapped[int] = mapped_column(Integer)
    due_since: Mapped[date] = mapped_column(Date)
    sent_on: Mapped[date] = mapped_column(Date)
    export_file: Mapped[str] = mapped_column(String(255), default="")
    export_sha256: Mapped[str] = mapped_column(String(64), default="")
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("customer_id", "arrears_since"),
        Index("ix_early_signal_customer", "customer_id", "sent_on"),
    )
