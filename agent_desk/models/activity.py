"""What happens around a customer: contacts, promises, arrangements, letters, notes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agent_desk.models.base import Base, BigId, UTCDateTime, utcnow


class ContactAttempt(Base):
    """One call, message or letter; append-only, so no version column."""

    __tablename__ = "contact_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    # The outbox operation that created it: replaying the same operation is a no-op.
    operation_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_contact_attempt_customer_at", "customer_id", "at"),
        # The team view's figures of the day and the outcome chart (migration 0010).
        Index("ix_contact_attempt_day", "at", "agent_id", "outcome", "customer_id"),
    )


class PromiseToPay(Base):
    __tablename__ = "promise_to_pay"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    amount_cents: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # What arrived towards it since it was made, and the day it was kept or broken.
    paid_cents: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    operation_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    # The team view's promises of the day and of the period (migration 0010).
    __table_args__ = (Index("ix_promise_to_pay_day", "created_at", "agent_id", "status"),)


class Arrangement(Base):
    __tablename__ = "arrangement"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    frequency: Mapped[str] = mapped_column(String(16), default="monthly")
    principal_cents: Mapped[int] = mapped_column(Integer)
    costs_cents: Mapped[int] = mapped_column(Integer, default=0)
    interest_cents: Mapped[int] = mapped_column(Integer, default=0)
    costs_waived: Mapped[bool] = mapped_column(Boolean, default=False)
    interest_waived: Mapped[bool] = mapped_column(Boolean, default=False)
    total_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24), default="active", index=True)
    approval_needed_reason: Mapped[str | None] = mapped_column(Text)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="arrangement", order_by="Instalment.number", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    # The team view's arrangements of the day (migration 0010).
    __table_args__ = (Index("ix_arrangement_day", "created_at", "agent_id"),)


class Instalment(Base):
    __tablename__ = "instalment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    arrangement_id: Mapped[int] = mapped_column(
        ForeignKey("arrangement.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    paid_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    version: Mapped[int] = mapped_column(Integer, default=1)

    arrangement: Mapped[Arrangement] = relationship(back_populates="instalments")

    __mapper_args__ = {"version_id_col": version}


class Payment(Base):
    """A payment received, imported from the billing system (idempotent by reference)."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(16), default="import")  # import | desk
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))


class Note(Base):
    __tablename__ = "note"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    operation_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class LetterSent(Base):
    """A generated letter: enough to regenerate it identically and prove it did."""

    __tablename__ = "letter_sent"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    arrangement_id: Mapped[int | None] = mapped_column(ForeignKey("arrangement.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    template: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    # How it left: printed (for the post), emailed, saved (a PDF kept, not sent).
    delivery: Mapped[str] = mapped_column(String(16), default="printed")
    parameters: Mapped[str] = mapped_column(Text, default="{}")  # JSON of the letter's input


class NextStep(Base):
    """What happens next for a customer, when, and by whom; open until done."""

    __tablename__ = "next_step"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_next_step_customer_open", "customer_id", "done_at"),)
