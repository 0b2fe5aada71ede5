"""Plan calculation: exact cents, due dates, down payment and capacity."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.arrangements import (
    MAX_INSTALMENTS_ANY_PLAN,
    Frequency,
    Plan,
    add_months,
    due_date,
    plan_by_amount,
    plan_by_capacity,
    plan_by_count,
)
from agent_desk.errors import ValidationError

START = date(2027, 1, 31)


def amounts(plan: Plan) -> list[int]:
    return [i.amount for i in plan.instalments]


def dues(plan: Plan) -> list[date]:
    return [i.due for i in plan.instalments]


def test_by_amount_last_instalment_is_the_remainder() -> None:
    plan = plan_by_amount(100_000, 15_000, START)
    assert amounts(plan) == [15_000] * 6 + [10_000]
    assert [i.number for i in plan.instalments] == [1, 2, 3, 4, 5, 6, 7]
    assert plan.count == 7
    assert plan.end == date(2027, 7, 31)


def test_by_amount_that_divides_exactly_has_no_remainder_instalment() -> None:
    assert amounts(plan_by_amount(90_000, 15_000, START)) == [15_000] * 6


def test_by_count_last_instalment_absorbs_rounding() -> None:
    assert amounts(plan_by_count(100_000, 3, START)) == [33_333, 33_333, 33_334]


def test_monthly_dates_keep_the_day_and_clip_to_month_end() -> None:
    plan = plan_by_count(100_000, 4, START)
    assert dues(plan) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_monthly_dates_use_29_february_in_a_leap_year() -> None:
    plan = plan_by_count(30_000, 3, date(2028, 1, 31))
    assert dues(plan)[1] == date(2028, 2, 29)


def test_monthly_dates_cross_the_year() -> None:
    plan = plan_by_count(30_000, 3, date(2027, 11, 30))
    assert dues(plan) == [date(2027, 11, 30), date(2027, 12, 30), date(2028, 1, 30)]


@pytest.mark.parametrize(
    ("frequency", "days"),
    [(Frequency.FOUR_WEEKLY, 28), (Frequency.FORTNIGHTLY, 14), (Frequency.WEEKLY, 7)],
)
def test_day_based_frequencies_add_fixed_days(frequency: Frequency, days: int) -> None:
    plan = plan_by_count(100_000, 5, START, frequency)
    assert dues(plan) == [START + timedelta(days=days * k) for k in range(5)]


def test_down_payment_is_instalment_zero_on_the_start_date() -> None:
    plan = plan_by_count(100_000, 3, START, down_payment=10_000)
    assert plan.instalments[0].number == 0
    assert plan.instalments[0].due == START
    assert plan.down_payment == 10_000
    assert amounts(plan) == [10_000, 30_000, 30_000, 30_000]
    # the first regular instalment is one period later, dates still from the start
    assert dues(plan)[1:] == [date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert [i.number for i in plan.regular] == [1, 2, 3]


def test_no_down_payment_means_regular_is_everything() -> None:
    plan = plan_by_count(100_000, 3, START)
    assert plan.down_payment == 0
    assert plan.regular == plan.instalments


def test_by_capacity_never_plans_above_capacity() -> None:
    plan = plan_by_capacity(100_001, 30_000, START)
    assert amounts(plan) == [25_001, 25_001, 25_001, 24_998]
    assert max(amounts(plan)) <= 30_000


def test_by_capacity_with_room_pays_in_one() -> None:
    assert amounts(plan_by_capacity(5_000, 20_000, START)) == [5_000]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: plan_by_count(0, 3, START), "amount"),
        (lambda: plan_by_count(-100, 3, START), "amount"),
        (lambda: plan_by_count(1_000, 0, START), "instalments"),
        (lambda: plan_by_count(2, 3, START), "instalments"),
        (lambda: plan_by_amount(1_000, 0, START), "per_instalment"),
        (lambda: plan_by_capacity(1_000, 0, START), "capacity"),
        (lambda: plan_by_count(1_000, 2, START, down_payment=1_000), "down_payment"),
        (lambda: plan_by_count(1_000, 2, START, down_payment=2_000), "down_payment"),
        (lambda: plan_by_count(1_000, 2, START, down_payment=-1), "down_payment"),
        (lambda: plan_by_amount(10_000_000, 1, START), "instalments"),
        (lambda: plan_by_count(10**9, MAX_INSTALMENTS_ANY_PLAN + 1, START), "instalments"),
    ],
)
def test_bad_input_names_the_field(call: Callable[[], object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        call()
    assert raised.value.field == field
    assert str(raised.value).endswith(".")


def test_add_months_clips_and_goes_backwards() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert add_months(date(2027, 1, 15), 0) == date(2027, 1, 15)


# -- properties ---------------------------------------------------------------------

totals = st.integers(min_value=1, max_value=10_000_000)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 12, 31))
frequencies = st.sampled_from(list(Frequency))


@st.composite
def down_and_total(draw: st.DrawFn) -> tuple[int, int]:
    total = draw(st.integers(min_value=2, max_value=10_000_000))
    down = draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=total - 1)))
    return total, down


def assert_well_formed(plan: Plan, total: int) -> None:
    assert sum(amounts(plan)) == total
    assert all(a > 0 for a in amounts(plan))
    ds = dues(plan)
    assert all(a < b for a, b in pairwise(ds))
    assert [i.number for i in plan.regular] == list(range(1, len(plan.regular) + 1))
    assert plan.end == ds[-1]


@given(down_and_total(), st.integers(min_value=1, max_value=240), starts, frequencies)
def test_by_count_properties(dt: tuple[int, int], count: int, start: date, f: Frequency) -> None:
    total, down = dt
    if count > total - down:
        return
    plan = plan_by_count(total, count, start, f, down_payment=down)
    assert_well_formed(plan, total)
    regular = [i.amount for i in plan.regular]
    assert len(regular) == count
    assert len(set(regular[:-1])) <= 1
    assert 0 <= regular[-1] - regular[0] < count


@given(down_and_total(), st.integers(min_value=1, max_value=5_000_000), starts, frequencies)
def test_by_amount_properties(dt: tuple[int, int], per: int, start: date, f: Frequency) -> None:
    total, down = dt
    rest = total - down
    if -(-rest // per) > MAX_INSTALMENTS_ANY_PLAN:
        return
    plan = plan_by_amount(total, per, start, f, down_payment=down)
    assert_well_formed(plan, total)
    regular = [i.amount for i in plan.regular]
    assert len(regular) == -(-rest // per)
    assert all(a == per for a in regular[:-1])
    assert 0 < regular[-1] <= per


@given(down_and_total(), st.integers(min_value=1, max_value=5_000_000), starts, frequencies)
def test_by_capacity_properties(dt: tuple[int, int], cap: int, start: date, f: Frequency) -> None:
    total, down = dt
    rest = total - down
    if -(-rest // cap) > MAX_INSTALMENTS_ANY_PLAN:
        return
    plan = plan_by_capacity(total, cap, start, f, down_payment=down)
    assert_well_formed(plan, total)
    regular = [i.amount for i in plan.regular]
    assert len(regular) == -(-rest // cap)  # the fewest possible
    assert max(regular) <= cap
    assert regular[-1] <= regular[0]


@given(starts, st.integers(min_value=0, max_value=240))
def test_monthly_due_dates_are_computed_from_the_first(start: date, months: int) -> None:
    due = due_date(start, Frequency.MONTHLY, months)
    index = start.year * 12 + start.month - 1 + months
    assert (due.year, due.month) == (index // 12, index % 12 + 1)
    assert due.day == min(start.day, calendar.monthrange(due.year, due.month)[1])
