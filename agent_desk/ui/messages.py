"""Domain messages with values in them, translated by shape.

The domain raises ``ValidationError`` with English sentences that contain what the
agent typed (``'0612' is not a valid phone number…``). A catalogue lookup of the
whole sentence cannot work, so each known shape is listed here once with
``{placeholders}``; :func:`explain` matches the English text against the shapes and
returns the translated sentence with the same values. Unknown texts pass through
``tr`` unchanged.
"""

from __future__ import annotations

import re
from functools import cache

from agent_desk.i18n import N_, Translator

#: (English shape as raised, message id to show). The id may use fewer placeholders.
SHAPES: tuple[tuple[str, str], ...] = (
    # contact_validation
    ("Enter a phone number.", N_("Enter a phone number.")),
    (
        "'{value}' is not a phone number; type it like 020 123 4567 or +31 20 123 4567.",
        N_("'{value}' is not a phone number; type it like 020 123 4567 or +31 20 123 4567."),
    ),
    (
        "'{value}' is not a valid phone number; check the number of digits.",
        N_("'{value}' is not a valid phone number; check the number of digits."),
    ),
    (
        "'{value}' is not a mobile number; a Dutch mobile number starts with 06.",
        N_("'{value}' is not a mobile number; a Dutch mobile number starts with 06."),
    ),
    ("Enter an e-mail address.", N_("Enter an e-mail address.")),
    (
        "'{value}' is not a valid e-mail address. {detail}",
        N_("'{value}' is not a valid e-mail address."),
    ),
    ("Enter a postcode.", N_("Enter a postcode.")),
    (
        "'{value}' is not a Dutch postcode; it has four digits and two letters, like 1234 AB.",
        N_("'{value}' is not a Dutch postcode; it has four digits and two letters, like 1234 AB."),
    ),
    (
        "'{value}' is not a Dutch postcode; the letters {letters} are never used.",
        N_("'{value}' is not a Dutch postcode; the letters {letters} are never used."),
    ),
    ("Enter a house number.", N_("Enter a house number.")),
    (
        "'{value}' is not a house number; type a number with an optional addition, like 12A.",
        N_("'{value}' is not a house number; type a number with an optional addition, like 12A."),
    ),
    (
        "'{value}' is not a house number; it must be 1 or more.",
        N_("'{value}' is not a house number; it must be 1 or more."),
    ),
    ("Enter the street.", N_("Enter the street.")),
    ("Enter the town or city.", N_("Enter the town or city.")),
    (
        "This is too long; use at most {count} characters.",
        N_("This is too long; use at most {count} characters."),
    ),
    # the verification flow
    (
        "Say why this is no longer right, e.g. 'number not in use'.",
        N_("Say why this is no longer right, e.g. 'number not in use'."),
    ),
    (
        "Ask the customer about {value}: confirm, correct, mark it as no longer right, or "
        "note that the customer would not say.",
        N_(
            "Ask the customer about {value}: confirm, correct, mark it as no longer right, "
            "or note that the customer would not say."
        ),
    ),
    (
        "SMS can only be the preferred channel with consent for SMS.",
        N_("SMS can only be the preferred channel with consent for SMS."),
    ),
    (
        "WhatsApp can only be the preferred channel with consent for WhatsApp.",
        N_("WhatsApp can only be the preferred channel with consent for WhatsApp."),
    ),
    (
        "There is no usable {kind} for {channel}; add one first or choose another channel.",
        N_(
            "There is no usable contact point for this channel; add one first or choose "
            "another channel."
        ),
    ),
    ("{value} is already in the list.", N_("{value} is already in the list.")),
    ("Enter the address in its parts.", N_("Enter the address in its parts.")),
    # typed script fields
    (
        "'{value}' is not an amount; type it like 1234.56.",
        N_("'{value}' is not an amount; type it like 1234.56."),
    ),
    (
        "'{value}' is unclear: type one thousand as 1000 and one euro as 1.00.",
        N_("'{value}' is unclear: type one thousand as 1000 and one euro as 1.00."),
    ),
    (
        "'{value}' has more than two decimals; cents are the smallest unit.",
        N_("'{value}' has more than two decimals; cents are the smallest unit."),
    ),
    ("The {field} cannot be negative.", N_("The amount cannot be negative.")),
    ("The {field} must be more than zero.", N_("The amount must be more than zero.")),
    (
        "'{value}' is not a date; type it like 31-01-2026 or 2026-01-31.",
        N_("'{value}' is not a date; type it like 31-01-2026 or 2026-01-31."),
    ),
    (
        "This step has no next step; pick one of the choices.",
        N_("This step has no next step; pick one of the choices."),
    ),
)


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    compiled = []
    for shape, message in SHAPES:
        parts = re.split(r"\{(\w+)\}", shape)
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.*?)"
            for index, part in enumerate(parts)
        )
        compiled.append((re.compile(f"^{regex}$", re.DOTALL), message))
    return tuple(compiled)


def explain(tr: Translator, text: str) -> str:
    """``text`` (an English domain message) in the desk's language."""
    for pattern, message in _patterns():
        match = pattern.match(text)
        if match is not None:
            return tr(message, **match.groupdict())
    return tr(text)
