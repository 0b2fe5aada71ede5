"""The fixed vocabularies of the desk: roles, channels, outcomes, next steps.

Stored in the database as their string values so that rows stay readable and a
new code is a data change, not a schema change.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class Language(StrEnum):
    NL = "nl"
    EN = "en"


class Segment(StrEnum):
    CONSUMER = "consumer"
    SELF_EMPLOYED = "self_employed"
    SMALL_BUSINESS = "small_business"


class Trigger(StrEnum):
    """A known reason for arrears that a script can anticipate."""

    DISCOUNT_ENDING = "discount_ending"
    PRICE_CHANGE = "price_change"
    AWAITING_SUPPORT = "awaiting_support"
    INCOME_DROP = "income_drop"


class ContactKind(StrEnum):
    PHONE = "phone"
    MOBILE = "mobile"
    EMAIL = "email"
    ADDRESS = "address"


class Channel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    LETTER = "letter"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"
    CALLBACK_REQUESTED = "callback_requested"
    PROMISE_MADE = "promise_made"
    ARRANGEMENT_MADE = "arrangement_made"
    DISPUTE = "dispute"
    REFERRED_DEBT_HELP = "referred_debt_help"
    PAUSE_REQUESTED = "pause_requested"
    THIRD_PARTY = "third_party"

    @property
    def is_failed_attempt(self) -> bool:
        """No conversation with the customer took place."""
        return self in _FAILED


_FAILED = {Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.WRONG_NUMBER, Outcome.THIRD_PARTY}


class NextStepKind(StrEnum):
    CALLBACK = "callback"
    RETRY = "retry"
    LETTER = "letter"
    WAIT_PAYMENT = "wait_payment"
    PROMISE_CHECK = "promise_check"
    PROMISE_BROKEN = "promise_broken"  # set by the books: call again about it
    INSTALMENT_REMINDER = "instalment_reminder"
    REVIEW = "review"


class TimeOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


class CustomerStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PromiseStatus(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class ArrangementStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class InstalmentStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    MISSED = "missed"
