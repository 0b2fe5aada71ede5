"""The queue's reasons split into two parts, as ``services.queue_pages`` keeps them.

A page works out "the next step and the flags" once per kind of row and "n days past
due" once per due date, and puts them together. That is only right while
``domain.queue.reasons`` is exactly those two parts, the due-date one last and
depending on nothing but the oldest due date and the team's day: this checks it for
any facts and any moment.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain import queue as rules
from agent_desk.domain.codes import NextStepKind

moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
days = st.dates(min_value=date(2023, 1, 1), max_value=date(2031, 1, 1))
facts = st.builds(
    rules.QueueFacts,
    open=st.booleans(),
    arrears_cents=st.integers(min_value=0, max_value=10**9),
    oldest_due_date=st.none() | days,
    first_time_arrears=st.booleans(),
    broken_arrangement=st.booleans(),
    missed_instalment=st.booleans(),
    called_in=st.booleans(),
    next_step_kind=st.none() | st.sampled_from([k.value for k in NextStepKind]),
    next_step_due_at=st.none() | moments,
    paused_until=st.none() | days,
    contact_stale=st.booleans(),
    reminder=st.none() | st.tuples(st.integers(min_value=1, max_value=99), days),
    signal_due=st.booleans(),
)


@given(facts, moments, st.none() | st.sampled_from(["08:15", "14:00"]))
def test_reasons_are_the_steps_part_then_the_due_date_part(
    f: rules.QueueFacts, now: datetime, local_time: str | None
) -> None:
    whole = rules.reasons(f, now, local_time=local_time)
    steps = rules.reasons(replace(f, oldest_due_date=None), now, local_time=local_time)
    overdue = rules.reasons(
        rules.QueueFacts(open=True, arrears_cents=0, oldest_due_date=f.oldest_due_date), now
    )
    assert whole == steps + overdue
    # The steps part does not see the open flag, the arrears or the pause either.
    bare = replace(f, oldest_due_date=None, open=True, arrears_cents=0, paused_until=None)
    assert rules.reasons(bare, now, local_time=local_time) == steps
