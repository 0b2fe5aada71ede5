"""The rules of the books, as pure functions: when what is owed, and where money goes.

* **Default** (verzuim) on a claim starts the day *after* its due date; statutory
  interest (art. 6:119 BW) runs from that day. A claim due today is not in default.
* **The 14-day letter** (art. 6:96 lid 6 BW) names the claims in default and the
  costs that become owed if they stay unpaid. Its term runs from the day after the
  customer received it (:func:`received_on`, a convention kept as data in
  ``resources/policy/books.toml``); costs become owed the day after the term ends,
  only over what the letter named and is still unpaid then (:func:`costs_owed`).
* **A payment** (art. 6:43/6:44 BW) goes to the claim the payer names, else to the
  claims in default before the others, oldest first (:func:`payment_order`); within a
  claim to costs, then interest, then principal. What is left is credit.

Amounts are integer cents. Nothing here reads a database or a clock.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from agent_desk.domain.allocation import Allocation, allocate
from agent_desk.domain.allocation import Claim as Owed
from agent_desk.domain.arrangements import add_months
from agent_desk.domain.fees import FeeTable, collection_costs
from agent_desk.domain.interest import InterestPeriod, RateTable, accrue, years_between
from agent_desk.domain.money import Cents
from agent_desk.errors import ValidationError


class Part(StrEnum):
    """Which balance an entry moves."""

    PRINCIPAL = "principal"
    COSTS = "costs"
    INTEREST = "interest"
    CREDIT = "credit"  # on the customer, not on a claim


class EntryKind(StrEnum):
    PRINCIPAL = "principal"  # invoiced by the billing system
    CORRECTION = "correction"  # the billing system changed the invoiced amount
    COSTS = "costs"  # a 14-day letter's term ran out unpaid
    INTEREST = "interest"  # statutory interest accrued
    PAYMENT = "payment"  # a payment allocated to this part (negative)
    WAIVER = "waiver"  # costs or interest let go, e.g. in an arrangement (negative)
    CREDIT = "credit"  # a surplus kept (positive) or used on a later claim (negative)


class Channel(StrEnum):
    POST = "post"
    EMAIL = "email"


@dataclass(frozen=True)
class BooksPolicy:
    post_receipt_working_days: int
    email_receipt_days: int
    fourteen_day_term_days: int
    promise_grace_days: int


def books_policy_from_mapping(data: Mapping[str, Any]) -> BooksPolicy:
    values: dict[str, int] = {}
    for name in BooksPolicy.__dataclass_fields__:
        raw = data.get(name)
        if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= 60:
            raise ValidationError(
                "The books policy needs {name} as a whole number of days from 0 to 60.",
                name,
                name=name,
            )
        values[name] = raw
    if values["fourteen_day_term_days"] < 14:
        raise ValidationError(
            "The 14-day letter must give at least 14 days (art. 6:96 lid 6 BW).",
            "fourteen_day_term_days",
        )
    return BooksPolicy(**values)


def load_books_policy() -> BooksPolicy:
    from agent_desk import resources

    try:
        data = tomllib.loads(resources.read_text("policy", "books.toml"))
    except tomllib.TOMLDecodeError as error:
        raise ValidationError("The books policy is not valid TOML: {error}.", error=error) from None
    return books_policy_from_mapping(data)


# ----------------------------------------------------------------------- default


def in_default_since(due: date) -> date:
    """The first day of default, and of statutory interest: the day after the due date."""
    return due + timedelta(days=1)


def in_default(due: date, on: date) -> bool:
    return on >= in_default_since(due)


# ------------------------------------------------------------------ 14-day letter


def received_on(sent_on: date, channel: Channel, policy: BooksPolicy) -> date:
    """When a letter counts as received, by the documented convention."""
    if channel is Channel.EMAIL:
        return sent_on + timedelta(days=policy.email_receipt_days)
    day, left = sent_on, policy.post_receipt_working_days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def term_ends(sent_on: date, channel: Channel, policy: BooksPolicy) -> date:
    """The last day the customer may pay without costs."""
    return received_on(sent_on, channel, policy) + timedelta(days=policy.fourteen_day_term_days)


def costs_chargeable_from(sent_on: date, channel: Channel, policy: BooksPolicy) -> date:
    return term_ends(sent_on, channel, policy) + timedelta(days=1)


@dataclass(frozen=True)
class NamedClaim:
    """A claim a 14-day letter names: what it named, and what of that is unpaid now."""

    claim_id: int
    named: Cents
    unpaid: Cents


@dataclass(frozen=True)
class CostsOwed:
    costs: Cents  # incl. VAT when the creditor adds it
    vat: Cents
    per_claim: tuple[tuple[int, Cents], ...]  # (claim id, costs booked on it)


def letter_costs(
    principals: Sequence[Cents], table: FeeTable, on: date, *, add_vat: bool
) -> CostsOwed:
    """The costs a 14-day letter must name for these claims (BIK over their sum)."""
    amounts = [p for p in principals if p > 0]
    if not amounts:
        return CostsOwed(0, 0, ())
    breakdown = collection_costs(amounts, table, on, add_vat=add_vat)
    return CostsOwed(breakdown.costs + breakdown.vat, breakdown.vat, ())


def costs_owed(
    claims: Sequence[NamedClaim], table: FeeTable, sent_on: date, *, add_vat: bool
) -> CostsOwed:
    """Costs owed when the term ran out: BIK over the unpaid rest of what was named.

    Never more than the letter named (the scale in force when it was sent applies),
    spread over the claims in proportion to what is unpaid on each.
    """
    rests = [(c.claim_id, min(c.unpaid, c.named)) for c in claims if min(c.unpaid, c.named) > 0]
    if not rests:
        return CostsOwed(0, 0, ())
    breakdown = collection_costs([r for _, r in rests], table, sent_on, add_vat=add_vat)
    total = breakdown.costs + breakdown.vat
    shares = spread(total, [r for _, r in rests])
    return CostsOwed(
        total, breakdown.vat, tuple((cid, s) for (cid, _), s in zip(rests, shares, strict=True))
    )


def spread(amount: Cents, weights: Sequence[Cents]) -> list[Cents]:
    """``amount`` in proportion to ``weights``, rounded down; the rest on the first."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        return [amount] + [0] * (len(weights) - 1)
    shares = [amount * w // whole for w in weights]
    shares[0] += amount - sum(shares)
    return shares


# ---------------------------------------------------------------------- interest


def accrue_interest(
    *,
    principal: Cents,
    capitalised: Cents,
    pending: Cents,
    default_since: date,
    start: date,
    end: date,
    table: RateTable,
) -> list[InterestPeriod]:
    """Statutory interest on a claim from ``start`` up to (not including) ``end``.

    ``principal`` is the outstanding principal over the whole period (the books
    book interest at every change of principal, so it is constant in between).
    At each anniversary of ``default_since`` the unpaid interest of the year before
    joins the base (art. 6:119 lid 2 BW): ``capitalised`` is unpaid interest already
    added, ``pending`` unpaid interest of the running year. The arithmetic is the
    statutory calculation's own (:func:`agent_desk.domain.interest.accrue`).
    """
    return accrue(
        principal=principal,
        capitalised=capitalised,
        pending=pending,
        since=default_since,
        start=start,
        end=end,
        table=table,
    )


def last_anniversary(default_since: date, on: date) -> date:
    """The latest anniversary of ``default_since`` on or before ``on`` (or itself)."""
    return add_months(default_since, 12 * years_between(default_since, on))


# ---------------------------------------------------------------------- payments


@dataclass(frozen=True)
class ClaimBalance:
    """What is open on one claim, by part (never negative)."""

    claim_id: int
    due_date: date
    principal: Cents
    costs: Cents
    interest: Cents

    @property
    def outstanding(self) -> Cents:
        return self.principal + self.costs + self.interest


@dataclass(frozen=True)
class PaymentSplit:
    allocations: tuple[tuple[int, Allocation], ...]  # (claim id, split) with money on it
    credit: Cents  # left after every claim: kept as credit


def payment_order(
    claims: Sequence[ClaimBalance], on: date, named_claim_id: int | None = None
) -> list[ClaimBalance]:
    """The order a payment pays claims in (art. 6:43 BW).

    The claim the payer named first; then claims in default before claims not yet
    due (a due claim is the more burdensome), oldest due date first.
    """

    def key(c: ClaimBalance) -> tuple[int, int, date, int]:
        return (
            c.claim_id != named_claim_id,
            not in_default(c.due_date, on),
            c.due_date,
            c.claim_id,
        )

    return sorted((c for c in claims if c.outstanding > 0), key=key)


def split_payment(
    amount: Cents, claims: Sequence[ClaimBalance], on: date, named_claim_id: int | None = None
) -> PaymentSplit:
    """Where a payment goes: claims by :func:`payment_order`, each costs -> interest ->
    principal (art. 6:44 BW); the rest is credit."""
    if amount <= 0:
        raise ValidationError("A payment must be more than zero.", "amount")
    left = amount
    out: list[tuple[int, Allocation]] = []
    for claim in payment_order(claims, on, named_claim_id):
        if left == 0:
            break
        owed = Owed(costs=claim.costs, interest=claim.interest, principal=claim.principal)
        split = allocate(left, owed)
        taken = split.total - split.surplus
        out.append((claim.claim_id, Allocation(split.costs, split.interest, split.principal, 0)))
        left -= taken
    return PaymentSplit(tuple(out), left)
