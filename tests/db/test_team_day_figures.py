"""The team's figures count the team's days, not UTC's or the machine's (Europe/Amsterdam).

A call at 00:30 in Amsterdam is 23:30 UTC the evening before: the team view, its chart
and ``agent-desk team`` put it on the Amsterdam day, on SQLite and on PostgreSQL, and
the stale-contact count draws its line where the desk's verification prompt does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from agent_desk.demo import load_demo
from agent_desk.domain.codes import CustomerStatus
from agent_desk.domain.team_day import team_zone
from agent_desk.domain.verification import VerificationPolicy, is_stale
from agent_desk.models import ContactAttempt, ContactPoint, Customer
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.team import (
    day_bounds,
    outcomes_per_day,
    stale_contact_customers,
    stale_cutoff,
    team_overview,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# 24 Nov 2026, 00:30 in Amsterdam (CET, UTC+1) = 23 Nov, 23:30 UTC.
JUST_AFTER_MIDNIGHT = datetime(2026, 11, 24, 0, 30, tzinfo=AMSTERDAM)
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=AMSTERDAM)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=30, agents=2, seed=5, today=date(2026, 11, 20))
    return database


def _call(database: Database, at: datetime, outcome: str = "reached") -> None:
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        customer = session.scalars(select(Customer.id).order_by(Customer.id).limit(1)).one()
        session.add(
            ContactAttempt(
                customer_id=customer,
                agent_id=sanne.agent_id,
                at=at.astimezone(UTC),
                channel="phone",
                direction="outbound",
                outcome=outcome,
            )
        )


def test_the_team_zone_is_amsterdam_here() -> None:
    assert team_zone().key == "Europe/Amsterdam"  # what the figures below stand on


def test_a_call_after_midnight_counts_on_the_team_day(demo: Database) -> None:
    since = date(2026, 11, 22)
    with demo.transaction() as session:
        before = outcomes_per_day(session, since)
        sanne_before = {a.login: a for a in team_overview(session, MORNING)}["sanne"]
    _call(demo, JUST_AFTER_MIDNIGHT, "reached")
    _call(demo, JUST_AFTER_MIDNIGHT - timedelta(hours=1), "no_answer")  # 23:30 on the 23rd
    with demo.transaction() as session:
        after = outcomes_per_day(session, since)
        sanne = {a.login: a for a in team_overview(session, MORNING)}["sanne"]
        window = outcomes_per_day(session, date(2026, 11, 24), date(2026, 11, 25))

    def added(day: date, outcome: str) -> int:
        return after.get(day, {}).get(outcome, 0) - before.get(day, {}).get(outcome, 0)

    assert added(date(2026, 11, 24), "reached") == 1
    assert added(date(2026, 11, 23), "reached") == 0
    assert added(date(2026, 11, 23), "no_answer") == 1
    assert window.get(date(2026, 11, 24), {}).get("reached", 0) >= 1
    assert date(2026, 11, 23) not in window  # the day bounds are the team's too
    # "Today" in the overview is the team's day: the 00:30 call counts, 23:30 does not.
    assert sanne.attempts_today - sanne_before.attempts_today == 1


def test_day_bounds_are_the_team_days_without_a_zone_given() -> None:
    start, end = day_bounds(JUST_AFTER_MIDNIGHT.astimezone(UTC))
    assert start == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


def test_the_stale_count_and_the_verification_prompt_draw_one_line(demo: Database) -> None:
    """Verified on the team day 90 days back still counts as checked; a day earlier is
    stale, for the team view's count and for the desk's prompt alike."""
    policy = VerificationPolicy()
    now = MORNING.astimezone(UTC)
    cutoff = stale_cutoff(now, policy.interval_days)
    assert cutoff == datetime(2026, 8, 25, 22, 0, tzinfo=UTC)  # 26 Aug 00:00 CEST
    with demo.transaction() as session:
        customer = session.scalars(
            select(Customer)
            .where(Customer.status == CustomerStatus.OPEN)
            .order_by(Customer.id)
            .limit(1)
        ).one()
        points = session.scalars(
            select(ContactPoint).where(ContactPoint.customer_id == customer.id)
        ).all()
        for point in points:
            point.invalid = False
            point.verified_at = cutoff  # 26 Aug, 00:00 in Amsterdam
        session.flush()
        counted_fresh = stale_contact_customers(session, now, policy.interval_days)
        assert not any(is_stale(p, now, policy) for p in points)
        for point in points:
            point.verified_at = cutoff - timedelta(minutes=1)  # 25 Aug, 23:59
        session.flush()
        counted_stale = stale_contact_customers(session, now, policy.interval_days)
        assert all(is_stale(p, now, policy) for p in points)
    assert counted_stale == counted_fresh + 1
