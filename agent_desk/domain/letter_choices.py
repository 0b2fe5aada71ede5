"""Which letters the desk offers for a customer (F6), and when a letter is recorded.

Decided here, not in the letters dialog:

* **Which kinds apply** (:func:`letter_options`), in the order offered: an arrangement
  confirmation only for an arrangement that may be confirmed (the newest one says why
  not); a 14-day letter only with arrears and not during a pause; a pause confirmation
  only during a pause; the debt-help referral always.
* **Which arrangement is confirmed** by default (:func:`default_arrangement`): the
  newest one that may be.
* **Recorded once** (:class:`RecordedLetters`): the same PDF (by its SHA-256) is
  recorded once as sent; printing it again, or saving a printed letter, records
  nothing new; printing a letter that was only saved records it as printed.
* **What a saved PDF starts**: nothing; a 14-day letter's term starts only when it is
  printed (:data:`STARTS_A_TERM`).
* **What else may be done with it**: only a confirmation is e-mailed
  (:data:`EMAILABLE`); a letter is written in the customer's language, Dutch unless it
  is English (:func:`letter_language`).

Why-nots are :class:`~agent_desk.domain.arrangement_plan.Message` ids with values, so
the desk says them in its language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from agent_desk.domain.arrangement_plan import Message
from agent_desk.i18n import N_

__all__ = [
    "EMAILABLE",
    "LETTER_KINDS",
    "SENT_DELIVERIES",
    "STARTS_A_TERM",
    "ArrangementChoice",
    "LetterOption",
    "RecordedLetters",
    "default_arrangement",
    "is_paused",
    "letter_language",
    "letter_options",
    "newest_first",
]

Kind = Literal["arrangement", "fourteen_day", "pause", "debt_help"]
#: The kinds, in the order the desk offers them.
LETTER_KINDS: tuple[Kind, ...] = ("arrangement", "fourteen_day", "pause", "debt_help")
#: Only the arrangement confirmation is sent by e-mail (with its PDF).
EMAILABLE: frozenset[str] = frozenset({"arrangement"})
#: Kinds whose term starts when the letter is sent (printed), not when it is saved.
STARTS_A_TERM: frozenset[str] = frozenset({"fourteen_day"})
#: How a letter leaves that counts as sent (a saved PDF is not sent).
SENT_DELIVERIES: frozenset[str] = frozenset({"printed", "emailed"})


def _say(message_id: str, /, **values: Any) -> Message:
    return Message(message_id, values)


@dataclass(frozen=True)
class ArrangementChoice:
    """An arrangement of the customer, and why it gets no confirmation (None: it may)."""

    id: int
    created_at: datetime
    why_not: Message | None = None


@dataclass(frozen=True)
class LetterOption:
    kind: Kind
    why_not: Message | None = None  # None: the letter can be made

    @property
    def available(self) -> bool:
        return self.why_not is None


def is_paused(paused_until: date | None, today: date) -> bool:
    """Collection is paused up to and including ``paused_until``."""
    return paused_until is not None and paused_until >= today


def newest_first(arrangements: Iterable[ArrangementChoice]) -> list[ArrangementChoice]:
    return sorted(arrangements, key=lambda a: (a.created_at, a.id), reverse=True)


def default_arrangement(arrangements: Iterable[ArrangementChoice]) -> ArrangementChoice | None:
    """The newest arrangement that may be confirmed: the one a confirmation is made for."""
    return next((a for a in newest_first(arrangements) if a.why_not is None), None)


def letter_options(
    *,
    today: date,
    arrears_cents: int,
    paused_until: date | None,
    arrangements: Sequence[ArrangementChoice],
) -> list[LetterOption]:
    """Every kind in order, each with why it cannot be made for this customer (or None)."""
    paused = is_paused(paused_until, today)
    options: list[LetterOption] = []
    for kind in LETTER_KINDS:
        why: Message | None = None
        if kind == "arrangement" and not arrangements:
            why = _say(N_("No arrangement yet"))
        elif kind == "arrangement" and default_arrangement(arrangements) is None:
            why = newest_first(arrangements)[0].why_not or _say(N_("No active arrangement"))
        elif kind == "fourteen_day":
            if arrears_cents <= 0:
                why = _say(N_("No arrears, so there is nothing to remind about"))
            elif paused and paused_until is not None:
                why = _say(
                    N_("Collection is paused until {date}: no reminders during a pause"),
                    date=paused_until,
                )
        elif kind == "pause" and not paused:
            why = _say(N_("Collection is not paused"))
        options.append(LetterOption(kind, why))
    return options


def letter_language(customer_language: str | None) -> Literal["en", "nl"]:
    """The language a letter is written in: English for an English customer, else Dutch."""
    return "en" if customer_language == "en" else "nl"


@dataclass
class RecordedLetters:
    """The letters recorded from one dialog, by the SHA-256 of their PDF."""

    deliveries: dict[str, str] = field(default_factory=dict)

    def recorded(self, sha256: str) -> bool:
        """Recorded before (printed, e-mailed or saved): saving it again is only a copy."""
        return sha256 in self.deliveries

    def sent(self, sha256: str) -> bool:
        """Recorded as sent: printing it again records nothing new."""
        return self.deliveries.get(sha256) in SENT_DELIVERIES

    def remember(self, sha256: str, delivery: str) -> None:
        """Keep how it was recorded; once sent it stays sent (a later save is a copy)."""
        if not self.sent(sha256):
            self.deliveries[sha256] = delivery
