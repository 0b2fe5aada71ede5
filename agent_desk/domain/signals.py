"""Early signals to the municipality (vroegsignalering): when a customer is reportable (pure).

Besluit gemeentelijke schuldhulpverlening art. 2 (Stb. 2020-240): the creditor sends
the municipality the debtor's contact details and the arrears once it has

(a) tried to make personal contact about ways to end the arrears,
(b) pointed the debtor to debt help,
(c) sent at least one written reminder, and
(d) in that reminder offered to pass the details on, and the debtor did not object.

The team adds two thresholds as data (the creditor profile): a minimum arrears (e.g.
one month's rent) and a waiting period after the reminder, so the debtor has time to
object. Everything counts for the current arrears only: a contact, referral or
reminder from before the oldest unpaid due date belongs to earlier arrears.
A signal already sent for the current arrears is not sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from agent_desk.domain.money import cents_to_str
from agent_desk.i18n import N_


class Condition(StrEnum):
    DUTY = "duty"
    OPEN = "open"
    MIN_ARREARS = "min_arrears"
    CONTACT = "contact"  # (a)
    DEBT_HELP = "debt_help"  # (b)
    REMINDER = "reminder"  # (c)
    OFFER = "offer"  # (d)
    NO_OBJECTION = "no_objection"
    WAITED = "waited"
    NOT_SENT = "not_sent"


#: What is missing, in words for the desk and the CLI.
MISSING: dict[Condition, str] = {
    Condition.DUTY: N_("the creditor's sector has no early-signal duty"),
    Condition.OPEN: N_("the customer has nothing open"),
    Condition.MIN_ARREARS: N_("the arrears are below the minimum"),
    Condition.CONTACT: N_("no personal contact tried since the arrears began"),
    Condition.DEBT_HELP: N_("not yet pointed to debt help"),
    Condition.REMINDER: N_("no written reminder sent"),
    Condition.OFFER: N_("no reminder offered to pass the details on"),
    Condition.NO_OBJECTION: N_("the customer objected"),
    Condition.WAITED: N_("the waiting period after the reminder has not passed"),
    Condition.NOT_SENT: N_("a signal was already sent for these arrears"),
}


@dataclass(frozen=True)
class SignalFacts:
    """What the rule needs to know of one customer, on ``today``."""

    today: date
    duty: bool
    open: bool
    arrears_cents: int
    min_arrears_cents: int
    wait_days: int
    #: The oldest unpaid due date: the current arrears began the day after.
    arrears_since: date | None
    #: Days of the events, each the latest on or after ``arrears_since``.
    contact_on: date | None = None
    debt_help_on: date | None = None
    reminder_on: date | None = None  # any written reminder (14-day letter) sent
    offer_on: date | None = None  # a reminder that offered to pass the details on
    #: The customer objects (the latest record is an objection, not a withdrawal).
    objected_on: date | None = None
    #: The last signal sent for this customer.
    signal_sent_on: date | None = None


@dataclass(frozen=True)
class Reportability:
    due: bool
    #: The day the last condition came true (the waiting period included).
    since: date | None
    missing: tuple[Condition, ...]
    #: The conditions met, with their day, for "why" in the due list.
    met: tuple[tuple[Condition, date | None], ...]

    def why(self) -> str:
        """A one-line account for the due list (machine words, stable for scripts)."""
        parts = []
        for condition, day in self.met:
            parts.append(f"{condition.value} {day.isoformat()}" if day else condition.value)
        return "; ".join(parts)


def _current(day: date | None, since: date | None) -> date | None:
    if day is None or since is None:
        return None
    return day if day >= since else None


def reportability(facts: SignalFacts) -> Reportability:
    """Whether a signal to the municipality is due for this customer, and since when."""
    missing: list[Condition] = []
    met: list[tuple[Condition, date | None]] = []
    if not facts.duty:
        missing.append(Condition.DUTY)
    if not facts.open or facts.arrears_since is None or facts.arrears_cents <= 0:
        missing.append(Condition.OPEN)
    if facts.arrears_cents < max(1, facts.min_arrears_cents):
        missing.append(Condition.MIN_ARREARS)
    else:
        met.append((Condition.MIN_ARREARS, None))
    start = facts.arrears_since
    dated = (
        (Condition.CONTACT, _current(facts.contact_on, start)),
        (Condition.DEBT_HELP, _current(facts.debt_help_on, start)),
        (Condition.REMINDER, _current(facts.reminder_on, start)),
        (Condition.OFFER, _current(facts.offer_on, start)),
    )
    for condition, day in dated:
        if day is None:
            missing.append(condition)
        else:
            met.append((condition, day))
    if facts.objected_on is not None:
        missing.append(Condition.NO_OBJECTION)
    offer = dict(dated)[Condition.OFFER]
    waited_from = offer + timedelta(days=facts.wait_days) if offer is not None else None
    if waited_from is not None:
        if waited_from > facts.today:
            missing.append(Condition.WAITED)
        else:
            met.append((Condition.WAITED, waited_from))
    if facts.signal_sent_on is not None and start is not None and facts.signal_sent_on >= start:
        missing.append(Condition.NOT_SENT)
    if missing:
        return Reportability(False, None, tuple(missing), tuple(met))
    days = [d for _, d in met if d is not None]
    return Reportability(True, max(days) if days else facts.today, (), tuple(met))


def arrears_text(cents: int) -> str:
    return cents_to_str(cents)
