"""Plain input data for letters: one frozen dataclass a letter kind.

Every letter is built from one frozen dataclass holding plain values (text, ``date``,
``int`` cents). Nothing here knows about the database: the caller copies what it needs
into these objects, so a letter can be regenerated identically from its record.

``letters.checks`` holds the checks that run before anything is drawn; the made-up
letters of previews, benchmarks and tests are ``letters.examples``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Literal

from agent_desk.domain.payment import epc_qr_payload, payment_link

Language = Literal["nl", "en"]
LetterKind = Literal["arrangement", "fourteen_day", "pause", "debt_help"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")

NL_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")


def _frozen_map(values: Mapping[str, str]) -> Mapping[str, str]:
    # A plain dict (not MappingProxyType) so the data can be pickled for a process pool.
    return dict(values)


@dataclass(frozen=True)
class DebtHelp:
    """Where a customer can get free help with money worries."""

    name: str
    phone: str = ""
    website: str = ""
    email: str = ""
    address_lines: tuple[str, ...] = ()


#: Demo default: the national free help line. Real deployments configure their own
#: (for example the municipality's "schuldhulpverlening").
GELDFIT = DebtHelp(name="Geldfit", phone="0800-8115", website="www.geldfit.nl")


@dataclass(frozen=True)
class Creditor:
    """The sender: letterhead, footer and payment details."""

    name: str
    address_lines: tuple[str, ...]
    phone: str
    email: str
    website: str
    kvk: str
    iban: str
    bic: str | None = None
    logo_path: str | None = None
    #: Opening hours for the phone line per language, e.g. ``{"nl": "...", "en": "..."}``.
    contact_hours: Mapping[str, str] = field(default_factory=lambda: _frozen_map({}))
    #: Free debt help the letters point to.
    debt_help: DebtHelp = GELDFIT
    #: The payment provider's link, e.g. ``https://pay.example/{reference}?amount={amount}``
    #: (:func:`agent_desk.domain.payment.payment_link`); ``None``: no link, the IBAN only.
    payment_link_template: str | None = None

    def hours(self, language: Language) -> str:
        return self.contact_hours.get(language) or self.contact_hours.get("nl", "")

    @property
    def iban_display(self) -> str:
        """IBAN in groups of four: ``NL91 ABNA 0417 1643 00``."""
        from stdnum import iban as stdnum_iban  # loaded with the first letter

        return str(stdnum_iban.format(self.iban))


def demo_creditor() -> Creditor:
    """Sensible demo values for a fresh install (the IBAN is the well-known test IBAN)."""
    return Creditor(
        name="Woonstichting De Linde",
        address_lines=("Postbus 1234", "3500 AB  Utrecht"),
        phone="030 123 45 67",
        email="klantenservice@delinde.example",
        website="www.delinde.example",
        kvk="12345678",
        iban="NL91 ABNA 0417 1643 00",
        bic="ABNANL2A",
        contact_hours=_frozen_map(
            {
                "nl": "maandag tot en met vrijdag van 8.30 tot 17.00 uur",
                "en": "Monday to Friday, 8.30 am to 5 pm",
            }
        ),
        debt_help=GELDFIT,
        payment_link_template="https://betalen.delinde.example/{reference}?bedrag={amount}",
    )


@dataclass(frozen=True)
class Recipient:
    name: str
    street: str
    house_number: str
    postcode: str
    city: str
    country: str | None = None
    language: Language = "nl"

    @property
    def is_domestic(self) -> bool:
        return self.country is None or self.country.strip().upper() in {"", "NL", "NEDERLAND"}

    def address_lines(self) -> tuple[str, ...]:
        """Lines as PostNL wants them: name, street + number, postcode + two spaces + city."""
        postcode = self.postcode.strip()
        match = NL_POSTCODE.match(postcode)
        if self.is_domestic and match:
            postcode = f"{match.group(1)} {match.group(2).upper()}"
        city = self.city.strip().upper() if self.is_domestic else self.city.strip()
        lines = [
            self.name.strip(),
            f"{self.street.strip()} {self.house_number.strip()}",
            f"{postcode}  {city}",
        ]
        if not self.is_domestic and self.country:
            lines.append(self.country.strip().upper())
        return tuple(lines)


@dataclass(frozen=True)
class ScheduleLine:
    number: int
    due: date
    amount_cents: int


@dataclass(frozen=True)
class LetterClaim:
    """One claim a 14-day letter names: what the customer recognises it by."""

    reference: str
    description: str
    due: date
    amount_cents: int  # the principal still open on it, which the letter demands


@dataclass(frozen=True, kw_only=True)
class LetterData:
    """What every letter has: who, to whom, when, and which reference."""

    kind: ClassVar[LetterKind]

    reference: str
    letter_date: date
    recipient: Recipient
    creditor: Creditor
    agent_name: str
    #: The team's own letter texts in this letter's language, by ``group.key``
    #: (``services.team_rules.letter_texts``); empty: the shipped texts.
    text_overrides: Mapping[str, str] = field(default_factory=dict)

    @property
    def language(self) -> Language:
        return self.recipient.language

    @property
    def debt_help(self) -> DebtHelp:
        return self.creditor.debt_help


@dataclass(frozen=True, kw_only=True)
class ArrangementLetterData(LetterData):
    kind: ClassVar[LetterKind] = "arrangement"

    principal_cents: int
    costs_cents: int
    interest_cents: int
    costs_waived: bool
    interest_waived: bool
    total_cents: int
    schedule: tuple[ScheduleLine, ...]
    payment_reference: str
    #: The arrangement policy's rules, so the letter says when an instalment is missed
    #: (unpaid more than this many days after its date) and when the plan ends
    #: (this many instalments missed at the same time).
    missed_after_days: int
    missed_instalments_before_broken: int
    #: The first day of the interest whose statutory rate is not yet confirmed (the
    #: team's rate table), if any: the letter says that part may still change.
    interest_provisional_from: date | None = None

    @property
    def charged_costs_cents(self) -> int:
        return 0 if self.costs_waived else self.costs_cents

    @property
    def charged_interest_cents(self) -> int:
        return 0 if self.interest_waived else self.interest_cents


@dataclass(frozen=True, kw_only=True)
class FourteenDayLetterData(LetterData):
    """The reminder of art. 6:96 lid 6 BW: 14 days to pay before costs are charged.

    It names only claims in default on the letter date (``claims``); what it demands
    (``outstanding_cents``) is what is open on them, and the costs are the ones that
    become owed if that stays unpaid.
    """

    kind: ClassVar[LetterKind] = "fourteen_day"

    #: What the letter demands: the sum of ``claims``.
    outstanding_cents: int
    #: Collection costs (excluding VAT) by the BIK scale, computed by the caller.
    costs_cents: int
    #: VAT on the costs; only when the creditor cannot deduct VAT.
    vat_cents: int
    #: Print "we add VAT because we cannot deduct it"; must be True exactly when VAT > 0.
    vat_statement: bool
    payment_reference: str
    #: What the claim is about, e.g. "huur maart 2027" (optional, one short line).
    claim_description: str = ""
    #: The claims the letter names, oldest first.
    claims: tuple[LetterClaim, ...] = ()
    #: The customer has other claims, not yet due or in default: they are not in
    #: this letter, and the letter says so.
    later_claims: bool = False
    #: Early signals (vroegsignalering): the letter offers to pass the details on to
    #: the municipality and says how to object (creditors with the duty).
    early_signal_offer: bool = False
    #: The days the customer has to object (the creditor's waiting period).
    objection_days: int = 14

    @property
    def total_if_unpaid_cents(self) -> int:
        return self.outstanding_cents + self.costs_cents + self.vat_cents


@dataclass(frozen=True, kw_only=True)
class PauseLetterData(LetterData):
    kind: ClassVar[LetterKind] = "pause"

    paused_until: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class DebtHelpReferralData(LetterData):
    kind: ClassVar[LetterKind] = "debt_help"

    #: The organisation to turn to; ``None`` uses the creditor's configured debt help.
    help: DebtHelp | None = None
    #: Optional: the amount still open with this creditor, to take to the appointment.
    outstanding_cents: int | None = None

    @property
    def help_organisation(self) -> DebtHelp:
        return self.help or self.creditor.debt_help


def payment_amount_cents(data: ArrangementLetterData | FourteenDayLetterData) -> int:
    """What the QR code and the payment link ask for: the first instalment of an
    arrangement, or what a 14-day letter demands."""
    if isinstance(data, ArrangementLetterData):
        return data.schedule[0].amount_cents if data.schedule else data.total_cents
    return data.outstanding_cents


def epc_payload(data: ArrangementLetterData | FourteenDayLetterData) -> str:
    """The EPC069-12 "SEPA credit transfer" QR payload the letter prints."""
    return epc_qr_payload(
        name=data.creditor.name,
        iban=data.creditor.iban,
        bic=data.creditor.bic,
        amount_cents=payment_amount_cents(data),
        text=data.payment_reference,
    )


def letter_payment_link(data: ArrangementLetterData | FourteenDayLetterData) -> str | None:
    """The creditor's payment link for this letter, or ``None`` without a template."""
    template = data.creditor.payment_link_template
    if not template:
        return None
    return payment_link(template, data.payment_reference, payment_amount_cents(data))


AnyLetter = ArrangementLetterData | FourteenDayLetterData | PauseLetterData | DebtHelpReferralData
