"""BIK collection costs: the legal worked examples, rounding, VAT and waiving."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.fees import (
    FeeTable,
    bik_costs,
    collection_costs,
    load_fee_table,
    parse_fee_table,
)
from agent_desk.errors import ValidationError

ON = date(2027, 1, 1)


@pytest.fixture(scope="module")
def table() -> FeeTable:
    return load_fee_table()


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        (25_000, 4_000),  # 250 -> minimum 40.00
        (30_000, 4_500),  # 300 -> 45.00
        (250_000, 37_500),  # 2,500 -> 375.00
        (500_000, 62_500),  # 2,500 at 15% + 2,500 at 10%
        (1_000_000, 87_500),  # 10,000 -> 875.00
        (20_000_000, 277_500),  # 200,000 -> 2,775.00
        (100_000_000, 677_500),  # 1,000,000 reaches the maximum exactly
        (500_000_000, 677_500),  # capped at 6,775.00
        (1, 4_000),  # tiny claims pay the minimum
    ],
)
def test_bik_scale_worked_examples(table: FeeTable, principal: int, costs: int) -> None:
    assert bik_costs(principal, table.scale_on(ON)) == costs


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        (26_670, 4_001),  # 4000.5 cents rounds half up
        (250_005, 37_501),  # 37500 + 0.5 cents in the second bracket
        (26_669, 4_000),  # 4000.35 rounds down
    ],
)
def test_costs_round_half_up_to_cents(table: FeeTable, principal: int, costs: int) -> None:
    assert bik_costs(principal, table.scale_on(ON)) == costs


def test_several_claims_are_summed_before_the_scale(table: FeeTable) -> None:
    result = collection_costs([15_000, 15_000], table, ON)
    assert result.principal == 30_000
    assert result.costs == 4_500  # not 2 x 40.00 minimum
    assert result.total == 34_500


def test_vat_only_when_asked(table: FeeTable) -> None:
    without = collection_costs([250_000], table, ON)
    assert (without.costs, without.vat, without.total) == (37_500, 0, 287_500)
    with_vat = collection_costs([250_000], table, ON, add_vat=True)
    assert with_vat.vat == 7_875  # 21% of 375.00
    assert with_vat.total == 250_000 + 37_500 + 7_875


def test_waived_costs_are_kept_for_the_record_but_not_charged(table: FeeTable) -> None:
    result = collection_costs([250_000], table, ON, add_vat=True, waive_costs=True)
    assert result.costs == 37_500 and result.vat == 7_875
    assert result.charged_costs == 0 and result.charged_vat == 0
    assert result.total == 250_000


def test_no_scale_before_it_came_into_force(table: FeeTable) -> None:
    with pytest.raises(ValidationError, match="2012-06-30"):
        collection_costs([100_000], table, date(2012, 6, 30))


@pytest.mark.parametrize("principals", [[], [0], [-100], [10_000, 0]])
def test_principals_must_be_positive(table: FeeTable, principals: list[int]) -> None:
    with pytest.raises(ValidationError) as raised:
        collection_costs(principals, table, ON)
    assert raised.value.field == "principal"


def test_dated_table_picks_the_scale_in_force() -> None:
    text = """
[[scale]]
effective_from = 2012-07-01
minimum = "40.00"
maximum = "6775.00"
brackets = [{ rate = "0.15" }]
[[scale]]
effective_from = 2030-01-01
minimum = "50.00"
maximum = "7000.00"
brackets = [{ rate = "0.20" }]
[[vat]]
effective_from = 2012-10-01
rate = "0.21"
"""
    table = parse_fee_table(text)
    assert collection_costs([100_000], table, date(2029, 12, 31)).costs == 15_000
    assert collection_costs([100_000], table, date(2030, 1, 1)).costs == 20_000


@pytest.mark.parametrize(
    "bad",
    [
        'minimum = 40.0\nmaximum = "1.00"\nbrackets = [{ rate = "0.1" }]',
        'minimum = "40.00"\nmaximum = "1.00"\nbrackets = [{ rate = 0.1 }]',
        'minimum = "40.00"\nmaximum = "1.00"\nbrackets = [{ rate = "0.1" }, { width = "1.00", rate = "0.1" }]',
    ],
)
def test_bad_fee_table_is_rejected(bad: str) -> None:
    text = f'[[scale]]\neffective_from = 2012-07-01\n{bad}\n[[vat]]\neffective_from = 2012-10-01\nrate = "0.21"\n'
    with pytest.raises(ValidationError):
        parse_fee_table(text)


@given(st.integers(min_value=0, max_value=10**11), st.integers(min_value=0, max_value=10**9))
def test_costs_never_fall_as_principal_grows_and_stay_within_limits(a: int, extra: int) -> None:
    scale = load_fee_table().scale_on(ON)
    low, high = bik_costs(a, scale), bik_costs(a + extra, scale)
    assert low <= high
    assert scale.minimum <= low <= scale.maximum


def test_fee_table_that_is_not_toml_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not valid TOML"):
        parse_fee_table("[[scale]\n")
