"""Extrajudicial collection costs (BIK scale) and the VAT on them.

The scale, its minimum and maximum and the VAT rate are dated data in
``resources/rates/bik.toml``; this module only applies them. Several claims of one
debtor are summed before the scale is applied (the law says so). The costs are
computed exactly and rounded to cents half-up once, after the minimum and maximum.
No other fee (administration, making an arrangement) may be charged, so there is none
here. An agent may waive the costs: the breakdown keeps what was waived so the caller
can record it, and leaves it out of the total.
"""

from __future__ import annotations

import bisect
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from agent_desk.domain.money import Cents, parse_amount
from agent_desk.errors import ValidationError

_T = TypeVar("_T")


@dataclass(frozen=True)
class BikBracket:
    """``rate`` applies to the next ``width`` cents of principal (``None``: all the rest)."""

    width: Cents | None
    rate: Decimal


@dataclass(frozen=True)
class BikScale:
    effective_from: date
    minimum: Cents
    maximum: Cents
    brackets: tuple[BikBracket, ...]


@dataclass(frozen=True)
class VatRate:
    effective_from: date
    rate: Decimal


@dataclass(frozen=True)
class FeeTable:
    """All dated BIK scales and VAT rates, each sorted by ``effective_from``."""

    scales: tuple[BikScale, ...]
    vat_rates: tuple[VatRate, ...]

    def scale_on(self, on: date) -> BikScale:
        return _in_force([s.effective_from for s in self.scales], self.scales, on, "BIK scale")

    def vat_on(self, on: date) -> VatRate:
        return _in_force([v.effective_from for v in self.vat_rates], self.vat_rates, on, "VAT rate")


@dataclass(frozen=True)
class CostBreakdown:
    """Principal plus collection costs and VAT; ``waive_costs`` keeps them out of the total."""

    principal: Cents
    costs: Cents
    vat: Cents
    waive_costs: bool = False

    @property
    def charged_costs(self) -> Cents:
        return 0 if self.waive_costs else self.costs

    @property
    def charged_vat(self) -> Cents:
        return 0 if self.waive_costs else self.vat

    @property
    def total(self) -> Cents:
        return self.principal + self.charged_costs + self.charged_vat


def bik_costs(principal: Cents, scale: BikScale) -> Cents:
    """Collection costs on one (already summed) principal, between minimum and maximum."""
    if principal < 0:
        raise ValidationError("The principal cannot be negative.", "principal")
    exact = Decimal(0)
    rest = principal
    for bracket in scale.brackets:
        part = rest if bracket.width is None else min(rest, bracket.width)
        exact += part * bracket.rate
        rest -= part
        if rest == 0:
            break
    clamped = min(max(exact, Decimal(scale.minimum)), Decimal(scale.maximum))
    return round_half_up(clamped)


def collection_costs(
    principals: Iterable[Cents],
    table: FeeTable,
    on: date,
    *,
    add_vat: bool = False,
    waive_costs: bool = False,
) -> CostBreakdown:
    """Costs for all claims of one debtor, summed first, by the scale in force ``on``.

    ``add_vat`` only when the creditor cannot deduct VAT (the letter must say so).
    """
    amounts = list(principals)
    if not amounts:
        raise ValidationError("Give at least one principal.", "principal")
    if any(a <= 0 for a in amounts):
        raise ValidationError("Each principal must be more than zero.", "principal")
    principal = sum(amounts)
    costs = bik_costs(principal, table.scale_on(on))
    vat = round_half_up(costs * table.vat_on(on).rate) if add_vat else 0
    return CostBreakdown(principal=principal, costs=costs, vat=vat, waive_costs=waive_costs)


def round_half_up(cents: Decimal) -> Cents:
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_fee_table(text: str) -> FeeTable:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError("The fee table is not valid TOML: {error}.", error=error) from None
    scales = [_scale(s) for s in data.get("scale", [])]
    vats = [VatRate(_date(v, "vat"), _rate(v.get("rate"), "vat.rate")) for v in data.get("vat", [])]
    if not scales or not vats:
        raise ValidationError("The fee table needs at least one [[scale]] and one [[vat]].")
    return FeeTable(
        scales=tuple(sorted(scales, key=lambda s: s.effective_from)),
        vat_rates=tuple(sorted(vats, key=lambda v: v.effective_from)),
    )


def load_fee_table() -> FeeTable:
    from agent_desk import resources

    return parse_fee_table(resources.read_text("rates", "bik.toml"))


def _scale(raw: Mapping[str, Any]) -> BikScale:
    brackets = []
    raw_brackets = raw.get("brackets", [])
    for index, b in enumerate(raw_brackets):
        width = b.get("width")
        last = index == len(raw_brackets) - 1
        if (width is None) != last:
            raise ValidationError("Only the last BIK bracket may (and must) have no width.")
        brackets.append(
            BikBracket(
                width=None if width is None else _cents(width, "scale.brackets.width"),
                rate=_rate(b.get("rate"), "scale.brackets.rate"),
            )
        )
    return BikScale(
        effective_from=_date(raw, "scale"),
        minimum=_cents(raw.get("minimum"), "scale.minimum"),
        maximum=_cents(raw.get("maximum"), "scale.maximum"),
        brackets=tuple(brackets),
    )


def _cents(value: object, key: str) -> Cents:
    if not isinstance(value, str):
        raise ValidationError("'{key}' must be an amount in quotes, like \"40.00\".", key, key=key)
    return parse_amount(value, field=key)


def _rate(value: object, key: str) -> Decimal:
    try:
        rate = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        rate = None
    if rate is None or not 0 <= rate < 1:
        raise ValidationError("'{key}' must be a fraction in quotes, like \"0.15\".", key, key=key)
    return rate


def _date(raw: Mapping[str, Any], table: str) -> date:
    value = raw.get("effective_from")
    if not isinstance(value, date):
        raise ValidationError(
            "Each [[{table}]] needs an effective_from date.", "effective_from", table=table
        )
    return value


def _in_force(starts: list[date], items: tuple[_T, ...], on: date, what: str) -> _T:
    index = bisect.bisect_right(starts, on) - 1
    if index < 0:
        raise ValidationError("No {what} is known for {on}.", "on", what=what, on=on.isoformat())
    return items[index]
