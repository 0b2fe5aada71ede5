"""The import's fast contact checks give exactly the full checks' verdicts: the same
normalised value for every value they take, and every value they do not take goes to
the full check (so its refusal and message are the full check's)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from agent_desk.domain import contact_fast as fast
from agent_desk.domain.contact_validation import (
    normalise_email,
    normalise_mobile,
    normalise_phone,
)
from agent_desk.domain.search_keys import phone_key
from agent_desk.errors import ValidationError


def _verdict(check: Callable[[str], str], value: str) -> tuple[str, str]:
    try:
        return "ok", check(value)
    except ValidationError as error:
        return "refused", str(error)


def _same(
    fast_check: Callable[[str], str | None],
    combined: Callable[[str], str],
    full: Callable[[str], str],
    values: list[str],
) -> int:
    taken = 0
    for value in values:
        quick = fast_check(value)
        expected = _verdict(full, value)
        if quick is not None:
            taken += 1
            assert expected == ("ok", quick), value
        assert _verdict(combined, value) == expected, value
    return taken


PHONES = [
    "0612345678",
    "06 1234 5678",
    "06-12345678",
    "06--12 34 56 78",
    " -0612345678- ",
    "+31612345678",
    "+31 6 12345678",
    "+ 31 6 1234 5678",
    "0031612345678",
    "0 0 31 612345678",
    "00031612345678",
    "+310612345678",
    "+31 (0)6 12345678",
    "(06) 12345678",
    "06.12345678",
    "06/12345678",
    "0612345678 x12",
    "0612345678 ext 2",
    "06123456789",
    "061234567",
    "0601234567",
    "0661234567",  # pager
    "0671234567",
    "0681234567",
    "0691234567",
    "0201234567",
    "020 123 4567",
    "+31201234567",
    "0101234567",
    "0301234567",
    "0311234567",
    "0391234567",
    "0501234567",
    "0701234567",
    "0800123456",
    "0900123456",
    "0851234567",
    "0911234567",
    "0841234567",
    "0871234567",
    "0881234567",
    "0970123456789",
    "+32471234567",
    "+4915112345678",
    "06１２３４５６７８",
    "٠٦١٢٣٤٥٦٧٨",
    "O612345678",
    "",
    " ",
    "+",
    "06",
    "tel:0612345678",
    "06-CALL-ME",
]


def _random_phones(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    values: list[str] = []
    for _ in range(n):
        prefix = rng.choice(["0", "+31", "0031", "+31 ", "00 31 ", "0", "0"])
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 9, 9, 9, 10])))
        if rng.random() < 0.5:
            digits = rng.choice("123456789") + digits[1:]
        if rng.random() < 0.5:
            digits = "6" + rng.choice("0123456789") + digits[2:]
        out = ""
        for d in digits:
            out += d + (rng.choice([" ", "-", "", "", "", ""]) if rng.random() < 0.3 else "")
        values.append(prefix + out)
    return values


def test_the_phone_fast_path_is_on_with_the_installed_phonenumbers() -> None:
    # When this fails, phonenumbers' NL metadata changed: check the shapes in
    # agent_desk/domain/contact_fast.py against it and record the new NL_METADATA.
    assert fast.phone_fast_path_on()


def test_mobile_fast_and_full_verdicts_agree() -> None:
    values = PHONES + _random_phones(6000, seed=1)
    taken = _same(fast.fast_mobile, fast.mobile, normalise_mobile, values)
    assert taken > 1000, "the plain shapes do take the fast path"


def test_phone_fast_and_full_verdicts_agree() -> None:
    values = PHONES + _random_phones(6000, seed=2)
    taken = _same(fast.fast_phone, fast.phone, normalise_phone, values)
    assert taken > 1000


def test_every_geographic_and_mobile_prefix_agrees() -> None:
    # Every three-digit start of a nine-digit national number, a few endings each.
    values = [
        f"0{a}{b}{c}{end}"
        for a in "0123456789"
        for b in "0123456789"
        for c in "0123456789"
        for end in ("000000", "123456", "999999")
    ]
    _same(fast.fast_phone, fast.phone, normalise_phone, values)
    _same(fast.fast_mobile, fast.mobile, normalise_mobile, values)


def test_phone_keys_of_stored_numbers_agree() -> None:
    rng = random.Random(3)
    values = [
        "+31" + "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 9, 9, 10])))
        for _ in range(5000)
    ]
    values += ["+31612345678", "+31012345678", "+3161234567", "+316123456789", "31612345678"]
    taken = 0
    for value in values:
        quick = fast.fast_phone_key(value)
        if quick is not None:
            taken += 1
            assert quick == phone_key(value), value
        assert phone_key(value) == phone_key(value, fast=False), value
    assert taken > 1000


EMAILS = [
    "klant1@example.nl",
    "Klant.1@Example.NL",
    "a.b-c+d@sub.example.co.uk",
    "first_last@domain-with-hyphen.nl",
    "x@y.nl",
    "info@example.nl",
    "INFO@example.nl",
    "Postmaster@example.nl",
    "a..b@example.nl",
    ".ab@example.nl",
    "ab.@example.nl",
    "a@b@example.nl",
    "a@",
    "@example.nl",
    "a@example",
    "a@localhost",
    "a@example.test",
    "a@example.invalid",
    "a@example.local",
    "a@example.onion",
    "a@example.arpa",
    "a@example.com.",
    "a@.example.com",
    "a@example..com",
    "a@-example.com",
    "a@example-.com",
    "a@ex--ample.com",
    "a@xn--nxasmq6b.com",
    "a@XN--nxasmq6b.com",
    "a@123.456",
    "a@example.123",
    "a@[127.0.0.1]",
    '"quoted"@example.nl',
    "Name <a@example.nl>",
    "a b@example.nl",
    "a@exa mple.nl",
    "jürgen@example.de",
    "a@bücher.de",
    "a@example.nl\u0301",
    "a!#$%&'*+/=?^_`{|}~-@example.nl",
    "a@" + "b" * 63 + ".nl",
    "a@" + "b" * 64 + ".nl",
    "x" * 64 + "@example.nl",
    "x" * 65 + "@example.nl",
    "x" * 240 + "@example.nl",
    "x" * 243 + "@example.nl",
    "a@" + ".".join(["abcdefghij"] * 23) + ".nl",
    " klant@example.nl ",
    "",
    "klant@example.nl;other@example.nl",
]


def _random_emails(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces = ["a", "B", "1", ".", "-", "_", "+", "..", "@", "é", " ", "xn--", "!", '"']
    domains = ["example.nl", "EXAMPLE.com", "mail.co.uk", "x.test", "a-b.nl", "b.", "-a.nl"]
    out: list[str] = []
    for _ in range(n):
        local = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        out.append(local + "@" + rng.choice(domains))
    return out


def test_email_fast_and_full_verdicts_agree() -> None:
    values = EMAILS + _random_emails(4000, seed=4)
    taken = _same(fast.fast_email, fast.email, normalise_email, values)
    assert taken > 300


def test_email_domain_verdicts_follow_the_library_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import email_validator

    assert fast.fast_email("a@example.test") is None
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", True)
    assert _verdict(fast.email, "a@example.test") == _verdict(normalise_email, "a@example.test")
