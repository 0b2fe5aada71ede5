"""The date of birth: one rule for the import, the F7 flow and its service."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.date_of_birth import age_on, masked_date_of_birth, parse_date_of_birth
from agent_desk.domain.import_rows import CUSTOMER_COLUMNS, parse_customer_row
from agent_desk.domain.verification import (
    ContactKind,
    ContactPoint,
    Decision,
    FlowStep,
    VerificationFlow,
)
from agent_desk.errors import ValidationError

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1981-03-12", date(1981, 3, 12)),
        ("12-03-1981", date(1981, 3, 12)),
        ("12-3-1981", date(1981, 3, 12)),
        ("2-3-1981", date(1981, 3, 2)),
        ("  1981-03-12 ", date(1981, 3, 12)),
        ("29-02-1984", date(1984, 2, 29)),
        ("1900-01-01", date(1900, 1, 1)),
    ],
)
def test_iso_and_dutch_dates_are_read(text: str, expected: date) -> None:
    assert parse_date_of_birth(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "12/03/1981",
        "03.12.1981",
        "1981-3-12",
        "19810312",
        "31-02-1981",
        "1981-W10-1",
        "١٢-٠٣-١٩٨١",
    ],
)
def test_other_forms_are_not_a_date(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_date_of_birth(text, TODAY)
    assert caught.value.field == "date_of_birth"
    assert str(caught.value) == "The date of birth is not a date like 1981-03-12 or 12-03-1981."


def test_future_before_1900_and_under_16_are_refused_in_one_sentence() -> None:
    cases = {
        "2026-11-24": "The date of birth lies in the future.",
        "1899-12-31": "The date of birth lies before 1900.",
        "2026-11-23": "The date of birth makes the customer younger than 16.",
        "24-11-2010": "The date of birth makes the customer younger than 16.",
    }
    for text, message in cases.items():
        with pytest.raises(ValidationError) as caught:
            parse_date_of_birth(text, TODAY)
        assert str(caught.value) == message, text


def test_sixteen_today_is_old_enough() -> None:
    assert parse_date_of_birth("23-11-2010", TODAY) == date(2010, 11, 23)
    assert age_on(date(2010, 11, 23), TODAY) == 16
    assert age_on(date(2010, 11, 24), TODAY) == 15


def test_a_leap_day_birthday_counts_from_the_first_of_march() -> None:
    born = date(2008, 2, 29)
    assert age_on(born, date(2025, 2, 28)) == 16  # 2025 has no 29 February
    assert age_on(born, date(2024, 2, 28)) == 15
    assert age_on(born, date(2024, 2, 29)) == 16


SENTENCES = {
    "The date of birth is not a date like 1981-03-12 or 12-03-1981.",
    "The date of birth lies in the future.",
    "The date of birth lies before 1900.",
    "The date of birth makes the customer younger than 16.",
}


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 12, 31)))
def test_an_error_never_repeats_the_date(born: date) -> None:
    """Personal data stays out of messages (and so out of import reports and logs)."""
    for text in (born.isoformat(), born.strftime("%d-%m-%Y"), born.strftime("%d/%m/%Y")):
        try:
            parse_date_of_birth(text, TODAY)
        except ValidationError as error:
            assert str(error) in SENTENCES and error.values == {}


def test_masked_shows_the_year_only() -> None:
    assert masked_date_of_birth(date(1981, 3, 12)) == "••-••-1981"


# ------------------------------------------------------------------ the import row

ROW = {
    "customer_number": "900001",
    "first_name": "Fatma",
    "last_name": "Çelik",
    "street": "Dorpsstraat",
    "house_number": "4",
    "postcode": "1234 AB",
    "city": "Ede",
    "claim_reference": "INV-1",
    "principal": "10.00",
    "due_date": "2026-10-01",
}


def test_the_import_column_is_optional_and_read_in_both_forms() -> None:
    assert "date_of_birth" in CUSTOMER_COLUMNS
    assert parse_customer_row(ROW, set(), TODAY).date_of_birth is None
    assert parse_customer_row({**ROW, "date_of_birth": ""}, set(), TODAY).date_of_birth is None
    for text in ("1981-03-12", "12-03-1981"):
        record = parse_customer_row({**ROW, "date_of_birth": text}, set(), TODAY)
        assert record.date_of_birth == date(1981, 3, 12)


def test_a_bad_import_date_of_birth_is_refused_without_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_customer_row({**ROW, "date_of_birth": "12-03-2030"}, set(), TODAY)
    assert str(caught.value) == "The date of birth lies in the future."
    assert "2030" not in str(caught.value)


# ------------------------------------------------------------------ the F7 flow

NOW = datetime(2026, 11, 23, 14, 0)


def flow(on_file: date | None) -> VerificationFlow:
    points = [ContactPoint(1, ContactKind.MOBILE, "+31612345678", NOW - timedelta(days=200))]
    f = VerificationFlow(points, agent="sanne", now=NOW, date_of_birth=on_file)
    while f.step is not FlowStep.DATE_OF_BIRTH:
        for view in f.items() if f.step is FlowStep.PHONES else []:
            f.confirm(view.handle)
        f.next()
    return f


def finish(f: VerificationFlow) -> None:
    while f.step is not FlowStep.SUMMARY:
        f.next()
    f.finish()


@pytest.mark.parametrize(
    ("on_file", "stated", "decision"),
    [
        (None, "12-03-1981", Decision.ADDED),
        (date(1981, 3, 12), "1981-03-12", Decision.CONFIRMED),
        (date(1981, 3, 21), "12-03-1981", Decision.CORRECTED),
    ],
)
def test_the_stated_date_confirms_corrects_or_adds(
    on_file: date | None, stated: str, decision: Decision
) -> None:
    f = flow(on_file)
    assert f.birth_view().on_file == on_file and f.birth_view().decision is None
    assert f.state_date_of_birth(stated) is decision
    finish(f)
    assert f.result is not None and f.result.date_of_birth is not None
    change = f.result.date_of_birth
    assert (change.decision, change.value) == (decision, date(1981, 3, 12))
    assert change.recorded_by == "sanne" and change.recorded_at == NOW


def test_a_wrong_date_stays_on_the_page_with_the_error_beside_the_field() -> None:
    f = flow(None)
    with pytest.raises(ValidationError):
        f.state_date_of_birth("12-03-2020")
    assert f.step is FlowStep.DATE_OF_BIRTH
    assert f.error is not None and f.error.field == "date_of_birth"
    assert f.error.message == "The date of birth makes the customer younger than 16."
    assert f.birth_view().stated is None
    f.state_date_of_birth("12-03-1981")
    assert f.error is None
    f.undo_date_of_birth()
    finish(f)
    assert f.result is not None and f.result.date_of_birth is None  # optional


def test_the_date_of_birth_is_only_recorded_on_its_page() -> None:
    f = VerificationFlow([], agent="sanne", now=NOW)
    with pytest.raises(ValidationError):
        f.state_date_of_birth("12-03-1981")
