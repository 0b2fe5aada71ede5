"""When to try again: spread attempts over the parts of the day.

People in arrears often do not pick up at the same hour twice; the seeds advise
several attempts at different times of day. Contact only at reasonable hours.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from agent_desk.domain.codes import TimeOfDay
from agent_desk.domain.sending_rules import public_holiday

# Reasonable calling windows (local time).
WINDOWS: dict[TimeOfDay, tuple[time, time]] = {
    TimeOfDay.MORNING: (time(9, 0), time(12, 0)),
    TimeOfDay.AFTERNOON: (time(13, 0), time(17, 0)),
    TimeOfDay.EVENING: (time(18, 0), time(20, 30)),
}
_ORDER = [TimeOfDay.MORNING, TimeOfDay.AFTERNOON, TimeOfDay.EVENING]
# Where each window's suggested retry starts: early enough to leave room to call.
_SUGGESTED_START: dict[TimeOfDay, time] = {
    TimeOfDay.MORNING: time(9, 30),
    TimeOfDay.AFTERNOON: time(14, 0),
    TimeOfDay.EVENING: time(18, 30),
}


def part_of_day(moment: datetime) -> TimeOfDay | None:
    """The calling window a (local) moment falls in, or None outside all of them."""
    clock = moment.time()
    for part, (start, end) in WINDOWS.items():
        if start <= clock < end:
            return part
    return None


def _nearest_part(moment: datetime) -> TimeOfDay:
    part = part_of_day(moment)
    if part is not None:
        return part
    clock = moment.time()
    if clock < WINDOWS[TimeOfDay.MORNING][0]:
        return TimeOfDay.MORNING
    if clock < WINDOWS[TimeOfDay.AFTERNOON][0]:
        return TimeOfDay.AFTERNOON
    return TimeOfDay.EVENING


def suggest_retry(
    now: datetime,
    failed_attempts: list[datetime],
    best_time: TimeOfDay | None = None,
    *,
    weekend: bool = False,
) -> datetime:
    """Next retry (local time): the customer's best time if known, else a part of the day
    not tried recently, always later than ``now`` and never on Sunday (nor Saturday
    unless ``weekend``), nor on a Dutch public holiday (Christmas Day, King's Day, ...)."""
    tried = [_nearest_part(moment) for moment in sorted(failed_attempts)[-3:]]
    if best_time is not None:
        wanted = [best_time]
    else:
        last = tried[-1] if tried else None
        untried = [p for p in _ORDER if p not in tried]
        others = [p for p in _ORDER if p != last]
        wanted = untried or others
    day = now.date()
    for offset in range(0, 14):
        candidate_day = day + timedelta(days=offset)
        weekday = candidate_day.weekday()
        if weekday == 6 or (weekday == 5 and not weekend):
            continue
        if public_holiday(candidate_day) is not None:
            continue
        for part in _ORDER:
            if part not in wanted:
                continue
            candidate = datetime.combine(candidate_day, _SUGGESTED_START[part], tzinfo=now.tzinfo)
            if candidate > now + timedelta(minutes=30):
                return candidate
    return now + timedelta(days=1)  # pragma: no cover - the loop always finds a slot
