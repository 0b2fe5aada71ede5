"""What each page of the contact check offers (moved out of the F7 widget)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from agent_desk.domain.verification import (
    Channel,
    ContactKind,
    ContactPoint,
    ContactPreferences,
    FlowStep,
    VerificationFlow,
    VerificationPolicy,
)
from agent_desk.domain.verification_pages import (
    ADD_KINDS,
    PAGE_ORDER,
    can_refuse_all,
    channel_to_save,
    freshness_count,
    shown_channel,
    step_position,
)

NOW = datetime(2025, 6, 30, 14, 0)


@dataclass(frozen=True)
class Line:
    kind: str
    preferred: bool = False
    invalid: bool = False


def flow(*days_ago: int | None) -> VerificationFlow:
    kinds = (ContactKind.MOBILE, ContactKind.EMAIL, ContactKind.ADDRESS, ContactKind.PHONE)
    points = [
        ContactPoint(
            i + 1,
            kinds[i % len(kinds)],
            f"value {i}",
            None if days is None else NOW - timedelta(days=days),
        )
        for i, days in enumerate(days_ago)
    ]
    return VerificationFlow(points, agent="sanne", now=NOW, policy=VerificationPolicy(90))


def test_pages_are_numbered_in_the_order_the_flow_walks_them() -> None:
    walked = flow(10)
    seen = [walked.step]
    for _ in range(len(PAGE_ORDER) - 1):
        for view in walked.items() if walked.step in ADD_KINDS else []:
            walked.confirm(view.handle)
        seen.append(walked.next())
    assert tuple(seen) == PAGE_ORDER
    assert step_position(FlowStep.INTRO) == (1, 7)
    assert step_position(FlowStep.SUMMARY) == (7, 7)
    assert step_position(FlowStep.DONE) is None


def test_the_intro_counts_details_out_of_date_at_the_interval_boundary() -> None:
    # 90 days is still fresh, 91 is out of date, never checked is out of date
    assert freshness_count(flow(90, 91, None)) == (2, 3)
    assert freshness_count(flow(0)) == (0, 1)
    assert freshness_count(flow()) == (0, 0)


def test_a_new_number_is_offered_as_a_mobile_first() -> None:
    assert ADD_KINDS[FlowStep.PHONES] == (ContactKind.MOBILE, ContactKind.PHONE)
    assert ADD_KINDS[FlowStep.EMAILS] == (ContactKind.EMAIL,)
    assert ADD_KINDS[FlowStep.ADDRESSES] == (ContactKind.ADDRESS,)
    assert set(ADD_KINDS) == {FlowStep.PHONES, FlowStep.EMAILS, FlowStep.ADDRESSES}


def test_refusing_a_whole_page_is_offered_while_something_is_undecided() -> None:
    checked = flow(200, 200)
    checked.next()  # the phones page: one mobile
    items = checked.items()
    assert can_refuse_all(items)
    checked.confirm(items[0].handle)
    assert not can_refuse_all(checked.items())
    assert not can_refuse_all([])  # nothing on file: nothing to refuse


def test_the_customers_own_channel_wins_over_the_preferred_point() -> None:
    points = [Line("email", preferred=True)]
    assert shown_channel(ContactPreferences(preferred_channel=Channel.SMS), points) == "sms"
    assert shown_channel(ContactPreferences(), points) == "email"


@pytest.mark.parametrize(
    ("kind", "channel"),
    [("mobile", "phone"), ("phone", "phone"), ("email", "email"), ("address", "letter")],
)
def test_the_preferred_point_shows_its_channel(kind: str, channel: str) -> None:
    assert shown_channel(ContactPreferences(), [Line(kind, preferred=True)]) == channel


def test_an_invalid_or_unmarked_point_shows_no_channel() -> None:
    points = [Line("email", preferred=True, invalid=True), Line("mobile"), Line("fax", True)]
    assert shown_channel(ContactPreferences(), points) is None
    assert shown_channel(ContactPreferences(), [*points, Line("address", True)]) == "letter"


def test_the_shown_channel_left_as_it_was_is_not_saved() -> None:
    none = ContactPreferences()
    assert channel_to_save("email", "email", none) is None  # shown from the file, unchanged
    assert channel_to_save("letter", "email", none) == "letter"  # a real change
    assert channel_to_save(None, "email", none) is None  # cleared: no preference
    assert channel_to_save(None, None, none) is None
    own = ContactPreferences(preferred_channel=Channel.EMAIL)
    assert channel_to_save("email", "email", own) == "email"  # the customer's own: kept
