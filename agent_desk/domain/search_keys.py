"""Find anyone: the normalised search keys of a customer and the probes of a query.

One rule for both sides: a customer's name, number, phones, e-mail addresses,
postcode + house number and claim references become short keys (unaccented,
lower-case, punctuation gone, phones as E.164 digits), and what the agent types is
turned into the same shapes. The database then only compares prefixes of keys with
one index (``customer_search_key``), so a search at a million customers is a few
index range scans, never a scan of the customers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_REGION = "NL"
MAX_KEY = 200  # the column's length; longer keys are cut (a prefix still finds them)
MIN_PREFIX = 2  # shorter words find too much to be useful


class Field(StrEnum):
    """Why a customer matched, in the order an agent trusts a match."""

    CUSTOMER_NUMBER = "customer_number"
    CLAIM_REFERENCE = "claim_reference"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "postcode_house_number"
    NAME = "name"


# Fields that identify one customer: an exact match on one of these comes first, and
# only these find a colleague's customer (see services.search).
IDENTIFYING = frozenset(
    {Field.CUSTOMER_NUMBER, Field.CLAIM_REFERENCE, Field.PHONE, Field.EMAIL, Field.ADDRESS}
)

# Letters NFKD does not split into a base letter and a mark.
_FOLD = str.maketrans(
    {
        "ı": "i",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "ĳ": "ij",
        "Ĳ": "ij",
    }
)
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_POSTCODE = re.compile(r"^\s*(\d{4})\s*([a-zA-Z]{2})(?:[\s,]*(\d.*?))?\s*$")
_POSTCODE_ONLY_DIGITS = re.compile(r"^\s*(\d{4})\s*$")
_PHONE_CHARS = re.compile(r"^[\d\s()+\-./]+$")


def fold(text: str) -> str:
    """Lower-case, without accents: "Hüseyin Çelik" -> "huseyin celik"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(_FOLD).casefold()


def compact(text: str) -> str:
    """Only letters and digits, folded: "INV-2026/0012" -> "inv20260012"."""
    return _NOT_WORD.sub("", fold(text))


def name_words(text: str) -> list[str]:
    """The words of a name, folded; "O'Brien-de Vries" also gives "obrien"."""
    words: list[str] = []
    for part in fold(text).split():
        pieces = [p for p in _NOT_WORD.split(part) if p]
        words.extend(pieces)
        if len(pieces) > 1:
            words.append("".join(pieces))
    return words


def phone_key(
    text: str, region: str = DEFAULT_REGION, *, valid: bool = False, fast: bool = True
) -> str | None:
    """A phone number as E.164 digits without the plus ("31612345678"), if it is one.

    ``valid``: only a number that can exist (what a typed query must be to be taken
    as a whole number rather than the start of one). ``fast``: a stored Dutch E.164
    number is answered without parsing it (the same answer; see ``contact_fast``).
    """
    if fast and not valid:
        from agent_desk.domain.contact_fast import fast_phone_key

        known = fast_phone_key(text)
        if known is not None:
            return known
    import phonenumbers  # loaded with the first phone number (not at start-up)

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    check = phonenumbers.is_valid_number if valid else phonenumbers.is_possible_number
    if not check(number):
        return None
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164.lstrip("+")


def phone_prefix(text: str, region: str = DEFAULT_REGION) -> str | None:
    """What a partly typed number starts with in E.164 digits: "06-123" -> "316123"."""
    if not _PHONE_CHARS.match(text):
        return None
    full = phone_key(text, region, valid=True)
    if full is not None:
        return full
    digits = re.sub(r"\D", "", text)
    if len(digits) < 3:
        return None
    stripped = text.strip()
    if stripped.startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:] or None
    if digits.startswith("0"):
        import phonenumbers

        code = phonenumbers.country_code_for_region(region)
        return f"{code}{digits[1:]}"
    return None


def address_key(postcode: str | None, house_number: str | None) -> str | None:
    """ "1234 AB" + "4-2" -> "1234ab 42" (the number compacted, after one space)."""
    code = compact(postcode or "")
    if not code:
        return None
    number = compact(house_number or "")
    return f"{code} {number}" if number else code


@dataclass(frozen=True)
class Key:
    field: Field
    key: str


@dataclass(frozen=True)
class PointFacts:
    """What the keys need of a contact point."""

    kind: str  # ContactKind value
    value: str
    postcode: str | None = None
    house_number: str | None = None


def customer_keys(
    customer_number: str,
    first_name: str,
    last_name: str,
    points: Iterable[PointFacts] = (),
    claim_references: Iterable[str] = (),
) -> set[Key]:
    """Every key one customer is found by."""
    pairs = key_pairs(customer_number, first_name, last_name, points, claim_references)
    return {Key(_FIELDS[field], key) for field, key in pairs}


_FIELDS = {f.value: f for f in Field}
_F_NUMBER = Field.CUSTOMER_NUMBER.value
_F_NAME = Field.NAME.value
_F_PHONE = Field.PHONE.value
_F_EMAIL = Field.EMAIL.value
_F_ADDRESS = Field.ADDRESS.value
_F_REFERENCE = Field.CLAIM_REFERENCE.value


