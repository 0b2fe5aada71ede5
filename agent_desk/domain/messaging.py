"""Messages to customers as data: kinds, templates, SMS segments and the template check.

The wording lives in ``resources/messages/<language>.toml`` (B1, u-form), one table per
kind and channel, so a supervisor changes text without a release. Every template is
checked (``agent-desk messages check``, and at load time by the sender):

* it names only the placeholders its kind may fill;
* an SMS fits the channel's segment budget (GSM 03.38: 160 characters in one part, 153
  per part when concatenated; one character outside the GSM-7 alphabet makes the whole
  text UCS-2: 70, or 67 per part);
* an SMS is *identity-safe*: a lock screen or a housemate sees it, so it carries no
  amount, no due date, no claim and none of the words that say "debt" — only that we
  would like to hear from the customer, how to reach us, and the payment link at the
  very end (after the part a lock screen shows).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent_desk.errors import ValidationError
from agent_desk.resources import read_text


class MessageKind(StrEnum):
    ARRANGEMENT_CONFIRMATION = "arrangement-confirmation"
    INSTALMENT_REMINDER = "instalment-reminder"
    MISSED_INSTALMENT = "missed-instalment"
    PROMISE_REMINDER = "promise-reminder"
    MISSED_CALL = "missed-call"
    ANNOUNCEMENT = "announcement"
    FREE_TEXT = "free-text"


class MessageChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageStatus(StrEnum):
    """Where a message is. ``handed_over``: the gateway may have it (crash window)."""

    QUEUED = "queued"
    SENDING = "sending"
    HANDED_OVER = "handed_over"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    CANCELLED = "cancelled"
    IN_DOUBT = "in_doubt"


#: Statuses that count as "a message reached the gateway" (frequency cap, timeline).
OUT_STATUSES = frozenset(
    {
        MessageStatus.HANDED_OVER,
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.IN_DOUBT,
        MessageStatus.BOUNCED,
    }
)
FINAL_STATUSES = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
        MessageStatus.BOUNCED,
        MessageStatus.CANCELLED,
        MessageStatus.IN_DOUBT,
    }
)

#: What each kind may fill in, besides the ones every message has.
COMMON_PLACEHOLDERS = frozenset(
    {"salutation", "creditor", "phone", "hours", "payment_link", "agent", "website"}
)
KIND_PLACEHOLDERS: dict[MessageKind, frozenset[str]] = {
    MessageKind.ARRANGEMENT_CONFIRMATION: frozenset(
        {"reference", "total", "instalments", "first_due", "first_amount"}
    ),
    MessageKind.INSTALMENT_REMINDER: frozenset({"reference", "due_date", "amount"}),
    MessageKind.MISSED_INSTALMENT: frozenset({"reference", "due_date", "amount"}),
    MessageKind.PROMISE_REMINDER: frozenset({"due_date", "amount"}),
    MessageKind.MISSED_CALL: frozenset(),
    MessageKind.ANNOUNCEMENT: frozenset({"when"}),
    MessageKind.FREE_TEXT: frozenset({"text"}),
}
#: Placeholders an SMS never carries: each tells a reader of the lock screen about money.
SMS_FORBIDDEN_PLACEHOLDERS = frozenset(
    {"reference", "total", "instalments", "first_due", "first_amount", "due_date", "amount"}
)
#: Words an SMS never contains (lower case, whole words), per language.
SMS_FORBIDDEN_WORDS = (
    "schuld",
    "schulden",
    "achterstand",
    "betalingsachterstand",
    "incasso",
    "deurwaarder",
    "openstaand",
    "termijn",
    "regeling",
    "betalingsregeling",
    "aanmaning",
    "debt",
    "debts",
    "arrears",
    "overdue",
    "collection",
    "instalment",
    "arrangement",
    "bailiff",
    "owe",
    "owed",
)
#: Longest SMS text, in segments (a supervisor may lower it; gateways cap at ~9).
SMS_MAX_SEGMENTS = 3
#: Longest e-mail subject, characters (RFC 5322 recommends lines under 78).
EMAIL_SUBJECT_MAX = 78
EMAIL_BODY_MAX = 10_000
FREE_TEXT_MAX = 1_000

# GSM 03.38 default alphabet and its extension table (the extension costs two septets).
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = "^{}\\[~]|€\f"
GSM_BASIC = frozenset(_GSM_BASIC)
GSM_EXTENDED = frozenset(_GSM_EXTENDED)


@dataclass(frozen=True)
class SmsLength:
    """How an SMS text travels: its encoding, length in units and number of parts."""

    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # room in each part (160/153 or 70/67)
    characters: int

    @property
    def remaining(self) -> int:
        """Units left in the last part before one more part is needed."""
        return self.segments * self.per_segment - self.units


def sms_length(text: str) -> SmsLength:
    """Segments of ``text`` as the network counts them (GSM-7 unless a character is not)."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SmsLength(encoding, units, 1 if units else 0, single, len(text))
    segments = -(-units // multi)
    return SmsLength(encoding, units, segments, multi, len(text))


@dataclass(frozen=True)
class Template:
    kind: MessageKind
    channel: MessageChannel
    language: str
    subject: str  # e-mail only; "" for SMS
    body: str
    version: str

    @property
    def placeholders(self) -> set[str]:
        return _names(self.subject) | _names(self.body)


@dataclass(frozen=True)
class TemplateProblem:
    where: str  # "nl/missed-call.sms"
    message: str


def _names(text: str) -> set[str]:
    try:
        return {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
    except ValueError:
        return {"{"}  # an unclosed bracket: reported by the check


def allowed_placeholders(kind: MessageKind) -> frozenset[str]:
    return COMMON_PLACEHOLDERS | KIND_PLACEHOLDERS[kind]


#: Values a check fills in to measure an SMS: the longest a real message would carry.
SAMPLE_VALUES: dict[str, str] = {
    "salutation": "Geachte heer Van den Berg-Oudshoorn",
    "creditor": "Woonstichting De Linde",
    "phone": "030 123 45 67",
    "hours": "ma-vr 8.30-17.00",
    "payment_link": "https://betalen.delinde.example/100234-17?bedrag=1234.56",
    "agent": "Sanne de Vries",
    "website": "www.delinde.example",
    "reference": "AD-100234-17",
    "total": "€ 1.234,56",
    "instalments": "12",
    "first_due": "1 januari 2027",
    "first_amount": "€ 102,88",
    "due_date": "1 januari 2027",
    "amount": "€ 102,88",
    "when": "dinsdag 12 januari",
    "text": "x" * 120,
}


def check_template(template: Template) -> list[TemplateProblem]:
    """Every way ``template`` breaks the rules of its kind and channel."""
    where = f"{template.language}/{template.kind.value}.{template.channel.value}"
    problems: list[TemplateProblem] = []
    names = template.placeholders
    if "{" in names:
        problems.append(TemplateProblem(where, "a curly bracket is not closed"))
        return problems
    for name in sorted(names - allowed_placeholders(template.kind)):
        problems.append(TemplateProblem(where, f"{{{name}}} is not a placeholder of this kind"))
    if not template.body.strip():
        problems.append(TemplateProblem(where, "the text is empty"))
    if template.kind is MessageKind.FREE_TEXT and "text" not in names:
        problems.append(TemplateProblem(where, "a free text must contain {text}"))
    if "payment_link" not in names:
        problems.append(TemplateProblem(where, "the message has no {payment_link}"))
    if template.channel is MessageChannel.EMAIL:
        if not template.subject.strip():
            problems.append(TemplateProblem(where, "an e-mail needs a subject"))
        if len(fill(template.subject, SAMPLE_VALUES)) > EMAIL_SUBJECT_MAX:
            problems.append(
                TemplateProblem(where, f"the subject is longer than {EMAIL_SUBJECT_MAX}")
            )
        if "\n" in template.subject:
            problems.append(TemplateProblem(where, "the subject must be one line"))
        if len(template.body) > EMAIL_BODY_MAX:
            problems.append(TemplateProblem(where, f"the text is longer than {EMAIL_BODY_MAX}"))
        return problems
    # SMS: identity-safe and short.
    if template.subject:
        problems.append(TemplateProblem(where, "an SMS has no subject"))
    for name in sorted(names & SMS_FORBIDDEN_PLACEHOLDERS):
        problems.append(TemplateProblem(where, f"an SMS must not carry {{{name}}} (lock screen)"))
    words = set(re.findall(r"[a-zà-ÿ]+", template.body.lower()))
    for word in SMS_FORBIDDEN_WORDS:
        if word in words:
            problems.append(TemplateProblem(where, f"an SMS must not say '{word}' (lock screen)"))
    if "payment_link" in names and not template.body.rstrip().endswith("{payment_link}"):
        problems.append(TemplateProblem(where, "in an SMS the {payment_link} comes last"))
    sample = {**SAMPLE_VALUES, "text": "x" * 160}
    body = fill(template.body, sample)
    length = sms_length(body)
    if length.segments > SMS_MAX_SEGMENTS:
        problems.append(
            TemplateProblem(
                where,
                f"the SMS needs {length.segments} parts ({length.encoding}); "
                f"at most {SMS_MAX_SEGMENTS}",
            )
        )
    return problems


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders filled (unknown ones stay as they are)."""

    class _Keep(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return text.format_map(_Keep(values))


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class TemplateSet:
    templates: Mapping[tuple[str, MessageKind, MessageChannel], Template]

    def get(self, language: str, kind: MessageKind, channel: MessageChannel) -> Template:
        found = self.templates.get((language, kind, channel)) or self.templates.get(
            ("nl", kind, channel)
        )
        if found is None:
            raise ValidationError(
                "There is no {channel} text for '{kind}' messages.",
                "channel",
                channel=channel.value,
                kind=kind.value,
            )
        return found

    def channels_for(self, kind: MessageKind) -> list[MessageChannel]:
        return sorted({c for (_, k, c) in self.templates if k is kind})

    def problems(self) -> list[TemplateProblem]:
        found: list[TemplateProblem] = []
        for template in self.templates.values():
            found.extend(check_template(template))
        languages = {lang for (lang, _, _) in self.templates}
        for lang in sorted(languages):
            for kind in MessageKind:
                for channel in MessageChannel:
                    if kind is MessageKind.ARRANGEMENT_CONFIRMATION and channel is (
                        MessageChannel.SMS
                    ):
                        continue
                    if (lang, kind, channel) not in self.templates:
                        found.append(
                            TemplateProblem(
                                f"{lang}/{kind.value}.{channel.value}", "the text is missing"
                            )
                        )
        return found


LANGUAGES = ("nl", "en")


def parse_templates(language: str, raw: Mapping[str, Any]) -> list[Template]:
    version = str(raw.get("version", "1"))
    out: list[Template] = []
    for key, channels in raw.items():
        if key == "version":
            continue
        try:
            kind = MessageKind(key)
        except ValueError:
            raise ValidationError(
                "The message texts name an unknown kind '{kind}'.", "kind", kind=key
            ) from None
        if not isinstance(channels, Mapping):
            raise ValidationError("The message texts for '{kind}' are not a table.", kind=key)
        for channel_key, fields in channels.items():
            try:
                channel = MessageChannel(channel_key)
            except ValueError:
                raise ValidationError(
                    "The message texts name an unknown channel '{channel}'.",
                    "channel",
                    channel=channel_key,
                ) from None
            out.append(
                Template(
                    kind,
                    channel,
                    language,
                    str(fields.get("subject", "")).strip(),
                    str(fields.get("body", "")).strip(),
                    version,
                )
            )
    return out


def load_templates() -> TemplateSet:
    """The shipped message texts (``resources/messages``)."""
    found: dict[tuple[str, MessageKind, MessageChannel], Template] = {}
    for language in LANGUAGES:
        raw = tomllib.loads(read_text("messages", f"{language}.toml"))
        for template in parse_templates(language, raw):
            found[(language, template.kind, template.channel)] = template
    return TemplateSet(found)
