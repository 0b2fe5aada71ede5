"""The checks a letter's data passes before anything is drawn or written.

``validate(data)`` raises :class:`agent_desk.errors.ValidationError` with one plain
sentence and the name of the field; the renderer calls it first.
"""

from __future__ import annotations

import os
import re
from datetime import date

from agent_desk.errors import ValidationError
from agent_desk.letters.data import (
    LANGUAGES,
    NL_POSTCODE,
    AnyLetter,
    ArrangementLetterData,
    Creditor,
    DebtHelpReferralData,
    FourteenDayLetterData,
    LetterData,
    PauseLetterData,
    Recipient,
    epc_payload,
    letter_payment_link,
)

_KVK = re.compile(r"^[0-9]{8}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


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
    if recipient.is_domestic and not NL_POSTCODE.match(recipient.postcode.strip()):
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
