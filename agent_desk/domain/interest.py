"""Statutory interest for consumer transactions (art. 6:119 BW) from a dated rate table.

Convention (state it in letters if asked):

* Days are counted from ``start`` (inclusive) to ``end`` (exclusive): 1 Jan to 1 Apr
  2025 is 90 days. A day's interest is ``base * yearly rate / 365``, also in leap years.
* Simple interest within a year; at each full year since ``start`` (the anniversary,
  clipped to 28 Feb for a 29 Feb start) the interest of that year is added to the base
  (art. 6:119 lid 2 BW).
* The period is split at every rate change and every anniversary. Each part's interest
  is rounded to cents half-up; the total is the sum of the parts, so what is shown
  adds up. Example: 300.00 at 6% for 90 days = 4.44.

Rates are data (``resources/rates/statutory_interest_consumer.toml``), never literals.
An agent may waive the interest; the result keeps the amount waived for the record.
"""

from __future__ import annotations

import bisect
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from agent_desk.domain.arrangements import add_months
from agent_desk.domain.fees import round_half_up
from agent_desk.domain.money import Cents
from agent_desk.errors import ValidationError

DAYS_PER_YEAR = 365  # day-count convention, not a legal figure: see module docstring


@dataclass(frozen=True)
class InterestRate:
    effective_from: date
    rate: Decimal  # a fraction: 0.06 is 6% a year
    source: str = ""  # where the rate was checked (e.g. the Staatscourant number)
    recorded_by: str = ""  # the login who recorded it in the team's table
    recorded_at: str = ""  # ISO timestamp (UTC) of that


@dataclass(frozen=True)
class RateTable:
    rates: tuple[InterestRate, ...]  # sorted by effective_from
    #: The last day whose rate is confirmed; interest for a later day is still
    #: computed (on the last known rate) but provisional. ``None``: all confirmed.
    confirmed_until: date | None = None

    def provisional_from(self, start: date, end: date) -> date | None:
        """The first day of ``start``..``end`` (end exclusive) past ``confirmed_until``,
        or ``None`` when the whole period is confirmed."""
        if self.confirmed_until is None or end <= start:
            return None
        first_unconfirmed = self.confirmed_until + timedelta(days=1)
        if end <= first_unconfirmed:
            return None
        return max(start, first_unconfirmed)

    def rate_on(self, on: date) -> InterestRate:
        index = bisect.bisect_right([r.effective_from for r in self.rates], on) - 1
        if index < 0:
            raise ValidationError(
                "No statutory interest rate is known for {on}.", "from", on=on.isoformat()
            )
        return self.rates[index]

    def next_change_after(self, on: date) -> date | None:
        for r in self.rates:
            if r.effective_from > on:
                return r.effective_from
        return None


@dataclass(frozen=True, slots=True)
class InterestPeriod:
    start: date
    end: date  # exclusive
    days: int
    rate: Decimal
    base: Cents  # principal plus interest added at earlier anniversaries
    interest: Cents


@dataclass(frozen=True)
class InterestResult:
    principal: Cents
    periods: tuple[InterestPeriod, ...]
    waived: bool = False

    @property
    def interest(self) -> Cents:
        """What accrued, whether or not it is waived."""
        return sum(p.interest for p in self.periods)

    @property
    def charged_interest(self) -> Cents:
        return 0 if self.waived else self.interest

    @property
    def total(self) -> Cents:
        return self.principal + self.charged_interest


def statutory_interest(
    principal: Cents, start: date, end: date, table: RateTable, *, waive: bool = False
) -> InterestResult:
    if principal <= 0:
        raise ValidationError("The principal must be more than zero.", "principal")
    if end < start:
        raise ValidationError("The end date must not be before the start date.", "to")
    periods = accrue(
        principal=principal,
        capitalised=0,
        pending=0,
        since=start,
        start=start,
        end=end,
        table=table,
    )
    return InterestResult(principal=principal, periods=tuple(periods), waived=waive)


def accrue(
    *,
    principal: Cents,
    capitalised: Cents,
    pending: Cents,
    since: date,
    start: date,
    end: date,
    table: RateTable,
) -> list[InterestPeriod]:
    """Interest from ``start`` up to (not including) ``end`` on a claim whose interest
    runs since ``since``: simple within a year; at each anniversary of ``since`` the
    unpaid interest of the year before (``pending``, plus what accrues here) joins the
    base (``principal`` plus ``capitalised``). Split at anniversaries and rate changes,
    each part rounded half-up to cents."""
    if end <= start or principal <= 0:
        return []
    start = max(start, since)
    periods: list[InterestPeriod] = []
    base = principal + capitalised
    years = years_between(since, start)
    cursor = start
    while cursor < end:
        anniversary = add_months(since, 12 * (years + 1))
        change = table.next_change_after(cursor)
        stop = min(end, anniversary, change or end)
        rate = table.rate_on(cursor).rate
        days = (stop - cursor).days
        interest = round_half_up(Decimal(base) * rate * days / DAYS_PER_YEAR)
        periods.append(InterestPeriod(cursor, stop, days, rate, base, interest))
        pending += interest
        cursor = stop
        if stop == anniversary:
            base += pending
            pending = 0
            years += 1
    return periods


