"""The early-signal rule, the municipality lookup and the creditor profile's parsers (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from agent_desk.domain import creditor
from agent_desk.domain.municipality import municipality_for, parse_table
from agent_desk.domain.signals import Condition, SignalFacts, reportability
from agent_desk.errors import ValidationError

TODAY = date(2026, 12, 1)
READY = SignalFacts(
    today=TODAY,
    duty=True,
    open=True,
    arrears_cents=90_000,
    min_arrears_cents=75_000,
    wait_days=14,
    arrears_since=date(2026, 9, 1),
    contact_on=date(2026, 10, 1),
    debt_help_on=date(2026, 10, 1),
    reminder_on=date(2026, 10, 20),
    offer_on=date(2026, 10, 20),
)


def test_everything_done_is_due_from_the_end_of_the_waiting_period() -> None:
    result = reportability(READY)
    assert result.due and result.missing == ()
    assert result.since == date(2026, 11, 3)
    assert "offer 2026-10-20" in result.why()


def test_the_last_condition_decides_since_when() -> None:
    late_contact = replace(READY, contact_on=date(2026, 11, 20))
    assert reportability(late_contact).since == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"duty": False}, Condition.DUTY),
        ({"open": False}, Condition.OPEN),
        ({"arrears_cents": 74_999}, Condition.MIN_ARREARS),
        ({"contact_on": None}, Condition.CONTACT),
        ({"debt_help_on": None}, Condition.DEBT_HELP),
        ({"reminder_on": None}, Condition.REMINDER),
        ({"offer_on": None}, Condition.OFFER),
        ({"objected_on": date(2026, 11, 1)}, Condition.NO_OBJECTION),
        ({"today": date(2026, 11, 2)}, Condition.WAITED),
        ({"signal_sent_on": date(2026, 11, 10)}, Condition.NOT_SENT),
        # Events of earlier arrears do not count for these.
        ({"contact_on": date(2026, 8, 31)}, Condition.CONTACT),
        ({"offer_on": date(2026, 8, 1)}, Condition.OFFER),
    ],
)
def test_each_condition_is_needed(change: dict[str, object], missing: Condition) -> None:
    result = reportability(replace(READY, **change))  # type: ignore[arg-type]
    assert not result.due and missing in result.missing and result.since is None


def test_a_signal_for_earlier_arrears_does_not_block_new_ones() -> None:
    assert reportability(replace(READY, signal_sent_on=date(2026, 3, 1))).due


def test_the_waiting_period_counts_whole_days() -> None:
    on_the_day = replace(READY, today=READY.offer_on + timedelta(days=14))  # type: ignore[operator]
    assert reportability(on_the_day).due
    day_before = replace(READY, today=READY.offer_on + timedelta(days=13))  # type: ignore[operator]
    assert Condition.WAITED in reportability(day_before).missing


def test_the_municipality_comes_from_the_postcode_else_the_city() -> None:
    assert municipality_for("3511 ab", "UTRECHT").name == "Utrecht"
    assert municipality_for("3511AB", "x").source == "postcode"
    guess = municipality_for("9999 ZZ", "DE BILT")
    assert guess.name == "De Bilt" and guess.source == "city"
    assert municipality_for("", "BERGEN OP ZOOM").name == "Bergen op Zoom"
    assert municipality_for("", "'S-GRAVENHAGE").name == "'s-Gravenhage"
    assert municipality_for("", "Zeist").name == "Zeist"
    assert municipality_for(None, "").source == ""
    table = parse_table('[[range]]\nfrom = 1000\nto = 1000\nmunicipality = "Test"\n')
    assert municipality_for("1000 AA", "Elders", table).name == "Test"


@pytest.mark.parametrize(
    ("key", "text", "stored"),
    [
        ("iban", "nl91abna0417164300", "NL91 ABNA 0417 1643 00"),
        ("sector", "Health insurance", "health_insurance"),
        ("vat_on_costs", "ja", True),
        ("vat_on_costs", "no", False),
        ("signal_min_arrears", "650,00", 65_000),
        ("signal_wait_days", "21", 21),
        ("address", "Postbus 1 | 3500 AA  Utrecht", ["Postbus 1", "3500 AA  Utrecht"]),
        ("bic", "", ""),
    ],
)
def test_profile_values_are_parsed(key: str, text: str, stored: object) -> None:
    assert creditor.parse(key, text) == stored


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("iban", "NL91ABNA0417164301"),
        ("sector", "bakery"),
        ("signal_wait_days", "400"),
        ("kvk", "12"),
        ("nonsense", "x"),
        ("name", "A\x07B"),
    ],
)
def test_bad_profile_values_name_their_key(key: str, text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        creditor.parse(key, text)
    assert refused.value.field in (key, "key")


def test_the_sectors_with_the_early_signal_duty() -> None:
    with_duty = {s for s in creditor.Sector if creditor.Duty.EARLY_SIGNAL in creditor.duties(s)}
    assert with_duty == {"housing", "energy", "water", "health_insurance"}
