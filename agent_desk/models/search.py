"""The normalised keys customers are found by (``domain.search_keys``)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from agent_desk.models.base import Base, BigId

# Byte order on both engines, so "keys from 'hu' up to 'hv'" is exactly the keys
# starting with "hu" and one index range scan finds them (SQLite's default is binary).
KeyText = String(200).with_variant(String(200, collation="C"), "postgresql")


class CustomerSearchKey(Base):
    """One key of one customer: (field, key) is what a search compares by prefix.

    A cache of the customer's own rows (name, number, contact points, claims),
    rewritten by ``services.search_index`` in the transaction that changes them.
    """

    __tablename__ = "customer_search_key"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(KeyText, primary_key=True)

    __table_args__ = (Index("ix_customer_search_key_lookup", "field", "key", "customer_id"),)