def years_between(since: date, on: date) -> int:
    """Full years from ``since`` to ``on`` (anniversaries on or before ``on``)."""
    years = max(0, on.year - since.year)
    while years and add_months(since, 12 * years) > on:
        years -= 1
    return years


_RATE_KEYS = frozenset({"effective_from", "rate", "source", "recorded_by", "recorded_at"})


def parse_rate_table(text: str) -> RateTable:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(
            "The interest table is not valid TOML: {error}.", error=error
        ) from None
    unknown = sorted(data.keys() - {"rate", "confirmed_until"})
    if unknown:
        raise ValidationError(
            "The interest table has an unknown setting '{name}'.", unknown[0], name=unknown[0]
        )
    confirmed = data.get("confirmed_until")
    if confirmed is not None and (
        isinstance(confirmed, datetime) or not isinstance(confirmed, date)
    ):
        raise ValidationError("confirmed_until must be a date, like 2025-06-30.", "confirmed_until")
    rates = []
    raw_rates = data.get("rate", [])
    if not isinstance(raw_rates, list):
        raise ValidationError("Each rate must be a [[rate]] table.", "rate")
    for raw in raw_rates:
        extra = sorted(raw.keys() - _RATE_KEYS)
        if extra:
            raise ValidationError(
                "A [[rate]] has an unknown setting '{name}'.", extra[0], name=extra[0]
            )
        when = raw.get("effective_from")
        if not isinstance(when, date) or isinstance(when, datetime):
            raise ValidationError("Each [[rate]] needs an effective_from date.", "effective_from")
        notes = {}
        for name in ("source", "recorded_by", "recorded_at"):
            value = raw.get(name, "")
            if isinstance(value, datetime):
                value = value.isoformat()
            if not isinstance(value, str):
                raise ValidationError(
                    "The {name} of a [[rate]] must be text in quotes.", name, name=name
                )
            notes[name] = value
        rates.append(InterestRate(when, _rate(raw.get("rate")), **notes))
    if not rates:
        raise ValidationError("The interest table needs at least one [[rate]].")
    rates.sort(key=lambda r: r.effective_from)
    if len({r.effective_from for r in rates}) != len(rates):
        raise ValidationError("The interest table has two rates with the same date.")
    if confirmed is not None and confirmed < rates[0].effective_from:
        raise ValidationError(
            "confirmed_until lies before the first rate of the table.", "confirmed_until"
        )
    return RateTable(tuple(rates), confirmed)


def rate_table_text(table: RateTable, header: str = "") -> str:
    """The table as TOML that :func:`parse_rate_table` reads back the same."""
    lines = [header.rstrip("\n"), ""] if header.strip() else []
    if table.confirmed_until is not None:
        lines += [
            "# The last day whose rate is confirmed; interest after it is provisional.",
            f"confirmed_until = {table.confirmed_until.isoformat()}",
            "",
        ]
    for r in table.rates:
        lines += ["[[rate]]", f"effective_from = {r.effective_from.isoformat()}"]
        lines.append(f'rate = "{r.rate}"')
        for name in ("source", "recorded_by", "recorded_at"):
            value = getattr(r, name)
            if value:
                lines.append(f"{name} = {_quoted(value)}")
        lines.append("")
    return "\n".join(lines)


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def with_rate(
    table: RateTable,
    rate: InterestRate,
    *,
    confirmed_until: date | None = None,
) -> RateTable:
    """``table`` with ``rate`` added (or replacing the one of the same date)."""
    rates = [r for r in table.rates if r.effective_from != rate.effective_from]
    rates.append(rate)
    rates.sort(key=lambda r: r.effective_from)
    confirmed = confirmed_until if confirmed_until is not None else table.confirmed_until
    return RateTable(tuple(rates), confirmed)


def load_rate_table() -> RateTable:
    from agent_desk import resources

    return parse_rate_table(resources.read_text("rates", "statutory_interest_consumer.toml"))


def _rate(value: object) -> Decimal:
    try:
        rate = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        rate = None
    if rate is None or not 0 <= rate < 1:
        raise ValidationError('Each rate must be a fraction in quotes, like "0.06".', "rate")
    return rate
