"""What the arrangement calculator says, decided in the domain (moved out of the F4 widget)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from agent_desk.domain.arrangement_plan import (
    MAX_REASON,
    Message,
    Mode,
    Money,
    Owed,
    PlanResult,
    Terms,
    Word,
    charges,
    compute_plan,
    default_first_due,
)
from agent_desk.domain.arrangement_summary import (
    RUNNING_STATUSES,
    Agreement,
    Charged,
    Prefill,
    Tone,
    agreement,
    blocking_arrangement,
    capacity_line,
    field_messages,
    headline,
    owed_notes,
    plan_summary,
    prefill,
    typed_amount,
)
from agent_desk.domain.arrangements import MAX_INSTALMENTS_ANY_PLAN, Frequency, plan_by_count
from agent_desk.domain.money import format_money
from agent_desk.domain.policy import load_default_policy
from agent_desk.i18n import Translator

TODAY = date(2026, 11, 23)
START = date(2026, 12, 1)
POLICY = load_default_policy()
OWED = Owed(principal=60_000, costs=5_000, interest=1_000, interest_since=date(2026, 3, 1))


def english(message: Message | None) -> str:
    assert message is not None
    return message.text()


def dutch(message: Message) -> str:
    tr = Translator("nl")
    return message.text(tr, money=lambda c: format_money(c, "nl"), day=date.isoformat)


# ----------------------------------------------------------------- may a plan be made


@pytest.mark.parametrize("status", sorted(RUNNING_STATUSES))
def test_a_running_or_waiting_arrangement_blocks_a_new_one(status: str) -> None:
    message = blocking_arrangement(["completed", status])
    assert "already has an arrangement running or waiting for approval" in english(message)


@pytest.mark.parametrize("statuses", [[], ["completed"], ["broken", "declined", "cancelled"]])
def test_ended_or_declined_arrangements_do_not_block(statuses: list[str]) -> None:
    assert blocking_arrangement(statuses) is None


# --------------------------------------------------------------------- what it starts with


@pytest.mark.parametrize(
    ("cents", "en", "nl"),
    [(0, "0.00", "0,00"), (1, "0.01", "0,01"), (100_000, "1000.00", "1000,00")],
)
def test_amounts_are_prefilled_as_the_agent_types_them(cents: int, en: str, nl: str) -> None:
    assert typed_amount(cents, "en") == en
    assert typed_amount(cents, "nl") == nl


def test_the_scripts_budget_plans_by_what_the_customer_can_pay() -> None:
    assert prefill({"income_cents": 168_500, "expenses_cents": 151_000}) == Prefill(
        Mode.CAPACITY, 168_500, 151_000
    )
    # one cent of income is a budget; expenses of zero are kept, negative ones are not
    assert prefill({"income_cents": 1, "expenses_cents": 0}) == Prefill(Mode.CAPACITY, 1, 0)
    assert prefill({"income_cents": 1, "expenses_cents": -1}) == Prefill(Mode.CAPACITY, 1, None)


def test_a_capacity_alone_is_the_income_with_no_expenses() -> None:
    assert prefill({"capacity_cents": 1}) == Prefill(Mode.CAPACITY, 1, 0)
    # an income of zero is no budget: the capacity is used instead
    assert prefill({"income_cents": 0, "capacity_cents": 2_500}) == Prefill(Mode.CAPACITY, 2_500, 0)


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"income_cents": 0},
        {"capacity_cents": 0},
        {"income_cents": "100"},
        {"income_cents": True},
    ],
)
def test_without_a_budget_it_plans_by_the_number_of_instalments(context: dict[str, object]) -> None:
    assert prefill(context) == Prefill(Mode.COUNT, None, None)


def test_the_first_due_date_is_a_first_of_the_month_at_least_a_week_away() -> None:
    assert default_first_due(date(2026, 11, 24)) == date(2026, 12, 1)  # exactly 7 days
    assert default_first_due(date(2026, 11, 25)) == date(2027, 1, 1)  # 6 days: a month later
    # a transfer date, not a working day: the first is kept on a Sunday (1 Nov 2026)
    assert default_first_due(date(2026, 10, 25)) == date(2026, 11, 1)
    assert date(2026, 11, 1).weekday() == 6


# ---------------------------------------------------------------------- the figures


def test_costs_exist_only_after_a_14_day_letter_and_zero_cannot_be_waived() -> None:
    none = owed_notes(Owed(principal=10_000))
    assert none.costs is None and not none.can_waive_costs
    assert english(none.costs_note) == "no 14-day letter has run out"
    assert english(none.waive_costs) == "No collection costs"
    one = owed_notes(Owed(principal=10_000, costs=1))
    assert one.costs == 1 and one.can_waive_costs
    assert english(one.costs_note) == "after an unpaid 14-day letter"
    assert english(one.waive_costs) == "Waive 0.01 collection costs (BIK)"


def test_interest_says_since_when_and_when_it_is_provisional() -> None:
    notes = owed_notes(
        Owed(
            principal=10_000,
            interest=1,
            interest_since=date(2026, 3, 1),
            interest_provisional_from=date(2026, 7, 1),
        )
    )
    assert notes.can_waive_interest
    assert [english(m) for m in notes.interest_notes] == [
        "since 2026-03-01",
        "provisional from 2026-07-01",
    ]
    assert "2026-07-01 is not confirmed yet" in english(notes.interest_tooltip)
    assert english(notes.waive_interest) == "Waive 0.01 statutory interest since 2026-03-01"
    nothing = owed_notes(Owed(principal=10_000, interest_provisional_from=date(2026, 7, 1)))
    assert nothing.interest_notes == () and nothing.interest_tooltip is None
    assert not nothing.can_waive_interest
    assert english(nothing.waive_interest) == "No statutory interest"


def test_interest_without_a_known_start_can_still_be_waived() -> None:
    notes = owed_notes(Owed(principal=10_000, interest=250))
    assert notes.can_waive_interest and notes.interest_notes == ()
    assert english(notes.waive_interest) == "Waive 2.50 statutory interest"


def test_claims_not_yet_due_are_said_to_be_outside_the_plan() -> None:
    assert owed_notes(Owed(principal=10_000)).later is None
    later = owed_notes(Owed(principal=10_000, later=1)).later
    assert english(later) == "Not in this plan: 0.01 on claims not yet due."


def test_the_capacity_is_said_per_month_and_per_period_of_the_plan() -> None:
    monthly = compute_plan(OWED, Terms(Mode.CAPACITY, START, capacity=12_000), POLICY)
    assert [english(m) for m in capacity_line(monthly)] == ["Can pay 120.00 a month"]
    weekly = compute_plan(
        OWED, Terms(Mode.CAPACITY, START, Frequency.WEEKLY, capacity=12_000), POLICY
    )
    assert [english(m) for m in capacity_line(weekly)] == [
        "Can pay 120.00 a month",
        "27.69 a week",  # 120 × 12 / 52, rounded down
    ]
    assert capacity_line(None) == ()
    assert capacity_line(compute_plan(OWED, Terms(Mode.COUNT, START, count=6), POLICY)) == ()


def test_an_input_shows_what_blocks_first_then_the_policy() -> None:
    result = compute_plan(OWED, Terms(Mode.COUNT, START, count=0), POLICY, today=TODAY)
    assert [m.text() for m in field_messages(result, "instalments")] == [
        "Choose at least one instalment."
    ]
    breach = compute_plan(OWED, Terms(Mode.COUNT, START, count=60), POLICY, today=TODAY)
    assert breach.needs_approval and breach.breaches["instalments"]
    assert field_messages(breach, "instalments") == breach.breaches["instalments"]
    assert field_messages(breach, "down_payment") == []
    first, then = Message("blocks"), Message("breaches")
    both = PlanResult(
        OWED, charges(OWED, waive_costs=False, waive_interest=False), errors={"x": [first]}
    )
    both.breaches["x"] = [then]
    assert field_messages(both, "x") == [first, then]
    assert field_messages(None, "instalments") == []


# -------------------------------------------------------------------------- the plan


def test_the_headline_names_one_equal_or_a_smaller_last_instalment() -> None:
    assert english(headline(plan_by_count(1, 1, START))) == "1 instalment of 0.01"
    assert english(headline(plan_by_count(600, 3, START))) == "3 instalments of 2.00"
    assert english(headline(plan_by_count(601, 3, START))) == (
        "3 instalments of 2.00, the last 2.01"
    )
    down = plan_by_count(601, 3, START, down_payment=1)
    assert english(headline(down)) == "0.01 down, then 3 instalments of 2.00"
    # the sentence inside the sentence is Dutch too
    assert dutch(headline(down)) == "€\xa00,01 aanbetaling, daarna 3 termijnen van €\xa02,00"


def test_charges_show_as_an_amount_waived_or_none() -> None:
    owed = Owed(principal=60_000, costs=5_000, interest=0)
    terms = Terms(Mode.COUNT, START, count=6, waive_costs=True)
    summary = plan_summary(compute_plan(owed, terms, POLICY))
    assert summary is not None
    assert summary.costs == (Charged.WAIVED, 5_000)
    assert summary.interest == (Charged.NONE, 0)
    assert summary.principal == 60_000 and summary.total == 60_000
    kept = plan_summary(compute_plan(owed, dataclasses.replace(terms, waive_costs=False), POLICY))
    assert kept is not None and kept.costs == (Charged.AMOUNT, 5_000)


def test_the_dates_line_translates_how_often() -> None:
    result = compute_plan(OWED, Terms(Mode.COUNT, START, Frequency.WEEKLY, count=2), POLICY)
    summary = plan_summary(result)
    assert summary is not None
    assert english(summary.dates) == "weekly, from 2026-12-01 until 2026-12-08"
    assert dutch(summary.dates) == "wekelijks, van 2026-12-01 tot en met 2026-12-08"


def test_fit_is_unknown_without_a_budget_and_bad_one_cent_above_it() -> None:
    owed = Owed(principal=60_000)
    unknown = plan_summary(compute_plan(owed, Terms(Mode.COUNT, START, count=6), POLICY))
    assert unknown is not None and unknown.fit.tone is Tone.UNKNOWN
    fits = plan_summary(
        compute_plan(owed, Terms(Mode.COUNT, START, count=6, capacity=10_000), POLICY)
    )
    assert fits is not None and fits.fit.tone is Tone.OK
    above = compute_plan(owed, Terms(Mode.COUNT, START, count=6, capacity=9_999), POLICY)
    summary = plan_summary(above)
    assert summary is not None and summary.fit.tone is Tone.BAD
    assert english(summary.fit.message) == "⚠ 0.01 above what the customer can pay"


def test_outside_policy_asks_a_supervisor_and_says_so_on_the_button() -> None:
    inside = plan_summary(compute_plan(OWED, Terms(Mode.COUNT, START, count=6), POLICY))
    assert inside is not None and inside.policy.tone is Tone.OK
    assert english(inside.agree) == "Agree arrangement"
    count = POLICY.max_instalments + 1
    assert count <= MAX_INSTALMENTS_ANY_PLAN
    outside = plan_summary(compute_plan(OWED, Terms(Mode.COUNT, START, count=count), POLICY))
    assert outside is not None and outside.policy.tone is Tone.WARN
    assert english(outside.agree) == "Ask supervisor approval"


def test_no_plan_no_summary() -> None:
    assert plan_summary(compute_plan(OWED, Terms(Mode.COUNT, START, count=0), POLICY)) is None


# ----------------------------------------------------------------------------- agreeing


def test_the_reason_is_kept_only_for_a_plan_outside_policy() -> None:
    inside = agreement(compute_plan(OWED, Terms(Mode.COUNT, START, count=6), POLICY), " why ")
    assert isinstance(inside, Agreement)
    assert inside.approval_reason is None and not inside.needs_approval
    assert inside.plan.total == OWED.total
    outside_result = compute_plan(
        OWED, Terms(Mode.COUNT, START, count=POLICY.max_instalments + 1), POLICY
    )
    outside = agreement(outside_result, "  job lost in May  ")
    assert isinstance(outside, Agreement)
    assert outside.approval_reason == "job lost in May" and outside.needs_approval


def test_outside_policy_without_a_reason_or_with_a_long_one_is_refused() -> None:
    result = compute_plan(OWED, Terms(Mode.COUNT, START, count=POLICY.max_instalments + 1), POLICY)
    refused = agreement(result, "   ")
    assert isinstance(refused, tuple) and refused[0] == "approval_reason"
    assert isinstance(agreement(result, "x" * MAX_REASON), Agreement)
    too_long = agreement(result, "x" * (MAX_REASON + 1))
    assert isinstance(too_long, tuple) and "too long" in too_long[1].text()


def test_a_plan_one_cent_above_capacity_is_never_agreed() -> None:
    owed = Owed(principal=60_000)
    result = compute_plan(owed, Terms(Mode.COUNT, START, count=6, capacity=9_999), POLICY)
    refused = agreement(result, "please")
    assert isinstance(refused, tuple) and refused[0] == "capacity"
    assert refused[1].values["amount"] == Money(1)


# ------------------------------------------------------------------------ the messages


def test_a_word_in_a_message_is_translated_by_the_reader() -> None:
    message = Message("{frequency}, from {first} until {end}", {"frequency": Word("monthly")})
    values = {"first": START, "end": START}
    message = Message(message.id, {**message.values, **values})
    assert message.text() == "monthly, from 2026-12-01 until 2026-12-01"
    assert dutch(message).startswith("maandelijks, van ")
