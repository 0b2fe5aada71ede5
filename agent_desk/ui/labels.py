"""Words for codes, amounts, dates and freshness, in the desk's language.

Codes are stored as English identifiers (``no_answer``); the desk shows them as
translated labels. Kept in one place so every widget says the same thing.
"""

from __future__ import annotations

from datetime import date, datetime

from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome, TimeOfDay
from agent_desk.domain.money import format_money
from agent_desk.domain.verification import DEFAULT_INTERVAL_DAYS
from agent_desk.i18n import N_, Translator

OUTCOMES: dict[str, str] = {
    Outcome.REACHED: N_("reached the customer"),
    Outcome.NO_ANSWER: N_("no answer"),
    Outcome.VOICEMAIL: N_("voicemail"),
    Outcome.WRONG_NUMBER: N_("wrong number"),
    Outcome.REFUSED: N_("refused to talk"),
    Outcome.CALLBACK_REQUESTED: N_("callback requested"),
    Outcome.PROMISE_MADE: N_("promise made"),
    Outcome.ARRANGEMENT_MADE: N_("arrangement made"),
    Outcome.DISPUTE: N_("disputes the claim"),
    Outcome.REFERRED_DEBT_HELP: N_("referred to debt help"),
    Outcome.PAUSE_REQUESTED: N_("asked for a pause"),
    Outcome.THIRD_PARTY: N_("spoke to someone else"),
}
CHANNELS: dict[str, str] = {
    Channel.PHONE: N_("phone"),
    Channel.SMS: N_("text message"),
    Channel.WHATSAPP: N_("WhatsApp"),
    Channel.EMAIL: N_("e-mail"),
    Channel.LETTER: N_("letter"),
}
CHANNEL_ICONS: dict[str, str] = {
    Channel.PHONE: "☎",
    Channel.SMS: "✉",
    Channel.WHATSAPP: "✉",
    Channel.EMAIL: "✉",
    Channel.LETTER: "✉",
}
DIRECTIONS: dict[str, str] = {
    Direction.OUTBOUND: N_("outgoing"),
    Direction.INBOUND: N_("incoming"),
}
NEXT_STEPS: dict[str, str] = {
    NextStepKind.CALLBACK: N_("call back"),
    NextStepKind.RETRY: N_("try again"),
    NextStepKind.LETTER: N_("send a letter"),
    NextStepKind.WAIT_PAYMENT: N_("wait for payment"),
    NextStepKind.PROMISE_CHECK: N_("check promise"),
    NextStepKind.INSTALMENT_REMINDER: N_("instalment reminder"),
    NextStepKind.REVIEW: N_("review"),
    NextStepKind.PROMISE_BROKEN: N_("call about the broken promise"),
}
# What an agent may choose as the next step after a contact.
CHOOSABLE_STEPS = (
    NextStepKind.RETRY,
    NextStepKind.CALLBACK,
    NextStepKind.LETTER,
    NextStepKind.WAIT_PAYMENT,
)
TIMES_OF_DAY: dict[str, str] = {
    TimeOfDay.MORNING: N_("mornings"),
    TimeOfDay.AFTERNOON: N_("afternoons"),
    TimeOfDay.EVENING: N_("evenings"),
}
CONTACT_KINDS: dict[str, str] = {
    "phone": N_("phone"),
    "mobile": N_("mobile"),
    "email": N_("e-mail"),
    "address": N_("address"),
}
CONTACT_ICONS = {"phone": "☎", "mobile": "☎", "email": "✉", "address": "⌂"}
PROMISE_STATUS: dict[str, str] = {
    "open": N_("promise to pay {amount} by {date}"),
    "kept": N_("promise kept: {amount} by {date}"),
    "broken": N_("promise broken: {amount} by {date}"),
}
ARRANGEMENT_STATUS: dict[str, str] = {
    "pending_approval": N_("arrangement waiting for approval"),
    "active": N_("arrangement active"),
    "completed": N_("arrangement completed"),
    "broken": N_("arrangement broken"),
    "declined": N_("arrangement declined"),
    "cancelled": N_("arrangement cancelled"),
}
MONTHS = (
    N_("Jan"),
    N_("Feb"),
    N_("Mar"),
    N_("Apr"),
    N_("May"),
    N_("Jun"),
    N_("Jul"),
    N_("Aug"),
    N_("Sep"),
    N_("Oct"),
    N_("Nov"),
    N_("Dec"),
)
# The verification policy's interval: older contact data is shown as out of date.
STALE_AFTER_DAYS = DEFAULT_INTERVAL_DAYS


class Words:
    """Formatting helpers bound to one translator."""

    def __init__(self, tr: Translator) -> None:
        self.tr = tr
        self.lang = tr.lang

    def code(self, table: dict[str, str], code: str | None) -> str:
        if not code:
            return ""
        message = table.get(code)
        return self.tr(message) if message else code.replace("_", " ")

    def money(self, cents: int) -> str:
        return format_money(cents, self.lang)

    def day(self, value: date) -> str:
        """Short date: "12 Mar", with the year when it is not this year."""
        text = f"{value.day} {self.tr(MONTHS[value.month - 1])}"
        return text if value.year == date.today().year else f"{text} {value.year}"

    def moment(self, value: datetime) -> str:
        local = value.astimezone()
        return f"{self.day(local.date())} {local:%H:%M}"

    def freshness(self, verified_at: datetime | None, now: datetime) -> tuple[str, bool]:
        """("verified 12 Mar", stale?) — stale contact data needs checking before use."""
        if verified_at is None:
            return self.tr("never verified"), True
        days = (now - verified_at).days
        if days > STALE_AFTER_DAYS:
            text = self.tr.n(
                "not verified for {days} day", "not verified for {days} days", days, days=days
            )
            return text, True
        return self.tr("verified {date}", date=self.day(verified_at.astimezone().date())), False
