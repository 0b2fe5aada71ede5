"""The team's rules (policy, rates, scripts, letter texts), one row per saved version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agent_desk.models.base import Base, BigId, UTCDateTime, utcnow


class TeamRule(Base):
    """A version of one team document. Append-only: the highest ``version`` of a
    ``(kind, key)`` is in force; older rows are its history (who, when, why)."""

    __tablename__ = "team_rule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # policy | rates | script | letter
    key: Mapped[str] = mapped_column(String(96))
    version: Mapped[int] = mapped_column(Integer)
    #: The document (TOML, YAML or a letter text); ``None``: back to the shipped one.
    body: Mapped[str | None] = mapped_column(Text)
    #: What the database's guards take from this version (JSON), see services/team_rules.
    guard_values: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "key", "version"),)
