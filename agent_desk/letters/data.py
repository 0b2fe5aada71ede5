"""Plain input data for letters, and the checks that run before anything is drawn.

Every letter is built from one frozen dataclass holding plain values (text, ``date``,
``int`` cents). Nothing here knows about the database: the caller copies what it needs
into these objects, so a letter can be regenerated identically from its record.

``validate(data)`` raises :class:`agent_desk.errors.ValidationError` with one plain
sentence and the name of the field; the renderer calls it before it draws or writes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Literal

from agent_desk.domain.payment import epc_qr_payload, payment_link
from agent_desk.errors import ValidationError

Language = Literal["nl", "en"]
LetterKind = Literal["arrangement", "fourteen_day", "pause", "debt_help"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")

_NL_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")
_KVK = re.compile(r"^[0-9]{8}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


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
        match = _NL_POSTCODE.match(postcode)
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


# --------------------------------------------------------------------------- checks


def _require_text(value: str | None, message: str, field_name: str) -> None:
    if value is None or not value.strip():
        raise ValidationError(message, field_name)
    if _CONTROL.search(value):
        raise ValidationError(
            f"The {field_name.replace('_', ' ')} contains a control character; retype it.",
            field_name,
        )


def _require_not_negative(cents: int, label: str, field_name: str) -> None:
    if cents < 0:
        raise ValidationError(f"The {label} cannot be negative.", field_name)


def validate_recipient(recipient: Recipient) -> None:
    _require_text(recipient.name, "The customer's name is missing.", "recipient.name")
    _require_text(recipient.street, "The street of the address is missing.", "recipient.street")
    _require_text(
        recipient.house_number,
        "The house number of the address is missing.",
        "recipient.house_number",
    )
    _require_text(
        recipient.postcode, "The postcode of the address is missing.", "recipient.postcode"
    )
    _require_text(recipient.city, "The town or city of the address is missing.", "recipient.city")
    if recipient.is_domestic and not _NL_POSTCODE.match(recipient.postcode.strip()):
        raise ValidationError(
            f"'{recipient.postcode.strip()}' is not a Dutch postcode; write it like 1234 AB.",
            "recipient.postcode",
        )
    if recipient.language not in LANGUAGES:
        raise ValidationError(
            f"Letters can be written in Dutch (nl) or English (en), not '{recipient.language}'.",
            "recipient.language",
        )


def validate_creditor(creditor: Creditor) -> None:
    _require_text(creditor.name, "The creditor's name is missing.", "creditor.name")
    if not any(line.strip() for line in creditor.address_lines):
        raise ValidationError("The creditor's address is missing.", "creditor.address_lines")
    for line in creditor.address_lines:
        if _CONTROL.search(line):
            raise ValidationError(
                "The creditor's address contains a control character.", "creditor.address_lines"
            )
    _require_text(creditor.phone, "The creditor's phone number is missing.", "creditor.phone")
    _require_text(creditor.email, "The creditor's e-mail address is missing.", "creditor.email")
    if not _KVK.match(creditor.kvk.strip()):
        raise ValidationError(
            "The chamber of commerce (KvK) number must be 8 digits.", "creditor.kvk"
        )
    from stdnum import bic as stdnum_bic  # loaded with the first letter
    from stdnum import iban as stdnum_iban
    from stdnum.exceptions import ValidationError as StdnumValidationError

    try:
        stdnum_iban.validate(creditor.iban)
    except StdnumValidationError:
        raise ValidationError(
            f"'{creditor.iban}' is not a valid IBAN; check it for typing errors.", "creditor.iban"
        ) from None
    if creditor.bic:
        try:
            stdnum_bic.validate(creditor.bic)
        except StdnumValidationError:
            raise ValidationError(f"'{creditor.bic}' is not a valid BIC.", "creditor.bic") from None
    if creditor.logo_path and not os.path.isfile(creditor.logo_path):
        raise ValidationError(
            f"The logo file '{creditor.logo_path}' does not exist.", "creditor.logo_path"
        )
    _require_text(creditor.debt_help.name, "The debt-help organisation has no name.", "debt_help")
    if creditor.payment_link_template:
        from agent_desk.domain.payment import check_link_template

        check_link_template(creditor.payment_link_template)


def _validate_common(data: LetterData) -> None:
    _require_text(data.reference, "The letter has no reference.", "reference")
    _require_text(
        data.agent_name, "The name of the agent who signs the letter is missing.", "agent_name"
    )
    validate_recipient(data.recipient)
    validate_creditor(data.creditor)


def _validate_arrangement(data: ArrangementLetterData) -> None:
    _require_text(data.payment_reference, "The payment reference is missing.", "payment_reference")
    _require_not_negative(data.principal_cents, "principal", "principal_cents")
    _require_not_negative(data.costs_cents, "costs", "costs_cents")
    _require_not_negative(data.interest_cents, "interest", "interest_cents")
    _require_not_negative(data.total_cents, "total", "total_cents")
    expected = data.principal_cents + data.charged_costs_cents + data.charged_interest_cents
    if expected != data.total_cents:
        raise ValidationError(
            "The total does not match principal plus costs plus interest; "
            "recalculate the arrangement.",
            "total_cents",
        )
    if not data.schedule:
        raise ValidationError("The arrangement has no instalments.", "schedule")
    previous: date | None = None
    for position, line in enumerate(data.schedule, start=1):
        if line.number != position:
            raise ValidationError(
                f"Instalment {position} is numbered {line.number}; number them 1, 2, 3 and so on.",
                "schedule",
            )
        if line.amount_cents <= 0:
            raise ValidationError(f"Instalment {position} must be more than zero.", "schedule")
        if previous is not None and line.due <= previous:
            raise ValidationError(
                f"Instalment {position} is not due after instalment {position - 1}.", "schedule"
            )
        previous = line.due
    if sum(line.amount_cents for line in data.schedule) != data.total_cents:
        raise ValidationError(
            "The instalments do not add up to the total; recalculate the arrangement.", "schedule"
        )
    if not 0 <= data.missed_after_days <= 365:
        raise ValidationError(
            "The days after which an instalment is missed must be from 0 to 365.",
            "missed_after_days",
        )
    if data.missed_instalments_before_broken < 1:
        raise ValidationError(
            "The arrangement must allow at least one missed instalment before it ends.",
            "missed_instalments_before_broken",
        )


def _validate_fourteen_day(data: FourteenDayLetterData) -> None:
    _require_text(data.payment_reference, "The payment reference is missing.", "payment_reference")
    if data.outstanding_cents <= 0:
        raise ValidationError("The outstanding amount must be more than zero.", "outstanding_cents")
    _require_not_negative(data.costs_cents, "collection costs", "costs_cents")
    _require_not_negative(data.vat_cents, "VAT", "vat_cents")
    if data.vat_cents > 0 and not data.vat_statement:
        raise ValidationError(
            "VAT is added to the costs, so the letter must say the creditor cannot deduct VAT.",
            "vat_statement",
        )
    if data.vat_statement and data.vat_cents == 0:
        raise ValidationError(
            "The VAT statement is on but no VAT is added; switch it off or add the VAT.",
            "vat_statement",
        )
    if data.claim_description and _CONTROL.search(data.claim_description):
        raise ValidationError(
            "The claim description contains a control character.", "claim_description"
        )
    if not data.claims:
        raise ValidationError("The 14-day letter must name the claims it is about.", "claims")
    for claim in data.claims:
        _require_text(claim.reference, "A claim in the letter has no reference.", "claims")
        if _CONTROL.search(claim.description):
            raise ValidationError(
                "The description of a claim contains a control character.", "claims"
            )
        if claim.amount_cents <= 0:
            raise ValidationError(
                "Every claim in the 14-day letter must have an amount open.", "claims"
            )
        if claim.due >= data.letter_date:
            raise ValidationError(
                "A claim in a 14-day letter must have been due before the date of the letter.",
                "claims",
            )
    if sum(c.amount_cents for c in data.claims) != data.outstanding_cents:
        raise ValidationError(
            "The amount the letter demands is not the sum of its claims.", "outstanding_cents"
        )


def _validate_pause(data: PauseLetterData) -> None:
    _require_text(data.reason, "Give the reason for the pause.", "reason")
    if data.paused_until <= data.letter_date:
        raise ValidationError("The pause must end after the date of the letter.", "paused_until")


def _validate_debt_help(data: DebtHelpReferralData) -> None:
    help_org = data.help_organisation
    _require_text(help_org.name, "The name of the debt-help organisation is missing.", "help.name")
    if not (help_org.phone.strip() or help_org.website.strip() or help_org.address_lines):
        raise ValidationError(
            "Give at least a phone number, website or address for the debt-help organisation.",
            "help",
        )
    if data.outstanding_cents is not None:
        _require_not_negative(data.outstanding_cents, "outstanding amount", "outstanding_cents")


def validate(data: AnyLetter) -> None:
    """Raise ValidationError (one plain sentence, with the field) if the letter is not right."""
    _validate_common(data)
    if isinstance(data, ArrangementLetterData):
        _validate_arrangement(data)
        epc_payload(data)
        letter_payment_link(data)
    elif isinstance(data, FourteenDayLetterData):
        _validate_fourteen_day(data)
        epc_payload(data)
        letter_payment_link(data)
        if not 0 <= data.objection_days <= 365:
            raise ValidationError("The days to object must be from 0 to 365.", "objection_days")
    elif isinstance(data, PauseLetterData):
        _validate_pause(data)
    elif isinstance(data, DebtHelpReferralData):
        _validate_debt_help(data)
    else:  # pragma: no cover - guarded by the type checker
        raise ValidationError("Unknown kind of letter.", "kind")


# --------------------------------------------------------------------------- examples
# Used by previews, the benchmark and the tests; not real people.


def example_recipient(language: Language = "nl") -> Recipient:
    return Recipient(
        name="Şebnem Yılmaz-Kowalczyk" if language == "nl" else "Nguyễn Thị Hồng",
        street="Burgemeester Reigerstraat" if language == "nl" else "Lange Nieuwstraat",
        house_number="112 bis" if language == "nl" else "7-A",
        postcode="3512 PK",
        city="Utrecht",
        language=language,
    )


def example_arrangement(
    language: Language = "nl", instalments: int = 6, *, reference: str = "AD-2027-000123"
) -> ArrangementLetterData:
    from datetime import timedelta

    principal, costs, interest = 118_250, 17_738, 1_512
    total = principal + interest  # costs waived in the example
    base, rest = divmod(total, instalments)
    first = date(2027, 2, 1)
    schedule = tuple(
        ScheduleLine(
            number=i + 1,
            due=date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            if instalments <= 120
            else first + timedelta(days=30 * i),
            amount_cents=base + (rest if i == instalments - 1 else 0),
        )
        for i in range(instalments)
    )
    return ArrangementLetterData(
        reference=reference,
        letter_date=date(2027, 1, 18),
        recipient=example_recipient(language),
        creditor=demo_creditor(),
        agent_name="Sanne de Vries",
        principal_cents=principal,
        costs_cents=costs,
        interest_cents=interest,
        costs_waived=True,
        interest_waived=False,
        total_cents=total,
        schedule=schedule,
        payment_reference="7001 2027 0001 2345",
        missed_after_days=7,
        missed_instalments_before_broken=2,
    )


def example_fourteen_day(language: Language = "nl") -> FourteenDayLetterData:
    nl = language == "nl"
    claims = (
        LetterClaim(
            "HUUR-2026-11-4411",
            "Huur november 2026" if nl else "Rent November 2026",
            date(2026, 11, 1),
            12_000,
        ),
        LetterClaim(
            "HUUR-2026-12-4411",
            "Huur december 2026" if nl else "Rent December 2026",
            date(2026, 12, 1),
            12_000,
        ),
        LetterClaim(
            "SVK-2026-4411",
            "Servicekosten 2026, naheffing na de jaarafrekening"
            if nl
            else "Service charges 2026, balance after the annual statement",
            date(2026, 12, 15),
            6_000,
        ),
    )
    return FourteenDayLetterData(
        reference="AD-2027-000124",
        letter_date=date(2027, 1, 18),
        recipient=example_recipient(language),
        creditor=demo_creditor(),
        agent_name="Sanne de Vries",
        outstanding_cents=30_000,
        costs_cents=4_500,
        vat_cents=945,
        vat_statement=True,
        payment_reference="7001 2027 0001 2346",
        claims=claims,
        later_claims=True,
    )


def example_pause(language: Language = "nl") -> PauseLetterData:
    return PauseLetterData(
        reference="AD-2027-000125",
        letter_date=date(2027, 1, 18),
        recipient=example_recipient(language),
        creditor=demo_creditor(),
        agent_name="Sanne de Vries",
        paused_until=date(2027, 3, 1),
        reason=(
            "u wacht op een besluit over uw uitkering"
            if language == "nl"
            else "you are waiting for a decision about your benefit"
        ),
    )


def example_debt_help(language: Language = "nl") -> DebtHelpReferralData:
    return DebtHelpReferralData(
        reference="AD-2027-000126",
        letter_date=date(2027, 1, 18),
        recipient=example_recipient(language),
        creditor=demo_creditor(),
        agent_name="Sanne de Vries",
        help=DebtHelp(
            name="Geldfit",
            phone="0800-8115",
            website="www.geldfit.nl",
        ),
        outstanding_cents=119_762,
    )
