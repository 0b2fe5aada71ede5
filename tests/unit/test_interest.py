"""Statutory interest: day count, splits at rate changes, yearly compounding, waiving."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.interest import (
    RateTable,
    load_rate_table,
    parse_rate_table,
    statutory_interest,
)
from agent_desk.errors import ValidationError

TEN_PERCENT = parse_rate_table('[[rate]]\neffective_from = 2000-01-01\nrate = "0.10"\n')


@pytest.fixture(scope="module")
def table() -> RateTable:
    return load_rate_table()


def test_worked_example_300_at_6_percent_for_90_days(table: RateTable) -> None:
    result = statutory_interest(30_000, date(2025, 1, 1), date(2025, 4, 1), table)
    assert result.interest == 444
    assert result.total == 30_444
    [period] = result.periods
    assert (period.days, period.rate) == (90, Decimal("0.06"))


def test_the_shipped_table_holds_the_known_rates(table: RateTable) -> None:
    expected = {
        date(2015, 1, 1): "0.02",
        date(2023, 1, 1): "0.04",
        date(2023, 7, 1): "0.06",
        date(2024, 1, 1): "0.07",
        date(2025, 1, 1): "0.06",
    }
    assert {r.effective_from: str(r.rate) for r in table.rates} == expected


def test_period_is_split_at_a_rate_change(table: RateTable) -> None:
    result = statutory_interest(100_000, date(2023, 6, 1), date(2023, 8, 1), table)
    parts = [(p.start, p.end, p.days, str(p.rate), p.interest) for p in result.periods]
    assert parts == [
        (date(2023, 6, 1), date(2023, 7, 1), 30, "0.04", 329),  # 1000 * 4% * 30/365 = 3.29
        (date(2023, 7, 1), date(2023, 8, 1), 31, "0.06", 510),  # 1000 * 6% * 31/365 = 5.10
    ]
    assert result.interest == 839


def test_interest_is_added_to_the_base_each_full_year() -> None:
    result = statutory_interest(100_000, date(2020, 3, 1), date(2022, 3, 1), TEN_PERCENT)
    assert [(p.base, p.interest) for p in result.periods] == [(100_000, 10_000), (110_000, 11_000)]
    assert result.interest == 21_000


def test_within_a_year_interest_is_simple() -> None:
    # 2021 is not a leap year: 365 days at 10% on 1000.00 is exactly 100.00, no compounding
    result = statutory_interest(100_000, date(2021, 1, 1), date(2022, 1, 1), TEN_PERCENT)
    assert result.interest == 10_000
    assert len(result.periods) == 1


def test_leap_day_start_has_its_anniversary_on_28_february() -> None:
    result = statutory_interest(100_000, date(2024, 2, 29), date(2025, 6, 1), TEN_PERCENT)
    assert result.periods[0].end == date(2025, 2, 28)
    assert result.periods[1].base == 100_000 + result.periods[0].interest


def test_no_days_no_interest(table: RateTable) -> None:
    result = statutory_interest(30_000, date(2025, 1, 1), date(2025, 1, 1), table)
    assert result.interest == 0 and result.periods == ()


def test_waived_interest_is_recorded_but_not_charged(table: RateTable) -> None:
    result = statutory_interest(30_000, date(2025, 1, 1), date(2025, 4, 1), table, waive=True)
    assert result.interest == 444
    assert result.charged_interest == 0
    assert result.total == 30_000


@pytest.mark.parametrize(
    ("principal", "start", "end", "field"),
    [
        (30_000, date(2025, 4, 1), date(2025, 1, 1), "to"),
        (0, date(2025, 1, 1), date(2025, 4, 1), "principal"),
        (30_000, date(2014, 12, 31), date(2025, 4, 1), "from"),
    ],
)
def test_bad_input(table: RateTable, principal: int, start: date, end: date, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        statutory_interest(principal, start, end, table)
    assert raised.value.field == field


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[[rate]\n",
        '[[rate]]\nrate = "0.02"\n',
        "[[rate]]\neffective_from = 2015-01-01\nrate = 0.02\n",
        '[[rate]]\neffective_from = 2015-01-01\nrate = "2%"\n',
        '[[rate]]\neffective_from = 2015-01-01\nrate = "0.02"\n' * 2,
    ],
)
def test_bad_rate_table_is_rejected(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_rate_table(text)


dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2040, 12, 31))


@given(st.integers(min_value=1, max_value=10**10), dates, st.integers(min_value=0, max_value=4000))
def test_periods_cover_the_span_and_add_up(principal: int, start: date, days: int) -> None:
    end = start + timedelta(days=days)
    result = statutory_interest(principal, start, end, load_rate_table())
    assert sum(p.days for p in result.periods) == days
    assert result.interest == sum(p.interest for p in result.periods)
    if result.periods:
        assert result.periods[0].start == start and result.periods[-1].end == end
    for before, after in pairwise(result.periods):
        assert before.end == after.start
        assert before.base <= after.base


@given(st.integers(min_value=1, max_value=10**9), dates, st.integers(0, 2000), st.integers(0, 400))
def test_more_days_never_means_less_interest(principal: int, start: date, a: int, b: int) -> None:
    table = load_rate_table()
    shorter = statutory_interest(principal, start, start + timedelta(days=a), table)
    longer = statutory_interest(principal, start, start + timedelta(days=a + b), table)
    assert shorter.interest <= longer.interest
