"""Fast verdicts for the common shapes of contact data, the same as the full checks.

An import of 200,000 rows spends most of its row checks in ``phonenumbers`` and
``email_validator`` (about 0.1 ms each per value), although nearly every value has one
of a few plain shapes: ``0612345678``, ``+31 6 1234 5678``, ``name@example.nl``.
These functions recognise those shapes with a precompiled pattern and give the
result the full check gives; every other value (and every value the full check
might refuse) goes to the full check in :mod:`agent_desk.domain.contact_validation`,
so the verdicts and messages are exactly the full check's.

What makes that exact, not merely likely:

* Phone numbers: the fast shapes are Dutch numbers whose type follows from the
  library's own NL metadata (the mobile and fixed-line patterns are compiled from
  it). The fast path is only on when that metadata is the one these shapes were
  worked out against (``NL_METADATA``); a ``phonenumbers`` release that changes it
  turns the fast path off (slower, still right) and a test says so.
* E-mail: the part after the ``@`` is checked by ``email_validator`` itself, once
  per distinct domain (a portfolio has a few hundred), by validating a probe address
  with that domain; the part before it is the library's own dot-atom rule for plain
  ASCII, which it accepts unchanged. Lengths are checked as the library does.

``tests/domain/test_contact_fast.py`` compares fast and full verdicts on many tricky
and random values.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from agent_desk.domain.contact_validation import (
    normalise_email,
    normalise_mobile,
    normalise_phone,
)

# ------------------------------------------------------------------- phones

#: The NL metadata of ``phonenumbers`` the phone shapes below were worked out against:
#: (national number pattern, possible lengths) of each number type, then the
#: prefixes used in parsing.
NL_METADATA: tuple[Any, ...] = (
    (
        r"(?:[124-7]\d\d|3(?:[02-9]\d|1[0-8]))\d{6}|8\d{6,9}|9\d{6,10}|1\d{4,5}",
        (5, 6, 7, 8, 9, 10, 11),
    ),
    (
        r"(?:1(?:[035]\d|1[13-578]|6[124-8]|7[24]|8[0-467])|2(?:[0346]\d|2[2-46-9]|5[125]"
        r"|9[479])|3(?:[03568]\d|1[3-8]|2[01]|4[1-8])|4(?:[0356]\d|1[1-368]|7[58]|8[15-8]"
        r"|9[23579])|5(?:[0358]\d|[19][1-9]|2[1-57-9]|4[13-8]|6[126]|7[0-3578])|7\d\d)\d{6}",
        (9,),
    ),
    (r"(?:6[1-58]|970\d)\d{7}", (9, 11)),
    (r"800\d{4,7}", (7, 8, 9, 10)),
    (r"90[069]\d{4,7}", (7, 8, 9, 10)),
    None,
    None,
    (r"(?:85|91)\d{7}", (9,)),
    (r"66\d{7}", (9,)),
    (
        r"140(?:1[035]|2[0346]|3[03568]|4[0356]|5[0358]|8[458])|(?:140(?:1[16-8]|2[259]"
        r"|3[124]|4[17-9]|5[124679]|7)|8[478]\d{6})\d",
        (5, 6, 9),
    ),
    None,
    ("0", "0", None, "00", 31, False),
)

_DESCS = (
    "general_desc",
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)

#: A Dutch number in one of its plain written forms, spaces and hyphens taken out:
#: 0612345678, +31612345678, 0031612345678 (the national number in group 1).
_DUTCH = re.compile(r"(?:0|\+31|0031)([1-9]\d{8})")
#: What may stand between the digits of a plain form (the library ignores both).
_SEPARATORS = str.maketrans("", "", " -")
#: National numbers the NL metadata makes a mobile number, and no other type.
_MOBILE = re.compile(r"6[1-58]\d{7}")
#: Geographic numbers (first digit 1-5 or 7): no special type begins with these
#: digits at nine digits (premium 90, toll-free 800, VoIP 85/91, pager 66, UAN 14/84/87/88).
_GEOGRAPHIC_FIRST = frozenset("123457")


def _metadata_now() -> tuple[Any, ...]:
    from phonenumbers import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region("NL")
    if meta is None:
        return ()
    descs: list[Any] = []
    for name in _DESCS:
        desc = getattr(meta, name)
        if desc is None or desc.national_number_pattern is None:
            descs.append(None)
        else:
            descs.append((desc.national_number_pattern, tuple(desc.possible_length)))
    descs.append(
        (
            meta.national_prefix,
            meta.national_prefix_for_parsing,
            meta.national_prefix_transform_rule,
            meta.international_prefix,
            meta.country_code,
            bool(meta.same_mobile_and_fixed_line_pattern),
        )
    )
    return tuple(descs)


@lru_cache(maxsize=1)
def _phone_patterns() -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """(general, fixed line) compiled from the library's NL metadata, or ``None`` when
    that metadata is not the one the fast shapes were worked out against."""
    import phonenumbers

    if _metadata_now() != NL_METADATA:
        return None
    if phonenumbers.region_codes_for_country_code(31) != ("NL",):
        return None
    general, fixed = NL_METADATA[0][0], NL_METADATA[1][0]
    return re.compile(general), re.compile(fixed)


def phone_fast_path_on() -> bool:
    """Whether the installed ``phonenumbers`` has the NL metadata the fast path knows."""
    return _phone_patterns() is not None


def _national(text: str) -> str | None:
    """The nine-digit Dutch national number of a plain written form, if it is one."""
    match = _DUTCH.fullmatch(text.strip().translate(_SEPARATORS))
    return match.group(1) if match else None


def fast_mobile(text: str) -> str | None:
    """``normalise_mobile(text)`` when the shape decides it, else ``None``."""
    national = _national(text)
    if national is None or not _MOBILE.fullmatch(national) or _phone_patterns() is None:
        return None
    return "+31" + national


def fast_phone(text: str) -> str | None:
    """``normalise_phone(text)`` when the shape decides it, else ``None``."""
    national = _national(text)
    if national is None:
        return None
    patterns = _phone_patterns()
    if patterns is None:
        return None
    if _MOBILE.fullmatch(national):
        return "+31" + national
    general, fixed = patterns
    if (
        national[0] in _GEOGRAPHIC_FIRST
        and general.fullmatch(national)
        and fixed.fullmatch(national)
    ):
        return "+31" + national
    return None


def mobile(text: str) -> str:
    """:func:`normalise_mobile`, quicker for the plain shapes."""
    return fast_mobile(text) or normalise_mobile(text)


def phone(text: str) -> str:
    """:func:`normalise_phone`, quicker for the plain shapes."""
    return fast_phone(text) or normalise_phone(text)


#: E.164 of a Dutch number with a nine-digit national number not starting with 0.
_DUTCH_E164 = re.compile(r"\+31[1-9]\d{8}")


def fast_phone_key(text: str) -> str | None:
    """``search_keys.phone_key(text)`` (``valid=False``) for a stored Dutch E.164
    number: parsing it gives the same number back and nine digits is a possible NL
    length. ``None`` when the shape does not decide it."""
    if _DUTCH_E164.fullmatch(text) and _phone_patterns() is not None:
        return text[1:]
    return None


# ------------------------------------------------------------------- e-mail

#: The library's own dot-atom rule for the part before the ``@`` (RFC 5322 atext).
_ATEXT = r"a-zA-Z0-9_!#\$%&'\*\+\-/=\?\^`\{\|\}~"
_LOCAL = re.compile(f"[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*")
#: Plain ASCII domain names only (no IDNA ``xn--`` labels: their normalised form differs).
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")
_MAX_ADDRESS = 254


def _email_settings() -> tuple[Any, ...]:
    """The library's module-wide defaults that bear on the domain's verdict."""
    import email_validator

    return (
        email_validator.ALLOW_SMTPUTF8,
        email_validator.GLOBALLY_DELIVERABLE,
        email_validator.TEST_ENVIRONMENT,
        email_validator.ALLOW_DOMAIN_LITERAL,
        tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES),
    )


@lru_cache(maxsize=4096)
def _domain(domain: str, _settings: tuple[Any, ...]) -> tuple[str, str] | None:
    """(normalised, ASCII) form of a domain the library accepts, else ``None``."""
    from email_validator import EmailNotValidError, validate_email

    try:
        probe = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    if probe.ascii_domain is None:
        return None
    return probe.domain, probe.ascii_domain


def fast_email(text: str) -> str | None:
    """``normalise_email(text)`` when the shape decides it, else ``None``."""
    raw = text.strip()
    if not raw.isascii() or raw.count("@") != 1:
        return None
    local, domain = raw.split("@")
    if not _LOCAL.fullmatch(local) or not _DOMAIN.fullmatch(domain) or "xn--" in domain.lower():
        return None
    from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

    if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        return None  # the library lower-cases these: left to it
    forms = _domain(domain, _email_settings())
    if forms is None:
        return None
    normalised, ascii_domain = forms
    address = local + "@" + normalised
    longest = max(len(raw), len(address.encode()), len(local) + 1 + len(ascii_domain))
    if longest > _MAX_ADDRESS:
        return None
    return address


def email(text: str) -> str:
    """:func:`normalise_email`, quicker for the plain shapes."""
    return fast_email(text) or normalise_email(text)
