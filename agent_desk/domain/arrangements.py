"""Payment plans: how a total is split into instalments and when each is due.

Rules, exact to the cent:

* By number of instalments: every instalment is ``total // count`` and the last one
  absorbs the rounding difference (1000.00 in 3 = 333.33, 333.33, 333.34).
* By amount per instalment: that amount until the rest is smaller; the last is the
  remainder (1000.00 at 150.00 = six of 150.00 and one of 100.00).
* By capacity to pay: the fewest instalments that never exceed the capacity, spread
  evenly; here the equal amount is rounded *up* and the last is the (smaller)
  remainder, so no instalment is above what the customer can pay.
* A down payment is instalment number 0, due on the start date; the first regular
  instalment is then due one period later. Without a down payment instalment 1 is due
  on the start date. Either way regular instalment ``k`` is due ``k`` periods (or
  ``k - 1``) after the start, always computed from the start date.
* Monthly dates keep the start's day of month and clip to the month's end
  (31 Jan -> 28/29 Feb -> 31 Mar -> 30 Apr); four-weekly adds 28 days, fortnightly 14,
  weekly 7.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from agent_desk.domain.money import Cents
from agent_desk.errors import ValidationError

# A technical guard, not a legal or policy figure: keeps a typo (0.01 per instalment)
# from building a million-row schedule. Policy limits are far below it.
MAX_INSTALMENTS_ANY_PLAN = 1200


class Frequency(StrEnum):
    MONTHLY = "monthly"
    FOUR_WEEKLY = "four-weekly"
    FORTNIGHTLY = "fortnightly"
    WEEKLY = "weekly"


_DAYS_PER_PERIOD = {Frequency.FOUR_WEEKLY: 28, Frequency.FORTNIGHTLY: 14, Frequency.WEEKLY: 7}


@dataclass(frozen=True, slots=True)
class PlannedInstalment:
    number: int
    due: date
    amount: Cents


@dataclass(frozen=True)
class Plan:
    """A schedule whose amounts always add up to ``total``."""

    total: Cents
    start: date
    frequency: Frequency
    instalments: tuple[PlannedInstalment, ...]

    @property
    def down_payment(self) -> Cents:
        first = self.instalments[0]
        return first.amount if first.number == 0 else 0

    @property
    def regular(self) -> tuple[PlannedInstalment, ...]:
        """The instalments without the down payment."""
        return self.instalments[1:] if self.instalments[0].number == 0 else self.instalments

    @property
    def count(self) -> int:
        return len(self.instalments)

    @property
    def end(self) -> date:
        return self.instalments[-1].due


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, clipped to the end of a shorter month."""
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    day = start.day
    if day > 28:
        day = min(day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def due_date(start: date, frequency: Frequency, periods: int) -> date:
    """The date ``periods`` periods after ``start``, always counted from ``start``."""
    if frequency is Frequency.MONTHLY:
        return add_months(start, periods)
    return start + timedelta(days=_DAYS_PER_PERIOD[frequency] * periods)


def plan_by_count(
    total: Cents,
    count: int,
    start: date,
    frequency: Frequency = Frequency.MONTHLY,
    *,
    down_payment: Cents = 0,
) -> Plan:
    """``count`` regular instalments (besides any down payment); the last absorbs rounding."""
    rest = _rest_after_down_payment(total, down_payment)
    if count < 1:
        raise ValidationError("The number of instalments must be at least 1.", "instalments")
    _guard_count(count)
    if count > rest:
        raise ValidationError(
            "{count} instalments is more than the amount in cents; choose fewer.",
            "instalments",
            count=count,
        )
    equal = rest // count
    amounts = [equal] * (count - 1) + [rest - equal * (count - 1)]
    return _build(total, start, frequency, down_payment, amounts)


def plan_by_amount(
    total: Cents,
    per_instalment: Cents,
    start: date,
    frequency: Frequency = Frequency.MONTHLY,
    *,
    down_payment: Cents = 0,
) -> Plan:
    """Instalments of ``per_instalment``; the last is the smaller remainder."""
    rest = _rest_after_down_payment(total, down_payment)
    if per_instalment <= 0:
        raise ValidationError("The amount per instalment must be more than zero.", "per_instalment")
    full, remainder = divmod(rest, per_instalment)
    _guard_count(full + (1 if remainder else 0))
    amounts = [per_instalment] * full + ([remainder] if remainder else [])
    return _build(total, start, frequency, down_payment, amounts)


def plan_by_capacity(
    total: Cents,
    capacity: Cents,
    start: date,
    frequency: Frequency = Frequency.MONTHLY,
    *,
    down_payment: Cents = 0,
) -> Plan:
    """The fewest even instalments, none above ``capacity`` (what is left per period).

    The down payment is a one-off and is not compared with the capacity.
    """
    rest = _rest_after_down_payment(total, down_payment)
    if capacity <= 0:
        raise ValidationError(
            "The capacity to pay must be more than zero; without it, refer the customer to "
            "debt help instead of planning.",
            "capacity",
        )
    count = -(-rest // capacity)
    _guard_count(count)
    equal = -(-rest // count)  # rounded up: never above capacity, last is the remainder
    amounts = [equal] * (count - 1) + [rest - equal * (count - 1)]
    return _build(total, start, frequency, down_payment, amounts)


def _rest_after_down_payment(total: Cents, down_payment: Cents) -> Cents:
    if total <= 0:
        raise ValidationError("The amount must be more than zero.", "amount")
    if down_payment < 0:
        raise ValidationError("The down payment cannot be negative.", "down_payment")
    if down_payment >= total:
        raise ValidationError(
            "The down payment must be less than the amount; for the whole amount at once, "
            "record a payment instead of a plan.",
            "down_payment",
        )
    return total - down_payment


def _guard_count(count: int) -> None:
    if count > MAX_INSTALMENTS_ANY_PLAN:
        raise ValidationError(
            "That makes {count} instalments, more than any plan may have ({most}); choose a "
            "larger instalment.",
            "instalments",
            count=count,
            most=MAX_INSTALMENTS_ANY_PLAN,
        )


def _build(
    total: Cents, start: date, frequency: Frequency, down_payment: Cents, amounts: list[Cents]
) -> Plan:
    offset = 1 if down_payment else 0
    instalments = [PlannedInstalment(0, start, down_payment)] if down_payment else []
    instalments.extend(
        PlannedInstalment(number, due_date(start, frequency, number - 1 + offset), amount)
        for number, amount in enumerate(amounts, start=1)
    )
    return Plan(total=total, start=start, frequency=frequency, instalments=tuple(instalments))
