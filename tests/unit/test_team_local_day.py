"""The team's local day (Europe/Amsterdam): late evening UTC is already tomorrow there,
around both changes of the clock (last Sunday of March and of October)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent_desk.domain.ledger import BooksPolicy
from agent_desk.domain.team_day import local_day, team_zone
from agent_desk.services.promises import PromiseTerms, Received, counts_towards


def test_the_team_zone_is_the_sending_policys() -> None:
    assert team_zone() == ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # 23:30 UTC in winter is 00:30 the next day in Amsterdam.
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 29)),
        # Sunday 29 March 2026 the clock goes forward: 22:30 UTC is 00:30 on the 30th.
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), date(2026, 3, 30)),
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), date(2026, 3, 29)),
        # Summer, the night before the clock goes back (Sunday 25 October 2026).
        (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 22, 30, tzinfo=UTC), date(2026, 10, 25)),  # 23:30 CET
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 26)),  # 00:30 CET
        # Stored moments without a zone are UTC.
        (datetime(2026, 10, 25, 23, 30), date(2026, 10, 26)),
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), date(2026, 7, 1)),
    ],
)
def test_local_day(moment: datetime, day: date) -> None:
    assert local_day(moment) == day


def test_a_promise_made_at_half_past_midnight_counts_that_days_payment() -> None:
    made = datetime(2026, 10, 25, 23, 30, tzinfo=UTC)  # Monday 26 October, 00:30
    terms = PromiseTerms(id=1, made_at=made, amount_cents=5_000, due_date=date(2026, 10, 30))
    policy = BooksPolicy(2, 0, 14, 0)
    same_day = Received(1, date(2026, 10, 26), made + timedelta(hours=9), 5_000)
    day_before = Received(2, date(2026, 10, 25), made + timedelta(hours=9), 5_000)
    assert counts_towards(terms, same_day, policy)
    assert not counts_towards(terms, day_before, policy)
