"""Money as integer cents; decimal strings only at the edges.

Amounts are ``int`` cents everywhere inside Agent Desk. These helpers turn what a
person types (``"1234.56"``, ``"1.234,56"``, ``"€ 12"``) into cents with a plain
error, and cents back into a decimal string or a locale-formatted amount.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency

from agent_desk.errors import ValidationError

Cents = int

_AMOUNT_CHARS = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
# "1.000" or "1,000": a thousand in one convention, one in the other. Ask.
_AMBIGUOUS = re.compile(r"^[+-]?\d{1,3}[.,]\d{3}$")


def parse_amount(text: str, *, field: str = "amount", allow_zero: bool = False) -> Cents:
    """Parse a typed euro amount into cents.

    Accepts ``1234.56``, ``1234,56``, ``1.234,56``, ``1,234.56`` and an optional euro
    sign. Rejects negatives, more than two decimals and anything that is not a number.
    """
    raw = text.strip().replace("€", "").replace("EUR", "").replace(" ", "").replace("\u00a0", "")
    if not raw:
        if field[0] in "aeiou":
            raise ValidationError("Enter an {what}.", field, what=field)
        raise ValidationError("Enter a {what}.", field, what=field)
    if _AMBIGUOUS.match(raw):
        raise ValidationError(
            "'{value}' is unclear: type one thousand as 1000 and one euro as 1.00.",
            field,
            value=text.strip(),
        )
    normalised = _normalise_separators(raw)
    if normalised is None or not _AMOUNT_CHARS.match(normalised):
        raise ValidationError(
            "'{value}' is not an amount; type it like 1234.56.", field, value=text.strip()
        )
    try:
        value = Decimal(normalised)
    except InvalidOperation:
        raise ValidationError(
            "'{value}' is not an amount; type it like 1234.56.", field, value=text.strip()
        ) from None
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError(
            "'{value}' has more than two decimals; cents are the smallest unit.",
            field,
            value=text.strip(),
        )
    if value < 0:
        raise ValidationError("The {what} cannot be negative.", field, what=field)
    if value == 0 and not allow_zero:
        raise ValidationError("The {what} must be more than zero.", field, what=field)
    return decimal_to_cents(value)


def _normalise_separators(raw: str) -> str | None:
    """Turn the two common ways of writing thousands/decimals into ``1234.56``."""
    if "." in raw and "," in raw:
        if raw.rfind(",") > raw.rfind("."):  # 1.234,56
            return raw.replace(".", "").replace(",", ".")
        return raw.replace(",", "")  # 1,234.56
    if "," in raw:
        head, _, tail = raw.rpartition(",")
        if raw.count(",") > 1:
            return None
        return f"{head}.{tail}"
    if raw.count(".") > 1:
        # 1.234.567 as thousands: only when every group has three digits
        groups = raw.lstrip("+-").split(".")
        if all(len(g) == 3 for g in groups[1:]):
            return raw.replace(".", "")
        return None
    return raw


def decimal_to_cents(value: Decimal) -> Cents:
    return int((value * 100).to_integral_value())


def cents_to_decimal(cents: Cents) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def cents_to_str(cents: Cents) -> str:
    """Machine form for JSON and CSV: ``"1234.56"``."""
    return str(cents_to_decimal(cents))


def format_money(cents: Cents, locale: str = "nl") -> str:
    """Human form: ``€ 1.234,56`` in Dutch, ``€1,234.56`` in English."""
    return format_currency(cents_to_decimal(cents), "EUR", locale=_babel_locale(locale))


def _babel_locale(lang: str) -> str:
    return {"nl": "nl_NL", "en": "en_GB"}.get(lang, lang)
