from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.contact_validation import (
    HouseNumber,
    PostalAddress,
    normalise_email,
    normalise_house_number,
    normalise_mobile,
    normalise_phone,
    normalise_postcode,
    parse_house_number,
    validate_address,
)
from agent_desk.errors import ValidationError


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("020 123 4567", "+31201234567"),
        ("020-1234567", "+31201234567"),
        ("+31 20 123 4567", "+31201234567"),
        ("0031201234567", "+31201234567"),
        ("06 12345678", "+31612345678"),
        ("+32 2 555 12 12", "+3225551212"),
    ],
)
def test_phone_numbers_become_e164(typed: str, expected: str) -> None:
    assert normalise_phone(typed) == expected


@pytest.mark.parametrize("typed", ["", "   ", "hello", "020 123", "12345678901234567"])
def test_bad_phone_numbers_are_rejected_with_a_sentence(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_phone(typed)
    assert caught.value.field == "phone"
    assert str(caught.value).endswith(".")


def test_mobile_requires_a_mobile_number() -> None:
    assert normalise_mobile("06-12345678") == "+31612345678"
    with pytest.raises(ValidationError, match="not a mobile number") as caught:
        normalise_mobile("020 123 4567")
    assert caught.value.field == "mobile"


def test_email_is_normalised_without_network() -> None:
    assert normalise_email("  Jan.Jansen@Example.NL ") == "Jan.Jansen@example.nl"


@pytest.mark.parametrize(
    "typed", ["", "jan", "jan@", "@example.nl", "jan@@example.nl", "jan@ex ample.nl"]
)
def test_bad_email_is_rejected(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_email(typed)
    assert caught.value.field == "email"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1234AB", "1234 AB"),
        ("1234 ab", "1234 AB"),
        (" 9999  zz ", "9999 ZZ"),
        ("1011ac", "1011 AC"),
    ],
)
def test_postcode_is_normalised(typed: str, expected: str) -> None:
    assert normalise_postcode(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "0123 AB", "123 AB", "12345 AB", "1234 A", "1234 SS", "1234 sa", "AB 1234"]
)
def test_bad_postcode_is_rejected(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_postcode(typed)
    assert caught.value.field == "postcode"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12", "12"),
        ("12a", "12A"),
        ("12 A", "12A"),
        ("12-2", "12-2"),
        ("12 bis", "12 bis"),
        ("7 HS", "7 hs"),
    ],
)
def test_house_number_is_normalised(typed: str, expected: str) -> None:
    assert normalise_house_number(typed) == expected


@pytest.mark.parametrize("typed", ["", "0", "a12", "12 abcdef", "123456", "-3"])
def test_bad_house_number_is_rejected(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_house_number(typed)
    assert caught.value.field == "house_number"


def test_address_is_validated_part_by_part() -> None:
    address = validate_address(PostalAddress("  Dorpsstraat ", "3b", "1234ab", "Den  Haag"))
    assert address == PostalAddress("Dorpsstraat", "3B", "1234 AB", "Den Haag")
    assert address.one_line() == "Dorpsstraat 3B, 1234 AB Den Haag"
    with pytest.raises(ValidationError) as caught:
        validate_address(PostalAddress("", "3", "1234AB", "Delft"))
    assert caught.value.field == "street"
    with pytest.raises(ValidationError) as caught:
        validate_address(PostalAddress("Markt", "3", "1234AB", " "))
    assert caught.value.field == "city"


@given(
    st.integers(1000, 9999),
    st.sampled_from("ABCDEFGHJKLMNPRTUVWXYZ"),
    st.sampled_from("ABCEFGHJKLMNPRTUVWXYZ"),
)
def test_every_wellformed_postcode_round_trips(digits: int, first: str, second: str) -> None:
    normalised = normalise_postcode(f"{digits}{first.lower()}{second}")
    assert normalised == f"{digits} {first}{second}"
    assert normalise_postcode(normalised) == normalised


@given(st.integers(1, 99999), st.sampled_from(["", "A", "b", "-1", "bis"]))
def test_house_numbers_round_trip(number: int, suffix: str) -> None:
    parsed = parse_house_number(f"{number}{suffix}")
    assert parsed.number == number
    assert parse_house_number(str(parsed)) == parsed


def test_house_number_str() -> None:
    assert str(HouseNumber(5)) == "5"
    assert str(HouseNumber(5, "2")) == "5-2"
