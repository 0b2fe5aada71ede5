"""The books: dated entries per claim, and the 14-day letters that make costs owed.

Entries are append-only, as in bookkeeping: a balance is the sum of a claim's
entries per ``part``; a correction is a new entry that offsets an old one. See
``agent_desk.domain.ledger`` for the rules and ``docs/money.md`` for why.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agent_desk.models.base import Base, BigId, UTCDateTime, utcnow

# Sums of many entries: 64-bit on PostgreSQL (SQLite integers are 64-bit anyway).
BigCents = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEntry(Base):
    """One booking on a claim (or, for ``part == "credit"``, on the customer).

    ``amount_cents`` is signed: positive makes the ``part`` owed grow (principal
    invoiced, costs or interest booked; credit kept), negative makes it shrink (a
    payment allocated to it, a waiver, a correction, credit used).
    """

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # EntryKind
    part: Mapped[str] = mapped_column(String(16))  # Part
    amount_cents: Mapped[int] = mapped_column(BigCents)
    booked_on: Mapped[date] = mapped_column(Date)  # the day it takes effect
    # Interest entries: interest accrued up to (not including) this day.
    interest_through: Mapped[date | None] = mapped_column(Date)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"))
    arrangement_id: Mapped[int | None] = mapped_column(ForeignKey("arrangement.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("demand_notice.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_ledger_entry_customer_claim", "customer_id", "claim_id"),
        Index("ix_ledger_entry_claim_part", "claim_id", "part"),
        Index("ix_ledger_entry_payment_id", "payment_id"),
    )


class DemandNotice(Base):
    """A 14-day letter (art. 6:96 lid 6 BW) that went out, and what became of it.

    ``term_ends`` is the last day the customer may pay without costs; costs become
    owed from the day after, over what the letter named and is still unpaid.
    """

    __tablename__ = "demand_notice"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter_sent.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    sent_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))  # post | email
    received_on: Mapped[date] = mapped_column(Date)  # by the receipt convention
    term_ends: Mapped[date] = mapped_column(Date, index=True)
    principal_named_cents: Mapped[int] = mapped_column(BigCents)
    costs_named_cents: Mapped[int] = mapped_column(BigCents)
    vat_named_cents: Mapped[int] = mapped_column(BigCents, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    settled_on: Mapped[date | None] = mapped_column(Date)  # paid in term, or costs booked
    costs_booked_cents: Mapped[int] = mapped_column(BigCents, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemandNoticeClaim(Base):
    """A claim a 14-day letter named, with the amount it named for it."""

    __tablename__ = "demand_notice_claim"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("demand_notice.id", ondelete="CASCADE"), primary_key=True
    )
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True
    )
    principal_named_cents: Mapped[int] = mapped_column(BigCents)
