"""Validation of contact data a customer states on the phone.

Each function returns the normalised value or raises
:class:`agent_desk.errors.ValidationError` with one plain English sentence and the
name of the field, so a form can show the message beside the input.
Phone numbers use ``phonenumbers`` (E.164, default region NL); e-mail syntax uses
``email_validator`` without a DNS lookup (no network during a call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent_desk.errors import ValidationError

if TYPE_CHECKING:
    import phonenumbers  # imported where used: it compiles its tables at import

DEFAULT_REGION = "NL"

_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s*([A-Za-z]{2})$")
# PostNL does not hand out these letter pairs (they read as unwanted abbreviations).
_UNUSED_POSTCODE_LETTERS = frozenset({"SA", "SD", "SS"})
# a digit addition needs a separator (12-2), a letter addition may follow directly (12A)
_HOUSE_NUMBER = re.compile(
    r"^([0-9]{1,5})(?:\s*[-/]\s*([A-Za-z0-9]{1,4})|\s*([A-Za-z][A-Za-z0-9]{0,3}))?$"
)
_MAX_HOUSE_NUMBER = 99999
_MAX_TEXT = 120


def normalise_phone(text: str, *, region: str = DEFAULT_REGION, field: str = "phone") -> str:
    """Any valid phone number, as E.164 (``+31201234567``)."""
    return _e164(_parse_phone(text, region=region, field=field))


def normalise_mobile(text: str, *, region: str = DEFAULT_REGION, field: str = "mobile") -> str:
    """A valid mobile number (one that can receive SMS or WhatsApp), as E.164."""
    import phonenumbers

    # number_type is UNKNOWN exactly when is_valid_number is false: one look-up, not two
    number = _parse_phone(text, region=region, field=field, check_valid=False)
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise ValidationError(
            "'{value}' is not a valid phone number; check the number of digits.",
            field,
            value=text.strip(),
        )
    mobile_kinds = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if kind not in mobile_kinds:
        raise ValidationError(
            "'{value}' is not a mobile number; a Dutch mobile number starts with 06.",
            field,
            value=text.strip(),
        )
    return _e164(number)


def _parse_phone(
    text: str, *, region: str, field: str, check_valid: bool = True
) -> phonenumbers.PhoneNumber:
    import phonenumbers

    raw = text.strip()
    if not raw:
        raise ValidationError("Enter a phone number.", field)
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "'{value}' is not a phone number; type it like 020 123 4567 or +31 20 123 4567.",
            field,
            value=raw,
        ) from None
    if check_valid and not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "'{value}' is not a valid phone number; check the number of digits.", field, value=raw
        )
    return number


def _e164(number: phonenumbers.PhoneNumber) -> str:
    import phonenumbers

    formatted: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def normalise_email(text: str, *, field: str = "email") -> str:
    """A syntactically valid e-mail address, domain in lower case."""
    from email_validator import EmailNotValidError, validate_email

    raw = text.strip()
    if not raw:
        raise ValidationError("Enter an e-mail address.", field)
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(
            "'{value}' is not a valid e-mail address. {detail}", field, value=raw, detail=error
        ) from None
    normalized: str = result.normalized
    return normalized


def normalise_postcode(text: str, *, field: str = "postcode") -> str:
    """A Dutch postcode as ``1234 AB``; accepts ``1234ab`` and ``1234  ab``."""
    raw = text.strip()
    if not raw:
        raise ValidationError("Enter a postcode.", field)
    match = _POSTCODE.match(raw)
    if match is None:
        raise ValidationError(
            "'{value}' is not a Dutch postcode; it has four digits and two letters, like 1234 AB.",
            field,
            value=raw,
        )
    digits, letters = match.group(1), match.group(2).upper()
    if letters in _UNUSED_POSTCODE_LETTERS:
        raise ValidationError(
            "'{value}' is not a Dutch postcode; the letters {letters} are never used.",
            field,
            value=raw,
            letters=letters,
        )
    return f"{digits} {letters}"


@dataclass(frozen=True)
class HouseNumber:
    number: int
    suffix: str = ""

    def __str__(self) -> str:
        if not self.suffix:
            return str(self.number)
        if self.suffix[0].isdigit():
            return f"{self.number}-{self.suffix}"
        if len(self.suffix) == 1:
            return f"{self.number}{self.suffix}"
        return f"{self.number} {self.suffix}"


def parse_house_number(text: str, *, field: str = "house_number") -> HouseNumber:
    """A house number with an optional addition: ``12``, ``12a``, ``12-2``, ``12 bis``."""
    raw = text.strip()
    if not raw:
        raise ValidationError("Enter a house number.", field)
    match = _HOUSE_NUMBER.match(raw)
    if match is None:
        raise ValidationError(
            "'{value}' is not a house number; type a number with an optional addition, like 12A.",
            field,
            value=raw,
        )
    number = int(match.group(1))
    if not 1 <= number <= _MAX_HOUSE_NUMBER:
        raise ValidationError(
            "'{value}' is not a house number; it must be 1 or more.", field, value=raw
        )
    suffix = match.group(2) or match.group(3) or ""
    suffix = suffix.upper() if len(suffix) == 1 else suffix.lower()
    return HouseNumber(number, suffix)


def normalise_house_number(text: str, *, field: str = "house_number") -> str:
    return str(parse_house_number(text, field=field))


@dataclass(frozen=True)
class PostalAddress:
    """A Dutch postal address; values as typed until :func:`validate_address` normalises them."""

    street: str
    house_number: str
    postcode: str
    city: str

    def one_line(self) -> str:
        return f"{self.street} {self.house_number}, {self.postcode} {self.city}"


def validate_address(address: PostalAddress) -> PostalAddress:
    """Check every part of a Dutch address; raises for the first part that is wrong."""
    street = _required_text(address.street, "street", "Enter the street.")
    house_number = normalise_house_number(address.house_number)
    postcode = normalise_postcode(address.postcode)
    city = _required_text(address.city, "city", "Enter the town or city.")
    return PostalAddress(street=street, house_number=house_number, postcode=postcode, city=city)


def _required_text(text: str, field: str, empty_message: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise ValidationError(empty_message, field)
    if len(value) > _MAX_TEXT:
        raise ValidationError(
            "This is too long; use at most {count} characters.", field, count=_MAX_TEXT
        )
    return value
