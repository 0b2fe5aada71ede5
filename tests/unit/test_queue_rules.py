"""Queue priority, first-time arrears, retry suggestions, money parsing, configuration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.config import ENV_DATABASE_URL, resolve_database_url
from agent_desk.domain import queue as q
from agent_desk.domain.codes import NextStepKind, TimeOfDay
from agent_desk.domain.money import cents_to_str, format_money, parse_amount
from agent_desk.domain.scheduling import part_of_day, suggest_retry
from agent_desk.errors import ValidationError
from agent_desk.i18n import Translator

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
OLD = date(2026, 9, 1)


def facts(**kw: object) -> q.QueueFacts:
    base: dict[str, object] = {"open": True, "arrears_cents": 10_000, "oldest_due_date": OLD}
    base.update(kw)
    return q.QueueFacts(**base)  # type: ignore[arg-type]


def test_groups_come_in_the_documented_order() -> None:
    callback = facts(
        next_step_kind=NextStepKind.CALLBACK, next_step_due_at=NOW, first_time_arrears=True
    )
    promise = facts(next_step_kind=NextStepKind.PROMISE_CHECK, next_step_due_at=NOW)
    called_in = facts(called_in=True, broken_arrangement=True)
    broken = facts(broken_arrangement=True, first_time_arrears=True)
    missed = facts(missed_instalment=True)
    first = facts(first_time_arrears=True, oldest_due_date=date(2026, 11, 10))
    plain = facts(oldest_due_date=date(2025, 1, 1), arrears_cents=999_999)
    assert [q.bucket(f) for f in (callback, promise, called_in, broken, missed, first, plain)] == [
        q.Bucket.DUE_CALLBACK,
        q.Bucket.DUE_CALLBACK,
        q.Bucket.CALLED_IN,
        q.Bucket.BROKEN,
        q.Bucket.BROKEN,
        q.Bucket.FIRST_TIME,
        q.Bucket.ARREARS,
    ]
    ordered = sorted([plain, first, broken, called_in, callback], key=q.sort_key)
    assert ordered == [callback, called_in, broken, first, plain]


def test_within_a_group_most_days_past_due_then_highest_amount() -> None:
    older = facts(oldest_due_date=date(2026, 8, 1), arrears_cents=100)
    newer_big = facts(oldest_due_date=date(2026, 9, 1), arrears_cents=900_000)
    newer_small = facts(oldest_due_date=date(2026, 9, 1), arrears_cents=1_000)
    assert sorted([newer_small, newer_big, older], key=q.sort_key) == [
        older,
        newer_big,
        newer_small,
    ]


def test_paused_waiting_and_closed_customers_are_left_out() -> None:
    assert q.in_queue(facts(), NOW)
    assert not q.in_queue(facts(open=False), NOW)
    assert not q.in_queue(facts(paused_until=NOW.date()), NOW)
    assert q.in_queue(facts(paused_until=NOW.date() - timedelta(days=1)), NOW)
    assert not q.in_queue(facts(next_step_due_at=NOW + timedelta(minutes=1)), NOW)
    assert q.in_queue(facts(next_step_due_at=NOW), NOW)


def test_reasons_in_words_in_both_languages() -> None:
    f = facts(next_step_kind=NextStepKind.CALLBACK, next_step_due_at=NOW, first_time_arrears=True)
    reasons = q.reasons(f, NOW, local_time="14:00")
    assert [r.text(Translator("en")) for r in reasons] == [
        "callback 14:00",
        "first time in arrears",
        "83 days past due",
    ]
    assert [r.text(Translator("nl")) for r in reasons] == [
        "terugbellen 14:00",
        "voor het eerst achterstand",
        "83 dagen over de vervaldatum",
    ]


def test_first_time_arrears_is_derived_from_history() -> None:
    open_claim = q.ClaimHistory(date(2026, 10, 1), None)
    paid_on_time = q.ClaimHistory(date(2026, 5, 1), date(2026, 4, 28))
    paid_late = q.ClaimHistory(date(2026, 5, 1), date(2026, 6, 15))
    assert q.is_first_time_arrears(
        [open_claim, paid_on_time], earlier_promises=0, earlier_arrangements=0
    )
    assert not q.is_first_time_arrears(
        [open_claim, paid_late], earlier_promises=0, earlier_arrangements=0
    )
    assert not q.is_first_time_arrears([open_claim], earlier_promises=1, earlier_arrangements=0)
    assert not q.is_first_time_arrears([open_claim], earlier_promises=0, earlier_arrangements=1)
    assert not q.is_first_time_arrears([paid_on_time], earlier_promises=0, earlier_arrangements=0)


def test_retry_goes_to_another_part_of_the_day() -> None:
    morning_miss = datetime(2026, 11, 23, 9, 40, tzinfo=UTC)
    retry = suggest_retry(morning_miss + timedelta(minutes=5), [morning_miss])
    assert part_of_day(retry) is TimeOfDay.AFTERNOON and retry.date() == morning_miss.date()
    evening = datetime(2026, 11, 23, 18, 45, tzinfo=UTC)
    tried_all = [morning_miss, datetime(2026, 11, 23, 14, 5, tzinfo=UTC), evening]
    nxt = suggest_retry(evening + timedelta(minutes=1), tried_all)
    assert part_of_day(nxt) is not TimeOfDay.EVENING and nxt.date() == date(2026, 11, 24)


def test_retry_respects_best_time_and_skips_the_weekend() -> None:
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    retry = suggest_retry(friday_evening, [friday_evening], TimeOfDay.MORNING)
    assert retry.weekday() == 0 and part_of_day(retry) is TimeOfDay.MORNING


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.integers(0, 2),
)
def test_retry_is_always_later_in_a_calling_window_on_a_weekday(
    moment: datetime, extra: int
) -> None:
    now = moment.replace(tzinfo=UTC)
    misses = [now - timedelta(hours=4 * k) for k in range(extra + 1)]
    retry = suggest_retry(now, misses)
    assert retry > now
    assert part_of_day(retry) is not None
    assert retry.weekday() < 5


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("1234.56", 123456),
        ("1234,56", 123456),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("€ 12", 1200),
        ("0,5", 50),
    ],
)
def test_amounts_as_agents_type_them(typed: str, cents: int) -> None:
    assert parse_amount(typed) == cents


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("", "Enter"),
        ("abc", "not an amount"),
        ("-5", "negative"),
        ("0", "more than zero"),
        ("1.005", "unclear"),
        ("1.2345", "two decimals"),
        ("1.000", "unclear"),
    ],
)
def test_bad_amounts_are_explained(typed: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        parse_amount(typed)


@given(st.integers(min_value=1, max_value=10**10))
def test_cents_round_trip_through_text(cents: int) -> None:
    assert parse_amount(cents_to_str(cents)) == cents
    assert parse_amount(format_money(cents, "nl")) == cents


def test_money_is_formatted_per_locale() -> None:
    assert format_money(123456, "nl") == "€\xa01.234,56"
    assert format_money(123456, "en") == "€1,234.56"


def test_database_url_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DATABASE_URL, "postgresql://a@b/c")
    assert resolve_database_url("sqlite:///x").url == "sqlite:///x"
    assert resolve_database_url(None).url == "postgresql://a@b/c"
    assert resolve_database_url(None, demo=True).url.endswith("demo.sqlite3")
    monkeypatch.delenv(ENV_DATABASE_URL)
    default = resolve_database_url(None)
    assert default.source == "default" and default.url.endswith("agent-desk.sqlite3")


def test_stale_contact_data_is_a_reason_before_days_past_due() -> None:
    reasons = q.reasons(facts(contact_stale=True, first_time_arrears=True), NOW)
    assert [r.message for r in reasons] == [
        "first time in arrears",
        "contact details out of date",
        "{days} days past due",
    ]
    assert "contact details out of date" not in [r.message for r in q.reasons(facts(), NOW)]


def test_instalment_reminder_names_the_instalment_and_the_day() -> None:
    f = facts(next_step_kind=NextStepKind.INSTALMENT_REMINDER, reminder=(3, date(2026, 11, 27)))
    reason = q.reasons(f, NOW)[0]
    assert reason.text(Translator("en")) == "remind: instalment 3 due Friday 27 Nov"
    assert reason.text(Translator("nl")) == "herinneren: termijn 3 vervalt vrijdag 27 nov"


def test_a_pause_ends_at_the_teams_midnight_not_at_utc_midnight() -> None:
    """Paused up to and including 1 December: at 00:30 on 2 December in Amsterdam
    (23:30 UTC on the 1st) the pause is over and the customer is back."""
    from datetime import UTC, date, datetime

    from agent_desk.domain.queue import QueueFacts, in_queue

    facts = QueueFacts(
        open=True,
        arrears_cents=12_500,
        oldest_due_date=date(2026, 10, 1),
        paused_until=date(2026, 12, 1),
    )
    assert not in_queue(facts, datetime(2026, 12, 1, 22, 30, tzinfo=UTC))  # 23:30 local
    assert in_queue(facts, datetime(2026, 12, 1, 23, 30, tzinfo=UTC))  # 00:30 local, the 2nd
