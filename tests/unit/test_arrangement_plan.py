"""The plan and its charges, from what the books say is owed: worked cases and properties."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.arrangement_plan import (
    MAX_REASON,
    ClaimOwed,
    Message,
    Mode,
    Money,
    Owed,
    Terms,
    TermsText,
    calculate,
    capacity_per_period,
    charges,
    compute_plan,
    default_first_due,
    owed_on,
    read_amount,
    review_plan,
)
from agent_desk.domain.arrangements import Frequency, plan_by_count
from agent_desk.domain.policy import load_default_policy
from agent_desk.errors import ValidationError
from agent_desk.i18n import Translator

TODAY = date(2026, 11, 23)
START = date(2026, 12, 1)
POLICY = load_default_policy()
STRICT = dataclasses.replace(POLICY, costs_may_be_added=False)


def amounts(result: object) -> list[int]:
    plan = getattr(result, "plan", None)
    assert plan is not None, getattr(result, "errors", None)
    return [i.amount for i in plan.instalments]


def texts(messages: list[Message]) -> list[str]:
    return [m.text() for m in messages]


# -------------------------------------------------------------------------- what is owed


def test_no_letter_means_no_costs_in_the_plan() -> None:
    """A customer who never got a 14-day letter (or whose term still runs) owes no costs."""
    owed = owed_on([ClaimOwed(date(2026, 9, 30), 25_000, 0, 312)], TODAY)
    assert (owed.principal, owed.costs, owed.interest) == (25_000, 0, 312)
    result = compute_plan(owed, Terms(Mode.COUNT, START, count=2), STRICT, today=TODAY)
    assert result.charges.costs == 0
    assert result.total == 25_312
    assert amounts(result) == [12_656, 12_656]
    assert not result.needs_approval  # no costs added, so the strict policy has no say
    assert "costs" not in result.breaches


def test_costs_a_letter_made_owed_are_in_the_plan_as_booked() -> None:
    owed = owed_on(
        [
            ClaimOwed(date(2026, 8, 31), 20_000, 3_000, 250),
            ClaimOwed(date(2026, 9, 30), 10_000, 1_500, 50),
        ],
        TODAY,
    )
    assert (owed.principal, owed.costs, owed.interest, owed.claims) == (30_000, 4_500, 300, 2)
    result = compute_plan(owed, Terms(Mode.COUNT, START, count=3), POLICY, today=TODAY)
    assert result.charges.costs == 4_500
    assert result.total == 34_800 == sum(amounts(result))
    assert not result.needs_approval

    strict = compute_plan(owed, Terms(Mode.COUNT, START, count=3), STRICT, today=TODAY)
    assert strict.needs_approval
    assert texts(strict.breaches["costs"]) == [
        "The policy does not allow adding collection costs; waive them."
    ]


def test_waivers_take_costs_and_interest_out_of_the_total() -> None:
    owed = Owed(principal=30_000, costs=4_500, interest=300)
    both = compute_plan(
        owed,
        Terms(Mode.COUNT, START, count=3, waive_costs=True, waive_interest=True),
        STRICT,
        today=TODAY,
    )
    assert both.total == 30_000 == sum(amounts(both))
    assert (both.charges.costs_waived, both.charges.interest_waived) == (4_500, 300)
    assert not both.needs_approval
    interest_only = charges(owed, waive_costs=False, waive_interest=True)
    assert (interest_only.costs, interest_only.interest, interest_only.total) == (4_500, 0, 34_500)


def test_the_plan_covers_claims_due_by_today_only() -> None:
    claims = [
        ClaimOwed(date(2026, 10, 31), 10_000, 0, 120),
        ClaimOwed(TODAY, 5_000, 0, 0),  # due today: not in default, but covered
        ClaimOwed(TODAY + timedelta(days=1), 7_500, 0, 0),  # not due yet
        ClaimOwed(date(2026, 6, 30), 0, 0, 0),  # paid off
    ]
    owed = owed_on(claims, TODAY)
    assert (owed.principal, owed.interest, owed.claims, owed.later) == (15_000, 120, 2, 7_500)
    assert owed.interest_since == date(2026, 11, 1)  # the day after the due date


def test_a_claim_with_only_costs_and_interest_left_is_still_planned() -> None:
    owed = owed_on([ClaimOwed(date(2026, 5, 31), 0, 4_000, 1_874)], TODAY)
    result = compute_plan(owed, Terms(Mode.COUNT, START, count=2), POLICY, today=TODAY)
    assert amounts(result) == [2_937, 2_937]


def test_nothing_owed_or_everything_waived_is_no_plan() -> None:
    nothing = compute_plan(Owed(), Terms(Mode.COUNT, START, count=2), POLICY)
    assert nothing.plan is None and "no plan" in texts(nothing.errors["amount"])[0]
    waived = compute_plan(
        Owed(costs=4_000, interest=10),
        Terms(Mode.COUNT, START, count=2, waive_costs=True, waive_interest=True),
        POLICY,
    )
    assert waived.plan is None and "waived" in texts(waived.errors["amount"])[0]


# ------------------------------------------------------------------------------ the plan


def test_down_payment_is_instalment_zero_and_must_leave_something() -> None:
    owed = Owed(principal=100_000)
    result = compute_plan(
        owed, Terms(Mode.COUNT, START, count=3, down_payment=10_000), POLICY, today=TODAY
    )
    assert [(i.number, i.amount) for i in result.plan.instalments] == [  # type: ignore[union-attr]
        (0, 10_000),
        (1, 30_000),
        (2, 30_000),
        (3, 30_000),
    ]
    too_much = compute_plan(owed, Terms(Mode.COUNT, START, count=3, down_payment=100_000), POLICY)
    (message,) = too_much.errors["down_payment"]
    assert message.values["total"] == Money(100_000)
    assert message.text().startswith("The down payment must be less than the total of 1000.00")


def test_capacity_is_a_month_and_no_instalment_is_above_it() -> None:
    owed = Owed(principal=100_000)
    monthly = compute_plan(owed, Terms(Mode.CAPACITY, START, capacity=15_000), POLICY)
    assert amounts(monthly) == [14_286] * 6 + [14_284]
    assert monthly.capacity_period == 15_000 and monthly.above_capacity == 0
    fortnightly = compute_plan(
        owed, Terms(Mode.CAPACITY, START, Frequency.FORTNIGHTLY, capacity=15_000), POLICY
    )
    assert fortnightly.capacity_period == capacity_per_period(15_000, Frequency.FORTNIGHTLY)
    assert fortnightly.capacity_period == 6_923  # 150.00 x 12 / 26, rounded down
    assert max(amounts(fortnightly)) <= 6_923


def test_above_capacity_is_shown_but_never_agreed() -> None:
    result = compute_plan(
        Owed(principal=100_000), Terms(Mode.COUNT, START, count=2, capacity=15_000), POLICY
    )
    assert amounts(result) == [50_000, 50_000]
    assert result.above_capacity == 35_000
    assert not result.needs_approval  # no approval can make it fit
    refusal = result.refusal("a good reason")
    assert refusal is not None and refusal[0] == "capacity"
    assert refusal[1].text() == (
        "The plan is 350.00 above what the customer can pay; choose a smaller instalment "
        "or plan by what the customer can pay."
    )


def test_nothing_left_after_expenses_is_a_referral_not_a_plan() -> None:
    result = compute_plan(Owed(principal=10_000), Terms(Mode.CAPACITY, START, capacity=0), POLICY)
    assert result.plan is None
    assert "refer the customer to debt help" in texts(result.errors["capacity"])[0]
    missing = compute_plan(Owed(principal=10_000), Terms(Mode.CAPACITY, START), POLICY)
    assert "income and essential expenses" in texts(missing.errors["capacity"])[0]


def test_outside_policy_needs_a_reason_said_on_the_input_that_fixes_it() -> None:
    result = compute_plan(
        Owed(principal=1_000_000), Terms(Mode.COUNT, START, count=100), POLICY, today=TODAY
    )
    assert result.plan is not None and result.needs_approval
    said = texts(result.breaches["instalments"])
    assert said[0] == "100 instalments: the policy allows at most 60."
    assert said[1] == "Ends 2035-03-01, later than the policy's 24 months (until 2028-12-01)."
    assert "the policy allows at most 60" in result.approval_record()
    assert result.refusal("")[0] == "approval_reason"  # type: ignore[index]
    assert result.refusal("x" * (MAX_REASON + 1))[0] == "approval_reason"  # type: ignore[index]
    assert result.refusal("Only AOW income.") is None


def test_small_instalments_breach_the_minimum() -> None:
    result = compute_plan(
        Owed(principal=5_000), Terms(Mode.AMOUNT, START, per_instalment=500), POLICY
    )
    assert texts(result.breaches["per_instalment"]) == [
        "An instalment of 5.00 is below the policy minimum of 10.00."
    ]


@pytest.mark.parametrize(
    ("terms", "field", "fragment"),
    [
        (Terms(Mode.COUNT, START, count=0), "instalments", "at least one instalment"),
        (Terms(Mode.AMOUNT, START, per_instalment=0), "per_instalment", "more than zero"),
        (Terms(Mode.COUNT, TODAY - timedelta(days=1), count=2), "start", "in the past"),
        (Terms(Mode.COUNT, START, count=2, down_payment=-1), "down_payment", "negative"),
        (Terms(Mode.AMOUNT, START, per_instalment=1), "per_instalment", "That makes 10000"),
        (Terms(Mode.COUNT, START, count=20_000), "instalments", "more than any plan may have"),
    ],
)
def test_what_cannot_be_planned_is_said_beside_its_input(
    terms: Terms, field: str, fragment: str
) -> None:
    result = compute_plan(Owed(principal=10_000), terms, POLICY, today=TODAY)
    assert result.plan is None
    assert any(fragment in text for text in texts(result.errors[field])), result.errors
    assert result.refusal("reason") is not None


def test_a_plan_made_elsewhere_must_match_the_books() -> None:
    owed = Owed(principal=30_000, costs=4_000, interest=200)
    right = plan_by_count(34_200, 3, START)
    assert review_plan(owed, right, POLICY, waive_costs=False, waive_interest=False).plan == right
    waived = plan_by_count(30_000, 3, START)
    ok = review_plan(owed, waived, POLICY, waive_costs=True, waive_interest=True)
    assert ok.plan == waived and ok.refusal("") is None
    wrong = review_plan(owed, waived, POLICY, waive_costs=False, waive_interest=False)
    assert wrong.plan is None
    assert texts(wrong.errors["amount"]) == [
        "The plan is for 300.00, but the books make it 342.00: the amounts changed since you "
        "calculated; recalculate the plan."
    ]


# -------------------------------------------------------------------------- typed inputs


def test_typed_inputs_are_read_and_what_is_unreadable_is_said() -> None:
    owed = Owed(principal=100_000)
    good = calculate(
        owed,
        TermsText(Mode.CAPACITY, START, income="1450,00", expenses="1300", down_payment=""),
        POLICY,
    )
    assert good.capacity_month == 15_000 and sum(amounts(good)) == 100_000
    bad = calculate(
        owed,
        TermsText(Mode.AMOUNT, START, per_instalment="twaalf", income="1.000", down_payment="-5"),
        POLICY,
    )
    assert bad.plan is None
    assert texts(bad.errors["per_instalment"]) == [
        "'twaalf' is not an amount; type it like 1234.56."
    ]
    assert "is unclear" in texts(bad.errors["capacity"])[0]
    assert texts(bad.errors["down_payment"]) == ["The amount cannot be negative."]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Enter an amount."),
        ("10.0015", "more than two decimals"),
        ("1.000", "is unclear"),
        ("0", "must be more than zero"),
        ("abc", "is not an amount"),
    ],
)
def test_read_amount_says_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        read_amount(text)
    assert read_amount("1.234,56") == 123_456


def test_messages_are_translated_then_filled_in_the_readers_way() -> None:
    message = Message(
        "Ends {end}, later than the policy's {months} months (until {latest}).",
        {"end": date(2029, 1, 1), "months": 24, "latest": date(2028, 12, 1)},
    )
    assert message.text() == (
        "Ends 2029-01-01, later than the policy's 24 months (until 2028-12-01)."
    )
    dutch = message.text(Translator("nl"), day=lambda d: f"{d.day}-{d.month}-{d.year}")
    assert "1-1-2029" in dutch and "24" in dutch and "Ends" not in dutch
    money = Message("{amount} a month", {"amount": Money(15_000)})
    assert money.text(money=lambda c: f"€ {c // 100}") == "€ 150 a month"


def test_the_first_due_date_defaults_to_a_first_of_the_month_a_week_away() -> None:
    assert default_first_due(date(2026, 11, 23)) == date(2026, 12, 1)
    assert default_first_due(date(2026, 11, 26)) == date(2027, 1, 1)


# ---------------------------------------------------------------------------- properties


@st.composite
def owed_and_terms(draw: st.DrawFn) -> tuple[Owed, Terms]:
    owed = Owed(
        principal=draw(st.integers(0, 5_000_000)),
        costs=draw(st.integers(0, 700_000)),
        interest=draw(st.integers(0, 500_000)),
    )
    mode = draw(st.sampled_from(list(Mode)))
    terms = Terms(
        mode=mode,
        start=START,
        frequency=draw(st.sampled_from(list(Frequency))),
        count=draw(st.integers(1, 120)),
        per_instalment=draw(st.integers(1, 500_000)),
        capacity=draw(st.one_of(st.none(), st.integers(1, 500_000))),
        down_payment=draw(st.one_of(st.just(0), st.integers(1, 200_000))),
        waive_costs=draw(st.booleans()),
        waive_interest=draw(st.booleans()),
    )
    return owed, terms


@given(owed_and_terms())
def test_every_plan_adds_up_to_principal_plus_what_is_charged(case: tuple[Owed, Terms]) -> None:
    owed, terms = case
    result = compute_plan(owed, terms, POLICY, today=TODAY)
    expected = (
        owed.principal
        + (0 if terms.waive_costs else owed.costs)
        + (0 if terms.waive_interest else owed.interest)
    )
    assert result.total == expected
    if result.plan is None:
        assert result.errors
        return
    assert not result.errors
    assert sum(i.amount for i in result.plan.instalments) == expected
    assert all(i.amount > 0 for i in result.plan.instalments)
    if terms.mode is Mode.CAPACITY and result.capacity_period:
        assert max(i.amount for i in result.plan.regular) <= result.capacity_period
        assert result.above_capacity == 0
