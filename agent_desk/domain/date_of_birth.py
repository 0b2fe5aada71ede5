"""The date of birth: the one rule for reading and checking it, and how it is shown.

Call scripts ask for it to confirm identity, so the desk must hold it. Used by the
verification flow, its service and the customer import. Its errors never repeat the
value: a date of birth is personal data, and error messages end up in import reports
and logs.
"""

from __future__ import annotations

import re
from datetime import date

from agent_desk.errors import ValidationError

#: Dates of birth before this are refused: a typo, not a customer.
EARLIEST_BIRTH = date(1900, 1, 1)
#: Younger than this cannot be a customer with a contract in their own name.
MINIMUM_AGE = 16
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_DUTCH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$", re.ASCII)


def masked_date_of_birth(value: date) -> str:
    """``••-••-1981``: the year only, for screens others may see (see the customer panel)."""
    return f"••-••-{value.year}"


def age_on(born: date, today: date) -> int:
    """Completed years on ``today`` (someone born on 29 February ages on 1 March)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_date_of_birth(value: date, today: date, field_name: str = "date_of_birth") -> date:
    """Refuse a date of birth in the future, before 1900 or of someone under 16."""
    if value > today:
        raise ValidationError("The date of birth lies in the future.", field_name)
    if value < EARLIEST_BIRTH:
        raise ValidationError("The date of birth lies before 1900.", field_name)
    if age_on(value, today) < MINIMUM_AGE:
        raise ValidationError("The date of birth makes the customer younger than 16.", field_name)
    return value


def parse_date_of_birth(text: str, today: date, field_name: str = "date_of_birth") -> date:
    """A date of birth written as 1981-03-12 or, the Dutch way, 12-03-1981 (or 12-3-1981).

    Only these two forms: 03/12/1981 could be March or December. Errors name the
    field, never the value.
    """
    raw = text.strip()
    iso, dutch = _ISO_DAY.match(raw), _DUTCH_DAY.match(raw)
    try:
        if iso:
            value = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        elif dutch:
            value = date(int(dutch.group(3)), int(dutch.group(2)), int(dutch.group(1)))
        else:
            raise ValueError(raw)
    except ValueError:
        raise ValidationError(
            "The date of birth is not a date like 1981-03-12 or 12-03-1981.", field_name
        ) from None
    return check_date_of_birth(value, today, field_name)
