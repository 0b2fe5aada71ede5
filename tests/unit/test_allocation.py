"""Payment allocation (6:44 BW) and the life of an arrangement: paid, due, missed, broken."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.allocation import (
    Allocation,
    ArrangementRecord,
    ArrangementStatus,
    Claim,
    Instalment,
    InstalmentStatus,
    Payment,
    allocate,
    allocate_payments,
    arrangement_state,
    mark_missed,
    next_reminder,
)
from agent_desk.domain.policy import ArrangementPolicy
from agent_desk.errors import ValidationError

POLICY = ArrangementPolicy(
    max_term_months=24,
    min_instalment=1_000,
    max_instalments=60,
    costs_may_be_added=True,
    missed_after_days=7,
    missed_instalments_before_broken=2,
    reminder_days_before_due=3,
)
PAID, DUE, MISSED = InstalmentStatus.PAID, InstalmentStatus.DUE, InstalmentStatus.MISSED
ACTIVE, BROKEN, COMPLETED = (
    ArrangementStatus.ACTIVE,
    ArrangementStatus.BROKEN,
    ArrangementStatus.COMPLETED,
)

# three monthly instalments of 100.00: 1 Feb, 1 Mar, 1 Apr 2027
SCHEDULE = (
    Instalment(1, date(2027, 2, 1), 10_000),
    Instalment(2, date(2027, 3, 1), 10_000),
    Instalment(3, date(2027, 4, 1), 10_000),
)


def statuses(payments: list[Payment], on: date) -> list[InstalmentStatus]:
    return [i.status for i in arrangement_state(SCHEDULE, payments, on, POLICY).instalments]


# -- 6:44 BW ------------------------------------------------------------------------


def test_payment_goes_to_costs_then_interest_then_principal() -> None:
    claim = Claim(costs=4_000, interest=1_000, principal=30_000)
    assert allocate(3_000, claim) == Allocation(3_000, 0, 0, 0)
    assert allocate(4_500, claim) == Allocation(4_000, 500, 0, 0)
    assert allocate(10_000, claim) == Allocation(4_000, 1_000, 5_000, 0)
    assert allocate(40_000, claim) == Allocation(4_000, 1_000, 30_000, 5_000)


def test_waived_costs_go_straight_to_interest() -> None:
    claim = Claim(costs=0, interest=1_000, principal=30_000)
    assert allocate(2_000, claim) == Allocation(0, 1_000, 1_000, 0)


def test_payments_in_sequence_reduce_the_claim() -> None:
    splits, left = allocate_payments([3_000, 3_000], Claim(4_000, 1_000, 30_000))
    assert splits == [Allocation(3_000, 0, 0, 0), Allocation(1_000, 1_000, 1_000, 0)]
    assert left == Claim(0, 0, 29_000)


def test_a_payment_must_be_positive_and_a_claim_not_negative() -> None:
    with pytest.raises(ValidationError):
        allocate(0, Claim(0, 0, 100))
    with pytest.raises(ValidationError):
        Claim(-1, 0, 100)


@given(
    st.integers(1, 10**9),
    st.integers(0, 10**8),
    st.integers(0, 10**8),
    st.integers(0, 10**9),
)
def test_allocation_conserves_money_and_respects_order(
    amount: int, costs: int, interest: int, principal: int
) -> None:
    claim = Claim(costs, interest, principal)
    split = allocate(amount, claim)
    assert split.total == amount
    assert split.interest == 0 or split.costs == costs
    assert split.principal == 0 or split.interest == interest
    assert split.surplus == 0 or claim.after(split).total == 0
    assert claim.after(split).total == claim.total - (amount - split.surplus)


# -- instalment status --------------------------------------------------------------


def test_before_anything_is_due_all_are_due() -> None:
    assert statuses([], date(2027, 1, 15)) == [DUE, DUE, DUE]


def test_grace_days_then_missed() -> None:
    assert statuses([], date(2027, 2, 8)) == [DUE, DUE, DUE]  # 7 days late: still grace
    assert statuses([], date(2027, 2, 9)) == [MISSED, DUE, DUE]


def test_payments_fill_instalments_in_due_order() -> None:
    state = arrangement_state(
        SCHEDULE, [Payment(date(2027, 2, 1), 15_000)], date(2027, 3, 20), POLICY
    )
    assert [(i.status, i.paid) for i in state.instalments] == [
        (PAID, 10_000),
        (MISSED, 5_000),  # half paid is not paid
        (DUE, 0),
    ]
    assert state.paid == 15_000 and state.outstanding == 15_000


def test_schedule_order_is_by_due_date_not_input_order() -> None:
    shuffled = (SCHEDULE[2], SCHEDULE[0], SCHEDULE[1])
    state = arrangement_state(
        shuffled, [Payment(date(2027, 2, 1), 10_000)], date(2027, 2, 2), POLICY
    )
    assert [(i.number, i.status) for i in state.instalments] == [(1, PAID), (2, DUE), (3, DUE)]


def test_late_payment_turns_missed_into_paid_but_keeps_the_history() -> None:
    payments = [Payment(date(2027, 2, 20), 10_000)]
    state = arrangement_state(SCHEDULE, payments, date(2027, 2, 25), POLICY)
    first = state.instalments[0]
    assert first.status is PAID and first.paid_on == date(2027, 2, 20) and first.was_missed
    on_time = arrangement_state(
        SCHEDULE, [Payment(date(2027, 2, 8), 10_000)], date(2027, 3, 1), POLICY
    )
    assert on_time.instalments[0].was_missed is False


def test_payments_after_the_evaluation_date_are_ignored() -> None:
    payments = [Payment(date(2027, 3, 1), 10_000)]
    assert statuses(payments, date(2027, 2, 28)) == [MISSED, DUE, DUE]


def test_broken_when_two_are_missed_at_once() -> None:
    state = arrangement_state(SCHEDULE, [], date(2027, 3, 9), POLICY)
    assert state.missed == (1, 2)
    assert state.status is BROKEN
    assert state.broken_on == date(2027, 3, 9)


def test_one_missed_then_caught_up_is_not_broken() -> None:
    payments = [Payment(date(2027, 2, 20), 10_000), Payment(date(2027, 3, 20), 10_000)]
    state = arrangement_state(SCHEDULE, payments, date(2027, 3, 25), POLICY)
    assert [i.was_missed for i in state.instalments] == [True, True, False]
    assert state.status is ACTIVE


def test_broken_stays_broken_after_catching_up() -> None:
    payments = [Payment(date(2027, 3, 15), 20_000)]
    state = arrangement_state(SCHEDULE, payments, date(2027, 3, 20), POLICY)
    assert state.missed == ()
    assert state.status is BROKEN
    assert state.broken_on == date(2027, 3, 9)


def test_completed_when_everything_is_paid_even_after_breaking() -> None:
    payments = [Payment(date(2027, 3, 15), 20_000), Payment(date(2027, 4, 1), 15_000)]
    state = arrangement_state(SCHEDULE, payments, date(2027, 4, 2), POLICY)
    assert state.status is COMPLETED
    assert state.surplus == 5_000
    assert state.outstanding == 0


def test_threshold_comes_from_policy() -> None:
    lenient = dataclasses.replace(POLICY, missed_instalments_before_broken=3)
    assert arrangement_state(SCHEDULE, [], date(2027, 3, 9), lenient).status is ACTIVE


def test_next_reminder_is_days_before_the_first_open_instalment() -> None:
    state = arrangement_state(
        SCHEDULE, [Payment(date(2027, 2, 1), 10_000)], date(2027, 2, 2), POLICY
    )
    reminder = next_reminder(state, POLICY)
    assert reminder is not None
    assert (reminder.number, reminder.due, reminder.remind_on) == (
        2,
        date(2027, 3, 1),
        date(2027, 2, 26),
    )


def test_no_reminder_for_broken_or_completed() -> None:
    broken = arrangement_state(SCHEDULE, [], date(2027, 3, 9), POLICY)
    assert next_reminder(broken, POLICY) is None
    done = arrangement_state(
        SCHEDULE, [Payment(date(2027, 1, 1), 30_000)], date(2027, 1, 2), POLICY
    )
    assert done.status is COMPLETED and next_reminder(done, POLICY) is None


# -- nightly run --------------------------------------------------------------------


def test_mark_missed_reports_only_changes() -> None:
    records = [
        ArrangementRecord("on-time", SCHEDULE, (Payment(date(2027, 2, 1), 10_000),)),
        ArrangementRecord("new-miss", SCHEDULE),
        ArrangementRecord("known-miss", SCHEDULE, recorded_missed=frozenset({1})),
        ArrangementRecord("done", SCHEDULE, recorded_status=COMPLETED),
    ]
    changes = mark_missed(records, date(2027, 2, 9), POLICY)
    assert [(c.key, c.status, c.missed, c.newly_missed, c.status_changed) for c in changes] == [
        ("new-miss", ACTIVE, (1,), (1,), False)
    ]


def test_mark_missed_reports_breaking_and_paying_a_missed_instalment() -> None:
    records = [
        ArrangementRecord("breaks", SCHEDULE, recorded_missed=frozenset({1})),
        ArrangementRecord(
            "caught-up",
            SCHEDULE,
            (Payment(date(2027, 2, 20), 10_000),),
            recorded_missed=frozenset({1}),
        ),
    ]
    changes = {c.key: c for c in mark_missed(records, date(2027, 3, 9), POLICY)}
    assert changes["breaks"].status is BROKEN and changes["breaks"].status_changed
    assert changes["breaks"].newly_missed == (2,)
    assert changes["caught-up"].missed == (2,)  # 1 paid late, 2 now missed
    assert changes["caught-up"].status is ACTIVE


# -- properties ---------------------------------------------------------------------


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Instalment, ...]:
    count = draw(st.integers(1, 24))
    start = draw(st.dates(date(2025, 1, 1), date(2030, 1, 1)))
    gaps = draw(st.lists(st.integers(1, 40), min_size=count, max_size=count))
    amounts = draw(st.lists(st.integers(1, 100_000), min_size=count, max_size=count))
    due, out = start, []
    for number, (gap, amount) in enumerate(zip(gaps, amounts, strict=True), start=1):
        out.append(Instalment(number, due, amount))
        due += timedelta(days=gap)
    return tuple(out)


payments_strategy = st.lists(
    st.builds(Payment, st.dates(date(2024, 6, 1), date(2032, 1, 1)), st.integers(1, 200_000)),
    max_size=15,
)


@given(schedules(), payments_strategy, st.dates(date(2024, 6, 1), date(2032, 1, 1)))
def test_state_conserves_money_and_pays_a_prefix(
    schedule: tuple[Instalment, ...], payments: list[Payment], on: date
) -> None:
    state = arrangement_state(schedule, payments, on, POLICY)
    received = sum(p.amount for p in payments if p.received <= on)
    assert state.paid + state.surplus == received
    assert state.paid == sum(i.paid for i in state.instalments)
    assert state.surplus == 0 or state.status is COMPLETED
    paid_flags = [i.status is PAID for i in state.instalments]
    assert paid_flags == sorted(paid_flags, reverse=True)  # paid ones come first
    part_paid = [i for i in state.instalments if 0 < i.paid < i.amount]
    assert len(part_paid) <= 1
    for inst in state.instalments:
        if inst.status is MISSED:
            assert (on - inst.due).days > POLICY.missed_after_days
    if len(state.missed) >= POLICY.missed_instalments_before_broken:
        assert state.status is BROKEN


@given(schedules(), payments_strategy, st.dates(date(2024, 6, 1), date(2031, 1, 1)))
def test_once_broken_later_dates_stay_broken_or_complete(
    schedule: tuple[Instalment, ...], payments: list[Payment], on: date
) -> None:
    earlier = arrangement_state(schedule, payments, on, POLICY)
    later = arrangement_state(schedule, payments, on + timedelta(days=365), POLICY)
    if earlier.status is BROKEN:
        assert later.status in (BROKEN, COMPLETED)
        assert later.broken_on == earlier.broken_on
