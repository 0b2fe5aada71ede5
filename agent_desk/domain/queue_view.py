"""What a queue view asks for (whose queue, search, order) and the rows it shows.

Plain values (no SQLAlchemy), so the desk's window is built with them before the
database libraries are loaded; ``services.queue`` reads them and re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from agent_desk.domain import queue as queue_rules


class QueueSort(StrEnum):
    PRIORITY = "priority"
    NAME = "name"
    ARREARS = "arrears"
    DAYS_PAST_DUE = "days_past_due"
    NEXT_STEP = "next_step"
    CUSTOMER_NUMBER = "customer_number"


@dataclass(frozen=True)
class QueueScope:
    """Whose queue: one agent's, or (``agent_id=None``) the whole team's."""

    agent_id: int | None
    search: str = ""
    sort: QueueSort = QueueSort.PRIORITY
    descending: bool = False
    include_waiting: bool = False  # also show customers whose next step is later


class QueueRow(NamedTuple):
    """One row of a queue page: plain, immutable values.

    A named tuple rather than a frozen dataclass: a page builds hundreds of them on
    every scroll, and a tuple is made in one step where a frozen dataclass sets each
    of its sixteen fields through ``object.__setattr__`` (issue 17).
    """

    customer_id: int
    customer_number: str
    name: str
    arrears_cents: int
    oldest_due_date: date | None
    bucket: int
    reasons: tuple[queue_rules.Reason, ...]
    next_step_kind: str | None
    next_step_due_at: datetime | None
    best_time: str | None
    vulnerable: bool
    paused_until: date | None
    assigned_agent_id: int | None
    held_by_agent_id: int | None
    version: int
    contact_stale: bool = False