def key_pairs(
    customer_number: str,
    first_name: str,
    last_name: str,
    points: Iterable[PointFacts] = (),
    claim_references: Iterable[str] = (),
) -> set[tuple[str, str]]:
    """:func:`customer_keys` as ``(field value, key)`` pairs: the rule itself, in the
    plain form bulk loads write (no ``Key`` objects for 200,000 customers)."""
    keys: set[tuple[str, str]] = set()
    number = compact(customer_number)
    if number:
        keys.add((_F_NUMBER, number[:MAX_KEY]))
    for word in name_words(f"{first_name} {last_name}"):
        keys.add((_F_NAME, word[:MAX_KEY]))
    for point in points:
        if point.kind in ("phone", "mobile"):
            phone = phone_key(point.value)
            if phone:
                keys.add((_F_PHONE, phone[:MAX_KEY]))
        elif point.kind == "email":
            email = fold(point.value).strip()
            if email:
                keys.add((_F_EMAIL, email[:MAX_KEY]))
        elif point.kind == "address":
            address = address_key(point.postcode, point.house_number)
            if address:
                keys.add((_F_ADDRESS, address[:MAX_KEY]))
    for reference in claim_references:
        ref = compact(reference)
        if ref:
            keys.add((_F_REFERENCE, ref[:MAX_KEY]))
    return keys


@dataclass(frozen=True)
class Probe:
    """One index lookup: keys of ``field`` starting with ``prefix``.

    ``words`` (names only) are the further words every match must also have.
    """

    field: Field
    prefix: str
    words: tuple[str, ...] = ()


def probes(query: str, region: str = DEFAULT_REGION) -> list[Probe]:
    """The lookups a typed query means; empty when it is too short to mean anything."""
    text = query.strip()
    if not text:
        return []
    found: list[Probe] = []
    flat = compact(text)
    no_spaces = not any(c.isspace() for c in text)
    if len(flat) >= MIN_PREFIX and any(c.isdigit() for c in flat):
        found.append(Probe(Field.CUSTOMER_NUMBER, flat[:MAX_KEY]))
        found.append(Probe(Field.CLAIM_REFERENCE, flat[:MAX_KEY]))
    elif len(flat) >= MIN_PREFIX and no_spaces:
        found.append(Probe(Field.CLAIM_REFERENCE, flat[:MAX_KEY]))
    phone = phone_prefix(text, region)
    if phone:
        found.append(Probe(Field.PHONE, phone))
    if no_spaces and ("@" in text or "." in text) and len(text) >= 3:
        found.append(Probe(Field.EMAIL, fold(text)[:MAX_KEY]))
    postcode = _POSTCODE.match(text)
    if postcode:
        key = address_key(postcode.group(1) + postcode.group(2), postcode.group(3))
        if key:
            found.append(Probe(Field.ADDRESS, key))
    elif _POSTCODE_ONLY_DIGITS.match(text):
        found.append(Probe(Field.ADDRESS, compact(text)))
    words = [] if "@" in text else [w for w in name_words(text) if not w.isdigit()]
    words = [w for w in dict.fromkeys(words) if len(w) >= MIN_PREFIX or len(words) > 1]
    if words and any(len(w) >= MIN_PREFIX for w in words):
        # The longest word drives the index lookup (it finds the fewest keys).
        driver = max(words, key=len)
        rest = tuple(w for w in words if w != driver)
        found.append(Probe(Field.NAME, driver[:MAX_KEY], rest))
    return found


def exact_keys(query: str, region: str = DEFAULT_REGION) -> list[Key]:
    """The identifying keys a query states in full (what finds a colleague's customer)."""
    keys: list[Key] = []
    text = query.strip()
    flat = compact(text)
    if len(flat) >= 3 and any(c.isdigit() for c in flat):
        keys += [Key(Field.CUSTOMER_NUMBER, flat), Key(Field.CLAIM_REFERENCE, flat)]
    if _PHONE_CHARS.match(text):
        phone = phone_key(text, region, valid=True)
        if phone:
            keys.append(Key(Field.PHONE, phone))
    if "@" in text and not any(c.isspace() for c in text):
        keys.append(Key(Field.EMAIL, fold(text)))
    postcode = _POSTCODE.match(text)
    if postcode and postcode.group(3):
        key = address_key(postcode.group(1) + postcode.group(2), postcode.group(3))
        if key:
            keys.append(Key(Field.ADDRESS, key))
    return [Key(k.field, k.key[:MAX_KEY]) for k in keys]


def upper_bound(prefix: str) -> str:
    """The smallest string after every string starting with ``prefix`` (byte order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def rank(field: Field, key: str, probe: Probe) -> int:
    """Lower is better: an exact identifying key, then identifying prefixes, then names."""
    exact = key == probe.prefix
    if field in IDENTIFYING:
        return 0 if exact else 2
    return 1 if exact else 3


def iter_fields(fields: Iterable[Field]) -> Iterator[Field]:
    """Fields in the order of ``Field`` (the most telling first)."""
    wanted = set(fields)
    return (f for f in Field if f in wanted)
