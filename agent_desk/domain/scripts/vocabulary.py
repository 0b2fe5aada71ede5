"""What a call script may say, ask and record: the words of the format.

The placeholders, the outcome codes, the identity checks and the fields a script can
record, with the rules' word lists (what reveals the debt, what the desk does not
hold). Plain constants and two word finders; the reader and the checker read them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

LANGUAGES = ("nl", "en")

#: Every placeholder a script may use; anything else is an error at load time.
PLACEHOLDERS = frozenset(
    {
        "first_name",
        "last_name",
        "salutation",
        "customer_number",
        "arrears",
        "oldest_due_date",
        "days_past_due",
        "agent_name",
        "creditor_name",
        "next_instalment_amount",
        "next_instalment_due",
        "pause_until",
        "debt_help_name",
        "debt_help_phone",
    }
)

#: Placeholders that reveal the debt; forbidden before identity is confirmed.
DISCLOSURE_PLACEHOLDERS = frozenset(
    {
        "customer_number",
        "arrears",
        "oldest_due_date",
        "days_past_due",
        "next_instalment_amount",
        "next_instalment_due",
        "pause_until",
        "debt_help_name",
        "debt_help_phone",
    }
)

#: Words that reveal the debt when *said* before identity is confirmed.
DISCLOSURE_WORDS: Mapping[str, tuple[str, ...]] = {
    "nl": ("achterstand", "schuld", "openstaand", "incasso", "betalingsregeling", "te laat"),
    "en": ("arrears", "debt", "overdue", "owe", "outstanding", "collection"),
}

OUTCOME_CODES = (
    "reached",
    "no_answer",
    "voicemail",
    "wrong_number",
    "refused",
    "callback_requested",
    "promise_made",
    "arrangement_made",
    "dispute",
    "referred_debt_help",
    "pause_requested",
    "third_party",
)

#: Outcomes that may be recorded before identity is confirmed (they reveal nothing).
PRE_IDENTITY_OUTCOMES = frozenset(
    {"no_answer", "voicemail", "wrong_number", "refused", "callback_requested", "third_party"}
)

#: Fields that may be recorded or asked before identity is confirmed.
PRE_IDENTITY_FIELDS = frozenset({"outcome", "callback_requested", "note"})

ACTIONS = frozenset({"open_arrangement_calculator"})


@dataclass(frozen=True)
class IdentityCheck:
    """A detail a caller can be asked to state that the desk holds and can compare.

    ``always_on_file``: every customer has it (the import requires it); otherwise a
    step that asks for it needs ``if_not_stored``. ``words``: how a script asks for it,
    per language; the checker finds questions by these words.
    """

    name: str
    always_on_file: bool
    words: Mapping[str, tuple[str, ...]]


IDENTITY_CHECKS: Mapping[str, IdentityCheck] = {
    check.name: check
    for check in (
        IdentityCheck(
            "date_of_birth",
            False,
            {
                "nl": ("geboortedatum", "geboren", "verjaardag"),
                "en": ("date of birth", "birth date", "birthday", "born"),
            },
        ),
        IdentityCheck("full_name", True, {"nl": ("volledige naam",), "en": ("full name",)}),
        IdentityCheck("postcode", True, {"nl": ("postcode",), "en": ("postcode", "post code")}),
        IdentityCheck("house_number", True, {"nl": ("huisnummer",), "en": ("house number",)}),
        IdentityCheck(
            "customer_number", True, {"nl": ("klantnummer",), "en": ("customer number",)}
        ),
        IdentityCheck(
            "invoice_number",
            True,
            {
                "nl": ("factuurnummer", "nummer van een factuur", "nummer van de factuur"),
                "en": ("invoice number", "number of an invoice", "number of one of our invoices"),
            },
        ),
        IdentityCheck(
            "email",
            False,
            {"nl": ("e-mailadres", "emailadres"), "en": ("e-mail address", "email address")},
        ),
    )
}

#: What callers are sometimes asked that the desk does not hold, so an agent could not
#: compare the answer (asking would only look like a check).
NOT_ON_FILE_WORDS: Mapping[str, tuple[str, ...]] = {
    "nl": (
        "bsn",
        "burgerservicenummer",
        "geboorteplaats",
        "rekeningnummer",
        "iban",
        "bankrekening",
        "meisjesnaam",
        "paspoort",
        "rijbewijs",
        "identiteitsbewijs",
        "id-kaart",
        "legitimatie",
        "pincode",
        "wachtwoord",
    ),
    "en": (
        "bsn",
        "citizen service number",
        "social security",
        "national insurance",
        "place of birth",
        "birthplace",
        "bank account",
        "account number",
        "iban",
        "maiden name",
        "passport",
        "driving licence",
        "identity card",
        "id card",
        "pin",
        "password",
    ),
}


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def checks_asked(text: str, language: str) -> list[str]:
    """The identity checks a ``say`` text asks for (by their words), in check order."""
    lowered = text.lower()
    return [
        name
        for name, check in IDENTITY_CHECKS.items()
        if any(_mentions(lowered, word) for word in check.words.get(language, ()))
    ]


def not_on_file_asked(text: str, language: str) -> list[str]:
    """Words in ``text`` that ask for a detail the desk does not hold."""
    lowered = text.lower()
    return [w for w in NOT_ON_FILE_WORDS.get(language, ()) if _mentions(lowered, w)]


class FieldKind(StrEnum):
    OUTCOME = "outcome"
    FLAG = "flag"
    MONEY = "money"
    DATE = "date"
    TEXT = "text"


#: Fields a script can record. ``record:`` sets outcome/flag values; ``ask:`` lets the
#: agent type money/date/text values.
RECORD_FIELDS: Mapping[str, FieldKind] = {
    "outcome": FieldKind.OUTCOME,
    "vulnerability_disclosed": FieldKind.FLAG,
    "vulnerability_consent": FieldKind.FLAG,
    "debt_help_referral": FieldKind.FLAG,
    "promise_requested": FieldKind.FLAG,
    "pause_requested": FieldKind.FLAG,
    "callback_requested": FieldKind.FLAG,
    "promise_amount": FieldKind.MONEY,
    "promise_date": FieldKind.DATE,
    "pause_requested_until": FieldKind.DATE,
    "vulnerability_note": FieldKind.TEXT,
    "note": FieldKind.TEXT,
}
SET_KINDS = frozenset({FieldKind.OUTCOME, FieldKind.FLAG})
ASK_KINDS = frozenset({FieldKind.MONEY, FieldKind.DATE, FieldKind.TEXT})

#: Script ids the chooser relies on; a script set must have each in every language.
REQUIRED_SCRIPT_IDS = (
    "first_time_arrears",
    "repeat_arrears",
    "broken_arrangement",
    "inbound_call",
    "vulnerability_disclosure",
    "income_drop_self_employed",
    "price_change_discount_end",
    "debt_help_referral",
    "pause_request",
)

RecordValue = str | bool | int | date
