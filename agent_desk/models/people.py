"""Agents, customers, their contact points and the claims in arrears."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agent_desk.models.base import Base, BigId, UTCDateTime, utcnow


class Agent(Base):
    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Customer(Base):
    """A customer in arrears, with the flags an agent must see and the queue state.

    The ``queue_*``, ``arrears_cents``, ``oldest_due_date`` and ``next_step_*`` columns
    are derived: services recompute them (with the domain's rules) in the same
    transaction as every change, so the queue is one indexed query.
    """

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(32), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(150))
    salutation: Mapped[str | None] = mapped_column(String(8))  # "mr" | "ms" | None
    # For the identity check: the customer states it, the desk compares.
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2), default="nl")
    segment: Mapped[str] = mapped_column(String(32), default="consumer")
    trigger: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    best_time: Mapped[str | None] = mapped_column(String(16))
    # The customer said "no e-mail" / "no SMS" (issue 14): nothing is sent that way.
    email_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # A known trigger's date (e.g. the introductory discount ends), from the import.
    trigger_on: Mapped[date | None] = mapped_column(Date)

    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    vulnerability_note: Mapped[str | None] = mapped_column(Text)
    vulnerability_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vulnerability_consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    debt_help_referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_until: Mapped[date | None] = mapped_column(Date)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    called_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Derived state (see class docstring). ``arrears_cents`` is everything still owed
    # on the books (principal, costs, interest); ``credit_cents`` a surplus kept.
    arrears_cents: Mapped[int] = mapped_column(Integer, default=0)
    credit_cents: Mapped[int] = mapped_column(Integer, default=0)
    oldest_due_date: Mapped[date | None] = mapped_column(Date)
    first_time_arrears: Mapped[bool] = mapped_column(Boolean, default=False)
    broken_arrangement: Mapped[bool] = mapped_column(Boolean, default=False)
    missed_instalment: Mapped[bool] = mapped_column(Boolean, default=False)
    queue_bucket: Mapped[int] = mapped_column(SmallInteger, default=9)
    next_step_kind: Mapped[str | None] = mapped_column(String(32))
    next_step_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept by the database (migration 0010's triggers on contact_point), never by the
    # desk: the oldest verification among the usable contact points, NULL when one
    # was never verified or there is none. The team view's stale-contact count.
    contact_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # A hold ("lease") while the customer is open on one agent's desk.
    held_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    contact_points: Mapped[list[ContactPoint]] = relationship(
        back_populates="customer", order_by="ContactPoint.id"
    )
    claims: Mapped[list[Claim]] = relationship(back_populates="customer", order_by="Claim.due_date")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(
            "ix_customer_queue",
            "assigned_agent_id",
            "status",
            "queue_bucket",
            "oldest_due_date",
            "arrears_cents",
        ),
        Index("ix_customer_last_name", "last_name"),
        # One per order the queue offers (migration 0005, services/queue_pages.py).
        Index("ix_customer_team_name", "status", "last_name", "id"),
        Index("ix_customer_team_arrears", "status", "arrears_cents", "id"),
        Index("ix_customer_team_due", "status", "oldest_due_date", "id"),
        Index("ix_customer_team_next_step", "status", "next_step_due_at", "id"),
        Index("ix_customer_team_number", "status", "customer_number"),
        Index("ix_customer_agent_name", "assigned_agent_id", "status", "last_name", "id"),
        Index("ix_customer_agent_arrears", "assigned_agent_id", "status", "arrears_cents", "id"),
        Index("ix_customer_agent_due", "assigned_agent_id", "status", "oldest_due_date", "id"),
        Index(
            "ix_customer_agent_next_step", "assigned_agent_id", "status", "next_step_due_at", "id"
        ),
        Index("ix_customer_agent_number", "assigned_agent_id", "status", "customer_number"),
        # The team view (migration 0010): the stale-contact count, and each agent's
        # open customers and queue in one pass.
        Index("ix_customer_contact_check", "status", "contact_verified_at"),
        # Who is open on a desk now (the reassign preview). SQLite only: on PostgreSQL
        # an index on a hold column would make every claim's update a non-HOT one.
        Index("ix_customer_held", "held_until").ddl_if(dialect="sqlite"),
        Index(
            "ix_customer_team_load",
            "status",
            "assigned_agent_id",
            "queue_bucket",
            "paused_until",
            "next_step_due_at",
        ),
    )

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


# The team's priority order itself, the biggest arrears first within a due date
# (migration 0010): the first page sorts none of the customers due that day.
Index(
    "ix_customer_team_priority",
    Customer.status,
    Customer.queue_bucket,
    Customer.oldest_due_date,
    Customer.arrears_cents.desc(),
    Customer.id,
)


class ContactPoint(Base):
    __tablename__ = "contact_point"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # Normalised: E.164 for phones, lower-case e-mail, one-line address.
    value: Mapped[str] = mapped_column(String(320))
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(16))
    postcode: Mapped[str | None] = mapped_column(String(8), index=True)
    city: Mapped[str | None] = mapped_column(String(100))
    preferred: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_whatsapp: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    verification_source: Mapped[str | None] = mapped_column(String(64))
    invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    invalid_reason: Mapped[str | None] = mapped_column(Text)
    # A message to it bounced; verifying it again (verified_at later) lifts the flag.
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    customer: Mapped[Customer] = relationship(back_populates="contact_points")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_contact_point_value", "value"),
        # The team view's stale-contact count (migration 0005).
        Index("ix_contact_point_freshness", "customer_id", "invalid", "verified_at"),
    )


class Claim(Base):
    """An invoice or contract line in arrears.

    ``principal_cents`` is what the billing system invoiced; what is owed is the sum
    of the claim's ledger entries. ``paid_cents`` caches what payments allocated to
    the claim (all parts) and ``settled_on`` the day nothing was left: both are
    written only by ``services.ledger``.
    """

    __tablename__ = "claim"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    principal_cents: Mapped[int] = mapped_column(Integer)
    paid_cents: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date] = mapped_column(Date)
    settled_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    customer: Mapped[Customer] = relationship(back_populates="claims")

    __mapper_args__ = {"version_id_col": version}
