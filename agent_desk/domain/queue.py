"""Who comes first in an agent's queue, and why.

Order (documented in the README):
1. a callback or promise check that is due now;
2. customers who called in and wait for an answer;
3. a broken arrangement, a missed instalment or a broken promise to pay;
4. first-time arrears (reach them early, before it grows);
5. everyone else;
and within each group: most days past due first, then the highest arrears.

Left out: closed customers, customers whose collection is paused, and customers whose
next step lies in the future. One customer has one assigned agent, so no customer
is ever in two queues.

``bucket`` is stored on the customer row by the services (recomputed in every
transaction that changes the customer), so the database sorts with one index;
``sort_key`` is the same order in Python, and the db tests check both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum

from babel.dates import format_date

from agent_desk.domain.codes import NextStepKind
from agent_desk.domain.team_day import local_day
from agent_desk.i18n import N_, Translator


class Bucket(IntEnum):
    DUE_CALLBACK = 0
    CALLED_IN = 1
    BROKEN = 2
    FIRST_TIME = 3
    ARREARS = 4
    NOT_IN_QUEUE = 9


_CALLBACK_KINDS = {NextStepKind.CALLBACK, NextStepKind.PROMISE_CHECK}


@dataclass(frozen=True)
class QueueFacts:
    """What the queue needs to know of one customer."""

    open: bool
    arrears_cents: int
    oldest_due_date: date | None
    first_time_arrears: bool = False
    broken_arrangement: bool = False
    missed_instalment: bool = False
    called_in: bool = False
    next_step_kind: str | None = None
    next_step_due_at: datetime | None = None
    paused_until: date | None = None
    contact_stale: bool = False  # a contact point never or not recently verified
    reminder: tuple[int, date] | None = None  # (instalment number, due date) to remind of
    #: An early signal to the municipality is due (``domain.signals``). A reason only:
    #: it does not change the bucket (so ``services.db_rules``' table is unaffected).
    signal_due: bool = False


def bucket(facts: QueueFacts) -> Bucket:
    """The group a customer belongs to, independent of the clock."""
    if not facts.open:
        return Bucket.NOT_IN_QUEUE
    if facts.next_step_kind in _CALLBACK_KINDS:
        return Bucket.DUE_CALLBACK
    if facts.called_in:
        return Bucket.CALLED_IN
    if (
        facts.broken_arrangement
        or facts.missed_instalment
        or facts.next_step_kind == NextStepKind.PROMISE_BROKEN
    ):
        return Bucket.BROKEN
    if facts.first_time_arrears:
        return Bucket.FIRST_TIME
    return Bucket.ARREARS


def in_queue(facts: QueueFacts, now: datetime) -> bool:
    if bucket(facts) is Bucket.NOT_IN_QUEUE:
        return False
    if facts.paused_until is not None and facts.paused_until >= local_day(now):
        return False
    return facts.next_step_due_at is None or facts.next_step_due_at <= now


def sort_key(facts: QueueFacts) -> tuple[int, date, int]:
    """Ascending sort key: group, oldest due date first, larger arrears first."""
    return (int(bucket(facts)), facts.oldest_due_date or date.max, -facts.arrears_cents)


@dataclass(frozen=True)
class Reason:
    """Why a customer is where they are: a message id and its values."""

    message: str
    params: tuple[tuple[str, str | int | date], ...] = ()

    def text(self, translate: Translator) -> str:
        values = {
            name: _day(value, translate.lang) if isinstance(value, date) else value
            for name, value in self.params
        }
        return translate(self.message, **values)


def _day(value: date, lang: str) -> str:
    """A due date as people say it: "Friday 27 Nov" / "vrijdag 27 nov"."""
    return format_date(value, "EEEE d MMM", locale="nl_NL" if lang == "nl" else "en_GB")


def reasons(facts: QueueFacts, now: datetime, *, local_time: str | None = None) -> list[Reason]:
    """Plain-words reasons, most important first (e.g. "callback 14:00")."""
    found: list[Reason] = []
    kind = facts.next_step_kind
    if kind == NextStepKind.CALLBACK:
        when = local_time or (
            facts.next_step_due_at.strftime("%H:%M") if facts.next_step_due_at else ""
        )
        found.append(Reason(N_("callback {time}"), (("time", when),)))
    elif kind == NextStepKind.PROMISE_CHECK:
        found.append(Reason(N_("check promise to pay")))
    elif kind == NextStepKind.PROMISE_BROKEN:
        found.append(Reason(N_("promise to pay broken")))
    elif kind == NextStepKind.INSTALMENT_REMINDER and facts.reminder is not None:
        number, due = facts.reminder
        found.append(
            Reason(N_("remind: instalment {number} due {day}"), (("number", number), ("day", due)))
        )
    elif kind == NextStepKind.INSTALMENT_REMINDER:
        found.append(Reason(N_("remind of next instalment")))
    if facts.called_in:
        found.append(Reason(N_("called in")))
    if facts.broken_arrangement:
        found.append(Reason(N_("broken arrangement")))
    elif facts.missed_instalment:
        found.append(Reason(N_("missed instalment")))
    if facts.signal_due:
        found.append(Reason(N_("signal to the municipality due")))
    if facts.first_time_arrears:
        found.append(Reason(N_("first time in arrears")))
    if facts.contact_stale:
        found.append(Reason(N_("contact details out of date")))
    if facts.oldest_due_date is not None:
        days = days_past_due(facts.oldest_due_date, local_day(now))
        if days > 0:
            found.append(Reason(N_("{days} days past due"), (("days", days),)))
    return found


def days_past_due(oldest_due_date: date, today: date) -> int:
    return max(0, (today - oldest_due_date).days)


@dataclass(frozen=True)
class ClaimHistory:
    due_date: date
    settled_on: date | None


def is_first_time_arrears(
    claims: list[ClaimHistory], *, earlier_promises: int, earlier_arrangements: int
) -> bool:
    """First time in arrears: nothing open before, no claim ever settled late, and no
    earlier promise or arrangement. Derived from history, never typed in."""
    if earlier_promises or earlier_arrangements:
        return False
    open_claims = [c for c in claims if c.settled_on is None]
    if not open_claims:
        return False
    return not any(c.settled_on is not None and c.settled_on > c.due_date for c in claims)
