"""When a message may leave: the sending window, Sundays, Dutch public holidays, the
weekly cap per customer, and the back-off after a temporary failure.

The figures are data (``resources/policy/messages.toml``); the public holidays come
from the well-kept ``holidays`` package (its Dutch calendar has King's Day moved off a
Sunday, Easter and Whitsun computed), not from a list of dates we would have to keep.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent_desk.errors import ValidationError
from agent_desk.resources import read_text

if TYPE_CHECKING:  # imported on first use: its calendars take a tenth of a second
    import holidays


class HeldReason(StrEnum):
    """Why a message did not leave (now, or ever)."""

    OPTED_OUT = "opted_out"
    NO_CONTACT_POINT = "no_contact_point"
    BOUNCED_CONTACT = "bounced_contact"
    OUTSIDE_WINDOW = "outside_window"
    SUNDAY = "sunday"
    HOLIDAY = "holiday"
    FREQUENCY_CAP = "frequency_cap"
    EXPIRED = "expired"
    NOT_CONFIGURED = "not_configured"
    PAUSED = "paused"


#: Reasons that end a message for good (it is cancelled); the others wait for later.
FINAL_REASONS = frozenset(
    {
        HeldReason.OPTED_OUT,
        HeldReason.NO_CONTACT_POINT,
        HeldReason.BOUNCED_CONTACT,
        HeldReason.EXPIRED,
    }
)


@dataclass(frozen=True)
class SendingPolicy:
    timezone: str
    window_start: time
    window_end: time
    no_sundays: bool
    no_public_holidays: bool
    holiday_country: str
    max_per_customer_per_week: int
    instalment_reminder_days_before: int
    promise_reminder_days_before: int
    retry_base_minutes: int
    max_attempts: int
    claim_lease_seconds: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _clock(value: Any, name: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValidationError(
            "The sending policy's '{name}' must be a time like \"08:00\".", name, name=name
        ) from None


_INTS = (
    "max_per_customer_per_week",
    "instalment_reminder_days_before",
    "promise_reminder_days_before",
    "retry_base_minutes",
    "max_attempts",
    "claim_lease_seconds",
)


def policy_from_mapping(data: Mapping[str, Any]) -> SendingPolicy:
    ints: dict[str, int] = {}
    for name in _INTS:
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(
                "The sending policy's '{name}' must be a whole number of 0 or more.",
                name,
                name=name,
            )
        ints[name] = value
    start = _clock(data.get("window_start"), "window_start")
    end = _clock(data.get("window_end"), "window_end")
    if not start < end:
        raise ValidationError("The sending window must start before it ends.", "window_end")
    zone = str(data.get("timezone", "Europe/Amsterdam"))
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        raise ValidationError("'{zone}' is not a time zone.", "timezone", zone=zone) from None
    return SendingPolicy(
        timezone=zone,
        window_start=start,
        window_end=end,
        no_sundays=bool(data.get("no_sundays", True)),
        no_public_holidays=bool(data.get("no_public_holidays", True)),
        holiday_country=str(data.get("holiday_country", "NL")),
        **ints,
    )


@lru_cache(maxsize=1)
def load_sending_policy() -> SendingPolicy:
    return policy_from_mapping(tomllib.loads(read_text("policy", "messages.toml")))


@lru_cache(maxsize=8)
def _holidays(country: str) -> holidays.HolidayBase:
    import holidays

    return holidays.country_holidays(country)


def public_holiday(day: date, country: str = "NL") -> str | None:
    """The name of the public holiday on ``day`` (``None`` on an ordinary day)."""
    name = _holidays(country).get(day)
    return str(name) if name else None


def day_closed(day: date, policy: SendingPolicy) -> HeldReason | None:
    if policy.no_sundays and day.weekday() == 6:
        return HeldReason.SUNDAY
    if policy.no_public_holidays and public_holiday(day, policy.holiday_country):
        return HeldReason.HOLIDAY
    return None


def window_refusal(moment: datetime, policy: SendingPolicy) -> HeldReason | None:
    """Why nothing may be sent at ``moment`` (aware), or ``None`` when it may."""
    local = moment.astimezone(policy.zone)
    closed = day_closed(local.date(), policy)
    if closed is not None:
        return closed
    if not policy.window_start <= local.time() < policy.window_end:
        return HeldReason.OUTSIDE_WINDOW
    return None


def next_window_opens(moment: datetime, policy: SendingPolicy) -> datetime:
    """The first moment at or after ``moment`` inside the window (UTC)."""
    local = moment.astimezone(policy.zone)
    if window_refusal(moment, policy) is None:
        return moment
    day = local.date()
    if local.time() >= policy.window_start:
        day += timedelta(days=1)
    for _ in range(30):
        if day_closed(day, policy) is None:
            opens = datetime.combine(day, policy.window_start, tzinfo=policy.zone)
            return opens.astimezone(UTC)
        day += timedelta(days=1)
    raise ValidationError("The sending policy leaves no day to send on.")  # pragma: no cover


def over_cap(sent_in_last_week: int, policy: SendingPolicy) -> bool:
    return sent_in_last_week >= policy.max_per_customer_per_week


def backoff(attempts: int, policy: SendingPolicy) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: base, 2 x base, 4 x base, ..."""
    return timedelta(minutes=policy.retry_base_minutes * 2 ** max(0, attempts - 1))
