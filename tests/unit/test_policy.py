"""Arrangement policy: the shipped defaults, validation of the file, checks of a plan."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date, datetime
from typing import Any

import pytest

from agent_desk import resources
from agent_desk.domain.arrangements import Frequency, plan_by_amount, plan_by_count
from agent_desk.domain.policy import (
    ArrangementPolicy,
    SupervisorApproval,
    check_plan,
    load_default_policy,
    parse_policy,
    policy_from_mapping,
)
from agent_desk.errors import ValidationError

POLICY = ArrangementPolicy(
    max_term_months=12,
    min_instalment=2_500,
    max_instalments=12,
    costs_may_be_added=False,
    missed_after_days=7,
    missed_instalments_before_broken=2,
    reminder_days_before_due=3,
)
START = date(2027, 1, 31)


def shipped() -> dict[str, Any]:
    return tomllib.loads(resources.read_text("policy", "arrangements.toml"))


def test_default_policy_is_the_shipped_file() -> None:
    raw = shipped()
    policy = load_default_policy()
    assert policy.max_instalments == raw["max_instalments"]
    assert policy.max_term_months == raw["max_term_months"]
    assert policy.costs_may_be_added is raw["costs_may_be_added"]
    assert policy.missed_after_days == raw["missed_after_days"]
    assert policy.missed_instalments_before_broken == raw["missed_instalments_before_broken"]
    assert policy.reminder_days_before_due == raw["reminder_days_before_due"]
    whole, cents = raw["min_instalment"].split(".")
    assert policy.min_instalment == int(whole) * 100 + int(cents)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_instalments": None}, "max_instalments"),
        ({"surprise": 1}, "surprise"),
        ({"max_instalments": 0}, "max_instalments"),
        ({"missed_after_days": -1}, "missed_after_days"),
        ({"max_term_months": True}, "max_term_months"),
        ({"max_term_months": 12.5}, "max_term_months"),
        ({"min_instalment": 10.0}, "min_instalment"),
        ({"min_instalment": "ten"}, "min_instalment"),
        ({"costs_may_be_added": "yes"}, "costs_may_be_added"),
    ],
)
def test_invalid_policy_names_the_setting(change: dict[str, Any], field: str) -> None:
    raw = shipped()
    for key, value in change.items():
        if value is None:
            del raw[key]
        else:
            raw[key] = value
    with pytest.raises(ValidationError) as raised:
        policy_from_mapping(raw)
    assert raised.value.field == field


def test_missed_after_zero_days_is_allowed() -> None:
    raw = shipped() | {"missed_after_days": 0}
    assert policy_from_mapping(raw).missed_after_days == 0


def test_broken_toml_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not valid TOML"):
        parse_policy("max_instalments = = 3")


def test_plan_within_policy_needs_no_approval() -> None:
    check = check_plan(plan_by_count(120_000, 12, START), POLICY)
    assert check.breaches == ()
    assert check.needs_approval is False
    assert check.fits_capacity is None


def test_too_many_instalments_is_a_breach_on_that_field() -> None:
    check = check_plan(plan_by_count(130_000, 13, START, Frequency.WEEKLY), POLICY)
    assert check.needs_approval is True
    assert [b.field for b in check.breaches] == ["instalments"]
    assert "13 instalments" in check.messages_for("instalments")[0]
    assert "at most 12" in check.messages_for("instalments")[0]


def test_instalment_below_minimum_is_a_breach() -> None:
    check = check_plan(plan_by_amount(10_000, 2_000, START), POLICY)
    assert [b.field for b in check.breaches] == ["per_instalment"]
    assert "20.00" in check.breaches[0].message and "25.00" in check.breaches[0].message


def test_small_last_remainder_is_not_a_breach() -> None:
    plan = plan_by_amount(10_100, 5_000, START)  # 50, 50, 1
    assert check_plan(plan, POLICY).breaches == ()


def test_term_is_measured_in_calendar_months_from_start() -> None:
    inside = plan_by_count(100_000, 4, START, Frequency.FOUR_WEEKLY, down_payment=100)
    assert check_plan(inside, POLICY).breaches == ()
    # 12 months from 31 Jan 2027 is 31 Jan 2028; weekly for 54 weeks ends after it
    long = dataclasses.replace(POLICY, max_instalments=100, min_instalment=1)
    plan = plan_by_count(100_000, 54, START, Frequency.WEEKLY)
    check = check_plan(plan, long)
    assert [b.field for b in check.breaches] == ["term"]
    assert "2028-01-31" in check.breaches[0].message


def test_down_payment_does_not_count_as_an_instalment() -> None:
    plan = plan_by_count(130_000, 12, START, down_payment=10_000)
    assert plan.count == 13
    assert all(b.field != "instalments" for b in check_plan(plan, POLICY).breaches)


def test_adding_costs_when_policy_forbids_it() -> None:
    plan = plan_by_count(120_000, 12, START)
    assert [b.field for b in check_plan(plan, POLICY, costs_added=True).breaches] == ["costs"]
    allowed = dataclasses.replace(POLICY, costs_may_be_added=True)
    assert check_plan(plan, allowed, costs_added=True).breaches == ()


def test_capacity_fit_is_reported() -> None:
    plan = plan_by_count(120_000, 12, START)  # 100.00 each
    fits = check_plan(plan, POLICY, capacity=10_000)
    assert fits.fits_capacity is True and fits.breaches == ()
    too_much = check_plan(plan, POLICY, capacity=9_999)
    assert too_much.fits_capacity is False
    assert [b.field for b in too_much.breaches] == ["capacity"]
    assert too_much.needs_approval is True


def test_several_breaches_are_all_reported() -> None:
    plan = plan_by_amount(100_000, 1_000, START)  # 100 instalments of 10.00 over 99 months
    fields = {b.field for b in check_plan(plan, POLICY, costs_added=True).breaches}
    assert fields == {"instalments", "per_instalment", "term", "costs"}


def test_approval_records_who_and_why() -> None:
    at = datetime(2027, 1, 5, 10, 0)
    approval = SupervisorApproval("s.jansen", "Income rises in March", at)
    assert approval.approved_by == "s.jansen"
    with pytest.raises(ValidationError) as raised:
        SupervisorApproval("s.jansen", "  ", at)
    assert raised.value.field == "reason"
    with pytest.raises(ValidationError):
        SupervisorApproval("", "reason", at)
