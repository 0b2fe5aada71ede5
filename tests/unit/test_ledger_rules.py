"""The rules of the books (pure): default, the 14-day term, costs, interest, payments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain import ledger as rules
from agent_desk.domain.fees import load_fee_table
from agent_desk.domain.interest import InterestRate, RateTable, load_rate_table, statutory_interest
from agent_desk.errors import ValidationError

POLICY = rules.BooksPolicy(
    post_receipt_working_days=2,
    email_receipt_days=0,
    fourteen_day_term_days=14,
    promise_grace_days=2,
)
FEES = load_fee_table()
RATES = load_rate_table()
SIX = RateTable((InterestRate(date(2020, 1, 1), Decimal("0.06")),))


def test_default_and_interest_start_the_day_after_the_due_date() -> None:
    due = date(2026, 12, 1)
    assert rules.in_default_since(due) == date(2026, 12, 2)
    assert not rules.in_default(due, date(2026, 12, 1)), "a claim due today is not in arrears"
    assert rules.in_default(due, date(2026, 12, 2))


@pytest.mark.parametrize(
    ("sent", "channel", "received", "term_ends"),
    [
        # Tuesday by post: received Thursday, last day to pay two weeks later.
        (date(2026, 12, 1), rules.Channel.POST, date(2026, 12, 3), date(2026, 12, 17)),
        # Thursday by post: Friday and Monday are the two working days.
        (date(2026, 12, 3), rules.Channel.POST, date(2026, 12, 7), date(2026, 12, 21)),
        # Friday by post: Monday, Tuesday.
        (date(2026, 12, 4), rules.Channel.POST, date(2026, 12, 8), date(2026, 12, 22)),
        # E-mail counts as received the day it is sent.
        (date(2026, 12, 4), rules.Channel.EMAIL, date(2026, 12, 4), date(2026, 12, 18)),
    ],
)
def test_receipt_convention_and_the_term(
    sent: date, channel: rules.Channel, received: date, term_ends: date
) -> None:
    assert rules.received_on(sent, channel, POLICY) == received
    assert rules.term_ends(sent, channel, POLICY) == term_ends
    assert rules.costs_chargeable_from(sent, channel, POLICY) == term_ends + timedelta(days=1)


def test_shipped_books_policy_loads_and_a_term_under_14_days_is_refused() -> None:
    policy = rules.load_books_policy()
    assert policy.fourteen_day_term_days >= 14
    with pytest.raises(ValidationError, match="at least 14 days"):
        rules.books_policy_from_mapping(
            {
                "post_receipt_working_days": 2,
                "email_receipt_days": 0,
                "fourteen_day_term_days": 10,
                "promise_grace_days": 2,
            }
        )
    with pytest.raises(ValidationError, match="whole number"):
        rules.books_policy_from_mapping({"post_receipt_working_days": "two"})


def test_letter_names_bik_over_the_claims_in_default_summed() -> None:
    # 250 overdue: the minimum of 40.00; 300 + 2,200 = 2,500 summed: 375.00.
    assert rules.letter_costs([25_000], FEES, date(2026, 12, 1), add_vat=False).costs == 4_000
    assert (
        rules.letter_costs([30_000, 220_000], FEES, date(2026, 12, 1), add_vat=False).costs
        == 37_500
    )
    assert rules.letter_costs([], FEES, date(2026, 12, 1), add_vat=False).costs == 0


def test_costs_owed_only_over_the_unpaid_rest_of_what_was_named() -> None:
    sent = date(2026, 11, 1)
    # Named 2,500 over two claims; 1,000 of the first was paid in the term: costs over
    # the unpaid 1,500 (15% = 225.00), never over a claim the letter did not name.
    owed = rules.costs_owed(
        [rules.NamedClaim(1, 200_000, 100_000), rules.NamedClaim(2, 50_000, 50_000)],
        FEES,
        sent,
        add_vat=False,
    )
    assert owed.costs == 22_500
    assert sum(share for _, share in owed.per_claim) == owed.costs
    assert dict(owed.per_claim) == {1: 15_000, 2: 7_500}
    # Paid in full in the term: nothing.
    assert rules.costs_owed([rules.NamedClaim(1, 25_000, 0)], FEES, sent, add_vat=False).costs == 0
    # More unpaid than named (the claim grew): still only over what was named.
    assert (
        rules.costs_owed([rules.NamedClaim(1, 25_000, 90_000)], FEES, sent, add_vat=False).costs
        == 4_000
    )


def test_costs_with_vat_say_how_much_vat() -> None:
    owed = rules.costs_owed(
        [rules.NamedClaim(1, 25_000, 25_000)], FEES, date(2026, 11, 1), add_vat=True
    )
    assert owed.vat == 840 and owed.costs == 4_840  # 21% on 40.00


@given(
    amount=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=8),
)
def test_spread_adds_up_and_never_goes_negative(amount: int, weights: list[int]) -> None:
    shares = rules.spread(amount, weights)
    assert sum(shares) == amount
    assert all(s >= 0 for s in shares)


def test_interest_runs_from_the_day_after_due_and_matches_the_statutory_calculation() -> None:
    due = date(2025, 12, 31)
    since = rules.in_default_since(due)
    periods = rules.accrue_interest(
        principal=30_000, capitalised=0, pending=0, default_since=since, start=since,
        end=since + timedelta(days=90), table=SIX,
    )  # fmt: skip
    assert sum(p.interest for p in periods) == 444  # 300.00 at 6% for 90 days
    expected = statutory_interest(30_000, since, since + timedelta(days=90), SIX).interest
    assert sum(p.interest for p in periods) == expected


def test_interest_is_added_to_the_base_after_a_full_year() -> None:
    since = date(2024, 1, 1)
    periods = rules.accrue_interest(
        principal=100_000, capitalised=0, pending=0, default_since=since, start=since,
        end=date(2025, 7, 1), table=SIX,
    )  # fmt: skip
    first_year = sum(p.interest for p in periods if p.end <= date(2025, 1, 1))
    later = [p for p in periods if p.start >= date(2025, 1, 1)]
    assert first_year == 6_016  # 366 days at 6% on 1,000.00
    assert later[0].base == 100_000 + first_year
    # Same as the one-shot statutory calculation over the whole period.
    whole = statutory_interest(100_000, since, date(2025, 7, 1), SIX).interest
    assert sum(p.interest for p in periods) == whole


def test_interest_splits_at_a_rate_change() -> None:
    since = date(2023, 6, 1)
    periods = rules.accrue_interest(
        principal=100_000, capitalised=0, pending=0, default_since=since, start=since,
        end=date(2023, 8, 1), table=RATES,
    )  # fmt: skip
    assert [(p.start, p.rate) for p in periods] == [
        (date(2023, 6, 1), Decimal("0.04")),
        (date(2023, 7, 1), Decimal("0.06")),
    ]


def test_nothing_accrues_before_default_or_on_nothing() -> None:
    since = date(2026, 12, 2)
    assert rules.accrue_interest(
        principal=0, capitalised=0, pending=0, default_since=since, start=since,
        end=date(2027, 1, 1), table=SIX,
    ) == []  # fmt: skip
    # A start before default is moved to the first day of default.
    periods = rules.accrue_interest(
        principal=36_500, capitalised=0, pending=0, default_since=since,
        start=date(2026, 11, 1), end=date(2026, 12, 12), table=SIX,
    )  # fmt: skip
    assert periods[0].start == since and sum(p.interest for p in periods) == 60


def _claim(
    claim_id: int, due: date, principal: int, costs: int = 0, interest: int = 0
) -> rules.ClaimBalance:
    return rules.ClaimBalance(claim_id, due, principal, costs, interest)


def test_a_payment_smaller_than_the_costs_pays_only_costs() -> None:
    split = rules.split_payment(
        2_500, [_claim(1, date(2026, 9, 1), 25_000, 4_000, 300)], date(2026, 12, 1)
    )
    [(claim_id, allocation)] = split.allocations
    assert claim_id == 1
    assert (allocation.costs, allocation.interest, allocation.principal) == (2_500, 0, 0)
    assert split.credit == 0


def test_a_payment_spread_over_three_claims_oldest_in_default_first() -> None:
    today = date(2026, 12, 1)
    claims = [
        _claim(3, date(2026, 12, 15), 10_000),  # not yet due: last
        _claim(2, date(2026, 10, 1), 10_000, 0, 100),
        _claim(1, date(2026, 9, 1), 10_000, 4_000, 200),
    ]
    split = rules.split_payment(30_000, claims, today)
    order = [cid for cid, _ in split.allocations]
    assert order == [1, 2, 3]
    by_claim = dict(split.allocations)
    assert (by_claim[1].costs, by_claim[1].interest, by_claim[1].principal) == (4_000, 200, 10_000)
    assert (by_claim[2].interest, by_claim[2].principal) == (100, 10_000)
    assert by_claim[3].principal == 30_000 - 14_200 - 10_100
    assert split.credit == 0


def test_the_claim_the_payer_names_comes_first() -> None:
    claims = [_claim(1, date(2026, 9, 1), 10_000), _claim(2, date(2026, 10, 1), 10_000)]
    split = rules.split_payment(5_000, claims, date(2026, 12, 1), named_claim_id=2)
    assert [cid for cid, _ in split.allocations] == [2]


def test_a_surplus_is_kept_as_credit() -> None:
    split = rules.split_payment(
        15_000, [_claim(1, date(2026, 9, 1), 10_000, 0, 50)], date(2026, 12, 1)
    )
    assert split.credit == 15_000 - 10_050
    with pytest.raises(ValidationError):
        rules.split_payment(0, [], date(2026, 12, 1))


@given(
    amount=st.integers(min_value=1, max_value=10**8),
    parts=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**6),
            st.integers(min_value=0, max_value=10**5),
            st.integers(min_value=0, max_value=10**5),
            st.integers(min_value=-200, max_value=200),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_every_cent_of_a_payment_lands_somewhere_once(
    amount: int, parts: list[tuple[int, int, int, int]]
) -> None:
    today = date(2026, 12, 1)
    claims = [
        _claim(i, today + timedelta(days=offset), principal, costs, interest)
        for i, (principal, costs, interest, offset) in enumerate(parts)
    ]
    split = rules.split_payment(amount, claims, today)
    allocated = sum(a.costs + a.interest + a.principal for _, a in split.allocations)
    assert allocated + split.credit == amount
    owed = {c.claim_id: c for c in claims}
    for claim_id, a in split.allocations:
        c = owed[claim_id]
        assert a.costs <= c.costs and a.interest <= c.interest and a.principal <= c.principal
        # 6:44: nothing reaches interest while costs are open, nor principal before interest.
        assert a.interest == 0 or a.costs == c.costs
        assert a.principal == 0 or a.interest == c.interest
    if split.credit:
        assert allocated == sum(c.outstanding for c in claims)
