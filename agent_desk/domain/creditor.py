"""The creditor's profile (pure): who sends the letters, its sector and the duties that follow.

A profile is a flat mapping of named text values, so it can be versioned as one JSON
document and set one key at a time (``agent-desk creditor set KEY VALUE``). Every key
has one parser here that turns typed text into the stored value or refuses it with a
plain sentence naming the key; the desk screen and the CLI use the same parsers.

Sectors and duties: the Besluit gemeentelijke schuldhulpverlening (Stb. 2020-240)
obliges landlords of homes, energy and water companies and health insurers to send an
early signal of arrears to the municipality (``early_signal`` duty). "Other" creditors
have no such duty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent_desk.domain.money import cents_to_str, parse_amount
from agent_desk.domain.payment import check_link_template
from agent_desk.errors import ValidationError
from agent_desk.i18n import N_


class Sector(StrEnum):
    HOUSING = "housing"
    ENERGY = "energy"
    WATER = "water"
    HEALTH_INSURANCE = "health_insurance"
    OTHER = "other"


class Duty(StrEnum):
    EARLY_SIGNAL = "early_signal"


#: What each sector must do by law (Besluit gemeentelijke schuldhulpverlening, § 2).
SECTOR_DUTIES: Mapping[Sector, frozenset[Duty]] = {
    Sector.HOUSING: frozenset({Duty.EARLY_SIGNAL}),
    Sector.ENERGY: frozenset({Duty.EARLY_SIGNAL}),
    Sector.WATER: frozenset({Duty.EARLY_SIGNAL}),
    Sector.HEALTH_INSURANCE: frozenset({Duty.EARLY_SIGNAL}),
    Sector.OTHER: frozenset(),
}

#: Words for the sectors (the desk translates them).
SECTOR_LABELS: Mapping[str, str] = {
    Sector.HOUSING.value: N_("housing (landlord of homes)"),
    Sector.ENERGY.value: N_("energy"),
    Sector.WATER.value: N_("water"),
    Sector.HEALTH_INSURANCE.value: N_("health insurance"),
    Sector.OTHER.value: N_("other (no early-signal duty)"),
}

_KVK = re.compile(r"^[0-9]{8}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_YES = {"yes", "y", "true", "1", "on", "ja", "j"}
_NO = {"no", "n", "false", "0", "off", "nee"}
MAX_WAIT_DAYS = 365
MAX_ADDRESS_LINES = 5


def _line(value: str, key: str, *, required: bool = True, most: int = 200) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError("Fill in {key}; it cannot be empty.", key, key=key)
    if _CONTROL.search(value):
        raise ValidationError("{key} contains a control character; retype it.", key, key=key)
    if len(value) > most:
        raise ValidationError("{key} is longer than {most} characters.", key, key=key, most=most)
    return value


def _address(value: str, key: str) -> list[str]:
    lines = [line.strip() for line in re.split(r"[|\n]", value) if line.strip()]
    if not lines:
        raise ValidationError(
            "Give the address, lines separated by | (e.g. Postbus 1234|3500 AB  Utrecht).", key
        )
    if len(lines) > MAX_ADDRESS_LINES:
        raise ValidationError(
            "The address has more than {most} lines.", key, most=MAX_ADDRESS_LINES
        )
    return [_line(line, key, most=80) for line in lines]


def _iban(value: str, key: str) -> str:
    # stdnum and email_validator load with the first check, not at the desk's start-up.
    from stdnum import iban as stdnum_iban
    from stdnum.exceptions import ValidationError as StdnumValidationError

    try:
        return str(stdnum_iban.format(stdnum_iban.validate(value)))
    except StdnumValidationError:
        raise ValidationError(
            "'{value}' is not a valid IBAN; check it for typing errors.", key, value=value.strip()
        ) from None


def _bic(value: str, key: str) -> str:
    if not value.strip():
        return ""
    from stdnum import bic as stdnum_bic
    from stdnum.exceptions import ValidationError as StdnumValidationError

    try:
        return str(stdnum_bic.validate(value))
    except StdnumValidationError:
        raise ValidationError("'{value}' is not a valid BIC.", key, value=value.strip()) from None


def _kvk(value: str, key: str) -> str:
    value = value.strip().replace(" ", "")
    if not _KVK.match(value):
        raise ValidationError("The chamber of commerce (KvK) number must be 8 digits.", key)
    return value


def _email(value: str, key: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        raise ValidationError(
            "'{value}' is not an e-mail address.", key, value=value.strip()
        ) from None


def _sector(value: str, key: str) -> str:
    value = value.strip().lower().replace("-", "_").replace(" ", "_")
    if value not in {s.value for s in Sector}:
        raise ValidationError(
            "The sector is one of housing, energy, water, health_insurance or other, not "
            "'{value}'.",
            key,
            value=value,
        )
    return value


def _yes_no(value: str, key: str) -> bool:
    word = value.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValidationError("{key} is yes or no, not '{value}'.", key, key=key, value=value.strip())


def _link(value: str, key: str) -> str:
    value = value.strip()
    if value:
        check_link_template(value)
    return value


def _amount(value: str, key: str) -> int:
    try:
        return parse_amount(value, field=key)
    except ValidationError as error:
        raise ValidationError(str(error), key) from None


def _days(value: str, key: str) -> int:
    try:
        days = int(value.strip())
    except ValueError:
        raise ValidationError(
            "{key} is a whole number of days, not '{value}'.", key, key=key, value=value.strip()
        ) from None
    if not 0 <= days <= MAX_WAIT_DAYS:
        raise ValidationError(
            "{key} must be from 0 to {most} days.", key, key=key, most=MAX_WAIT_DAYS
        )
    return days


def _optional(value: str, key: str) -> str:
    return _line(value, key, required=False)


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # words for the desk (translated there)
    parse: Callable[[str, str], Any]
    #: The stored value as a person types it back.
    show: Callable[[Any], str] = str


def _show_address(value: Any) -> str:
    return " | ".join(value)


def _show_bool(value: Any) -> str:
    return "yes" if value else "no"


def _show_amount(value: Any) -> str:
    return cents_to_str(int(value))


#: Every key of the profile, in the order the desk and ``creditor show`` list them.
FIELDS: tuple[Field, ...] = (
    Field("name", N_("Name"), lambda v, k: _line(v, k, most=70)),
    Field("address", N_("Address (lines separated by |)"), _address, _show_address),
    Field("phone", N_("Phone"), lambda v, k: _line(v, k, most=40)),
    Field("email", N_("E-mail"), _email),
    Field("website", N_("Website"), _optional),
    Field("kvk", N_("KvK number"), _kvk),
    Field("iban", N_("IBAN"), _iban),
    Field("bic", N_("BIC"), _bic),
    Field("logo", N_("Logo (PNG or JPEG file)"), _optional),
    Field("sector", N_("Sector"), _sector),
    Field("vat_on_costs", N_("Add VAT to collection costs"), _yes_no, _show_bool),
    Field(
        "signatory", N_("Letters are signed by (without --as)"), lambda v, k: _line(v, k, most=80)
    ),
    Field("payment_link_template", N_("Payment link"), _link),
    Field("hours_nl", N_("Opening hours (Dutch)"), _optional),
    Field("hours_en", N_("Opening hours (English)"), _optional),
    Field("debt_help_name", N_("Debt help: name"), lambda v, k: _line(v, k, most=80)),
    Field("debt_help_phone", N_("Debt help: phone"), _optional),
    Field("debt_help_website", N_("Debt help: website"), _optional),
    Field(
        "signal_min_arrears",
        N_("Early signal: minimum arrears (e.g. one month's rent)"),
        _amount,
        _show_amount,
    ),
    Field("signal_wait_days", N_("Early signal: days to wait after the reminder"), _days),
)
FIELD_BY_KEY: Mapping[str, Field] = {f.key: f for f in FIELDS}


def defaults() -> dict[str, Any]:
    """A fresh install: the demo housing association's letterhead, no duty yet ("other")."""
    return {
        "name": "Woonstichting De Linde",
        "address": ["Postbus 1234", "3500 AB  Utrecht"],
        "phone": "030 123 45 67",
        "email": "klantenservice@delinde.example",
        "website": "www.delinde.example",
        "kvk": "12345678",
        "iban": "NL91 ABNA 0417 1643 00",
        "bic": "ABNANL2A",
        "logo": "",
        "sector": Sector.OTHER.value,
        "vat_on_costs": False,
        "signatory": "Agent Desk",
        "payment_link_template": "https://betalen.delinde.example/{reference}?bedrag={amount}",
        "hours_nl": "maandag tot en met vrijdag van 8.30 tot 17.00 uur",
        "hours_en": "Monday to Friday, 8.30 am to 5 pm",
        "debt_help_name": "Geldfit",
        "debt_help_phone": "0800-8115",
        "debt_help_website": "www.geldfit.nl",
        "signal_min_arrears": 75_000,
        "signal_wait_days": 14,
    }


def parse(key: str, value: str) -> Any:
    """The stored value for ``key`` typed as ``value``; refuses an unknown key or bad value."""
    field = FIELD_BY_KEY.get(key.strip().lower())
    if field is None:
        raise ValidationError(
            "There is no creditor setting '{key}'; choose one of: {keys}.",
            "key",
            key=key.strip(),
            keys=", ".join(FIELD_BY_KEY),
        )
    return field.parse(value, field.key)


def show(key: str, value: Any) -> str:
    return FIELD_BY_KEY[key].show(value)


def complete(values: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults overlaid with the stored values (a key added later gets its default)."""
    merged = defaults()
    merged.update({k: v for k, v in values.items() if k in FIELD_BY_KEY})
    return merged


def duties(sector: str) -> frozenset[Duty]:
    try:
        return SECTOR_DUTIES[Sector(sector)]
    except ValueError:
        return frozenset()


def has_early_signal_duty(values: Mapping[str, Any]) -> bool:
    return Duty.EARLY_SIGNAL in duties(str(values.get("sector", "")))
