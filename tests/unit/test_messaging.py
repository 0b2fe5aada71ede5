"""Message texts, SMS segments and the sending policy: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.codes import TimeOfDay
from agent_desk.domain.messaging import (
    MessageChannel,
    MessageKind,
    Template,
    check_template,
    load_templates,
    sms_length,
)
from agent_desk.domain.scheduling import suggest_retry
from agent_desk.domain.sending_rules import (
    HeldReason,
    backoff,
    load_sending_policy,
    next_window_opens,
    policy_from_mapping,
    public_holiday,
    window_refusal,
)

AMS = ZoneInfo("Europe/Amsterdam")


def test_the_shipped_texts_pass_their_check_in_both_languages() -> None:
    templates = load_templates()
    assert templates.problems() == []
    for language in ("nl", "en"):
        for kind in MessageKind:
            assert templates.get(language, kind, MessageChannel.EMAIL).language == language


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # the euro sign costs two septets: 160 units
        ("€" * 81, "GSM-7", 2),
        ("ç" * 70, "UCS-2", 1),  # lower-case c-cedilla is not in GSM-7
        ("ç" * 71, "UCS-2", 2),
        ("Hallo 😀", "UCS-2", 1),  # an emoji is two UTF-16 units
        ("a" * 134 + "😀", "UCS-2", 3),
    ],
)
def test_sms_segments_as_the_network_counts_them(text: str, encoding: str, segments: int) -> None:
    length = sms_length(text)
    assert (length.encoding, length.segments) == (encoding, segments)


@given(st.text(alphabet="abcdefghij €[]{}", max_size=700))
def test_gsm_segments_never_overflow(text: str) -> None:
    length = sms_length(text)
    assert length.encoding == "GSM-7"
    assert length.units <= length.segments * length.per_segment
    assert length.remaining >= 0


def _template(
    body: str, channel: MessageChannel = MessageChannel.SMS, subject: str = ""
) -> Template:
    return Template(MessageKind.MISSED_CALL, channel, "nl", subject, body, "t")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Bel {phone}. {payment_link}", None),
        ("Bel {phone} over {amount}. {payment_link}", "must not carry {amount}"),
        ("Uw schuld: bel {phone}. {payment_link}", "must not say 'schuld'"),
        ("Your arrears: call {phone}. {payment_link}", "must not say 'arrears'"),
        ("Betaal: {payment_link} of bel {phone}", "comes last"),
        ("Bel {telefoon}. {payment_link}", "{telefoon} is not a placeholder"),
        ("Bel {phone}.", "no {payment_link}"),
        ("Bel {phone. {payment_link}", "not closed"),
        ("x" * 480 + " {payment_link}", "parts"),
    ],
)
def test_the_check_finds_what_would_go_wrong_in_an_sms(body: str, problem: str | None) -> None:
    found = [p.message for p in check_template(_template(body))]
    if problem is None:
        assert found == []
    else:
        assert any(problem in message for message in found), found


def test_an_email_needs_a_short_one_line_subject() -> None:
    body = "Bel {phone}. {payment_link}"
    assert any(
        "subject" in p.message for p in check_template(_template(body, MessageChannel.EMAIL))
    )
    long = _template(body, MessageChannel.EMAIL, "x" * 90)
    assert any("longer than 78" in p.message for p in check_template(long))


# ---------------------------------------------------------------------- the window


@pytest.mark.parametrize(
    ("local", "reason"),
    [
        (datetime(2026, 12, 8, 7, 59), HeldReason.OUTSIDE_WINDOW),
        (datetime(2026, 12, 8, 8, 0), None),
        (datetime(2026, 12, 8, 20, 59), None),
        (datetime(2026, 12, 8, 21, 0), HeldReason.OUTSIDE_WINDOW),
        (datetime(2026, 12, 6, 12, 0), HeldReason.SUNDAY),
        (datetime(2026, 12, 5, 12, 0), None),  # Saturday is allowed
        (datetime(2026, 12, 25, 12, 0), HeldReason.HOLIDAY),
        (datetime(2026, 12, 26, 12, 0), HeldReason.HOLIDAY),
        (datetime(2026, 4, 27, 12, 0), HeldReason.HOLIDAY),  # King's Day
        (datetime(2025, 4, 26, 12, 0), HeldReason.HOLIDAY),  # King's Day on Saturday 2025
        (datetime(2027, 5, 6, 12, 0), HeldReason.HOLIDAY),  # Ascension Day 2027
        (datetime(2026, 3, 30, 12, 0), None),  # summer time started the day before
    ],
)
def test_the_sending_window(local: datetime, reason: HeldReason | None) -> None:
    moment = local.replace(tzinfo=AMS).astimezone(UTC)
    assert window_refusal(moment, load_sending_policy()) is reason


def test_the_window_opens_again_on_the_next_working_morning() -> None:
    policy = load_sending_policy()
    christmas_eve_late = datetime(2026, 12, 24, 22, 0, tzinfo=AMS)
    opens = next_window_opens(christmas_eve_late, policy).astimezone(AMS)
    # 25 and 26 December are holidays, 27 December 2026 is a Sunday.
    assert opens == datetime(2026, 12, 28, 8, 0, tzinfo=AMS)
    assert public_holiday(date(2026, 12, 25)) == "Christmas Day"


def test_backoff_doubles() -> None:
    policy = load_sending_policy()
    assert [backoff(n, policy).total_seconds() / 60 for n in (1, 2, 3, 4)] == [5, 10, 20, 40]


def test_a_broken_policy_is_explained() -> None:
    base = {
        "window_start": "08:00",
        "window_end": "21:00",
        "max_per_customer_per_week": 3,
        "instalment_reminder_days_before": 3,
        "promise_reminder_days_before": 1,
        "retry_base_minutes": 5,
        "max_attempts": 6,
        "claim_lease_seconds": 120,
    }
    assert policy_from_mapping(base).window_end == time(21, 0)
    with pytest.raises(Exception, match="start before it ends"):
        policy_from_mapping(base | {"window_end": "07:00"})
    with pytest.raises(Exception, match="time like"):
        policy_from_mapping(base | {"window_start": "acht uur"})
    with pytest.raises(Exception, match="whole number"):
        policy_from_mapping(base | {"max_attempts": -1})


# ------------------------------------------------------ call-backs skip public holidays


@pytest.mark.parametrize(
    ("now", "avoid"),
    [
        (datetime(2026, 12, 24, 19, 0), date(2026, 12, 25)),  # Christmas Eve, evening
        (datetime(2027, 4, 26, 19, 0), date(2027, 4, 27)),  # the eve of King's Day
    ],
)
def test_a_call_back_never_lands_on_a_public_holiday(now: datetime, avoid: date) -> None:
    suggested = suggest_retry(now, [now], TimeOfDay.MORNING)
    assert suggested.date() != avoid
    assert public_holiday(suggested.date()) is None and suggested.weekday() != 6
