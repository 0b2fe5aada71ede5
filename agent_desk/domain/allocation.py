"""Where a payment goes, and what that means for an arrangement's instalments.

Two views of the same money, both pure functions over frozen data:

* **The claim** (art. 6:44 BW): a payment pays costs first, then interest, then
  principal. :func:`allocate` splits one payment that way.
* **The schedule**: payments fill instalments in due order, whatever the customer
  writes on the transfer. :func:`arrangement_state` gives each instalment's status on
  a date:

  - ``paid``: fully covered by payments received on or before that date;
  - ``missed``: still not fully paid more than ``policy.missed_after_days`` days after
    its due date (those days are grace);
  - ``due``: neither (not yet due, or due and still within the grace days).

  A missed instalment paid later becomes ``paid`` (``was_missed`` keeps the history).
  The arrangement is **broken** once, on some date up to ``on``,
  ``policy.missed_instalments_before_broken`` instalments were missed at the same time;
  catching up afterwards does not unbreak it, so a skipped nightly run changes nothing.
  It is **completed** when everything is paid, which wins over broken (the debt is
  settled). Payments beyond the total are ``surplus`` (to refund).

:func:`mark_missed` is the nightly run over many arrangements: it reports only those
whose recorded state must change. :func:`next_reminder` says when to remind the
customer of the next instalment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from agent_desk.domain.money import Cents
from agent_desk.domain.policy import ArrangementPolicy
from agent_desk.errors import ValidationError


class InstalmentStatus(StrEnum):
    PAID = "paid"
    DUE = "due"
    MISSED = "missed"


class ArrangementStatus(StrEnum):
    ACTIVE = "active"
    BROKEN = "broken"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Claim:
    """What is owed, by kind. Waived costs or interest are simply 0 here."""

    costs: Cents
    interest: Cents
    principal: Cents

    def __post_init__(self) -> None:
        if min(self.costs, self.interest, self.principal) < 0:
            raise ValidationError("A claim cannot have a negative part.", "claim")

    @property
    def total(self) -> Cents:
        return self.costs + self.interest + self.principal

    def after(self, allocation: Allocation) -> Claim:
        return Claim(
            costs=self.costs - allocation.costs,
            interest=self.interest - allocation.interest,
            principal=self.principal - allocation.principal,
        )


@dataclass(frozen=True)
class Allocation:
    """How one payment was split; ``surplus`` is what exceeded the whole claim."""

    costs: Cents
    interest: Cents
    principal: Cents
    surplus: Cents

    @property
    def total(self) -> Cents:
        return self.costs + self.interest + self.principal + self.surplus


def allocate(amount: Cents, outstanding: Claim) -> Allocation:
    """Split a payment costs -> interest -> principal (art. 6:44 BW)."""
    if amount <= 0:
        raise ValidationError("A payment must be more than zero.", "amount")
    to_costs = min(amount, outstanding.costs)
    rest = amount - to_costs
    to_interest = min(rest, outstanding.interest)
    rest -= to_interest
    to_principal = min(rest, outstanding.principal)
    return Allocation(to_costs, to_interest, to_principal, rest - to_principal)


def allocate_payments(amounts: Iterable[Cents], claim: Claim) -> tuple[list[Allocation], Claim]:
    """Allocate payments in the order received; returns each split and what is left."""
    splits = []
    for amount in amounts:
        split = allocate(amount, claim)
        claim = claim.after(split)
        splits.append(split)
    return splits, claim


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int
    due: date
    amount: Cents


@dataclass(frozen=True, slots=True)
class Payment:
    received: date
    amount: Cents


@dataclass(frozen=True, slots=True)
class InstalmentState:
    number: int
    due: date
    amount: Cents
    paid: Cents
    status: InstalmentStatus
    paid_on: date | None  # when it became fully paid
    was_missed: bool  # unpaid past its grace days at some point up to the evaluation date

    @property
    def outstanding(self) -> Cents:
        return self.amount - self.paid


@dataclass(frozen=True)
class ArrangementState:
    on: date
    instalments: tuple[InstalmentState, ...]
    status: ArrangementStatus
    paid: Cents  # counted towards the schedule (surplus excluded)
    surplus: Cents
    broken_on: date | None

    @property
    def total(self) -> Cents:
        return sum(i.amount for i in self.instalments)

    @property
    def outstanding(self) -> Cents:
        return self.total - self.paid

    @property
    def missed(self) -> tuple[int, ...]:
        return tuple(i.number for i in self.instalments if i.status is InstalmentStatus.MISSED)


def arrangement_state(
    instalments: Sequence[Instalment],
    payments: Iterable[Payment],
    on: date,
    policy: ArrangementPolicy,
) -> ArrangementState:
    """The status of every instalment and of the arrangement, as of ``on``."""
    if not instalments:
        raise ValidationError("An arrangement needs at least one instalment.", "instalments")
    ordered = sorted(instalments, key=lambda i: (i.due, i.number))
    received = sorted((p for p in payments if p.received <= on), key=lambda p: p.received)
    grace = timedelta(days=policy.missed_after_days + 1)  # first day it counts as missed

    states: list[InstalmentState] = []
    pay_index, left, paid_total = 0, 0, 0
    last_date: date | None = None
    for inst in ordered:
        paid = 0
        while paid < inst.amount:
            if left == 0:
                if pay_index == len(received):
                    break
                left = received[pay_index].amount
                last_date = received[pay_index].received
                pay_index += 1
            take = min(left, inst.amount - paid)
            paid += take
            left -= take
        paid_total += paid
        paid_on = last_date if paid == inst.amount else None
        missed_from = inst.due + grace
        was_missed = missed_from <= on and (paid_on is None or paid_on >= missed_from)
        if paid_on is not None:
            status = InstalmentStatus.PAID
        elif was_missed:
            status = InstalmentStatus.MISSED
        else:
            status = InstalmentStatus.DUE
        states.append(
            InstalmentState(inst.number, inst.due, inst.amount, paid, status, paid_on, was_missed)
        )

    surplus = left + sum(p.amount for p in received[pay_index:])
    broken_on = _broken_on(states, grace, on, policy.missed_instalments_before_broken)
    if all(s.status is InstalmentStatus.PAID for s in states):
        overall = ArrangementStatus.COMPLETED
    elif broken_on is not None:
        overall = ArrangementStatus.BROKEN
    else:
        overall = ArrangementStatus.ACTIVE
    return ArrangementState(on, tuple(states), overall, paid_total, surplus, broken_on)


def _broken_on(
    states: Sequence[InstalmentState], grace: timedelta, on: date, threshold: int
) -> date | None:
    """First date up to ``on`` when ``threshold`` instalments were missed at once.

    Payments fill instalments in due order, so ``paid_on`` never decreases along the
    list: the instalments missed on a date form one run ending at the newest one.
    """
    first_unpaid = 0
    for index, state in enumerate(states):
        missed_from = state.due + grace
        if missed_from > on:
            break
        while first_unpaid <= index and _paid_by(states[first_unpaid], missed_from):
            first_unpaid += 1
        if index - first_unpaid + 1 >= threshold:
            return missed_from
    return None


def _paid_by(state: InstalmentState, day: date) -> bool:
    return state.paid_on is not None and state.paid_on < day


@dataclass(frozen=True)
class Reminder:
    number: int
    due: date
    remind_on: date


def next_reminder(state: ArrangementState, policy: ArrangementPolicy) -> Reminder | None:
    """The reminder for the first instalment not yet paid nor missed, if any."""
    if state.status is not ArrangementStatus.ACTIVE:
        return None
    for inst in state.instalments:
        if inst.status is InstalmentStatus.DUE:
            remind_on = inst.due - timedelta(days=policy.reminder_days_before_due)
            return Reminder(inst.number, inst.due, remind_on)
    return None


@dataclass(frozen=True, slots=True)
class ArrangementRecord:
    """What the nightly run needs of one stored arrangement."""

    key: int | str
    instalments: tuple[Instalment, ...]
    payments: tuple[Payment, ...] = ()
    recorded_missed: frozenset[int] = frozenset()
    recorded_status: ArrangementStatus = ArrangementStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An arrangement whose recorded state must change; ``newly_missed`` put it on top."""

    key: int | str
    status: ArrangementStatus
    missed: tuple[int, ...]
    newly_missed: tuple[int, ...]
    status_changed: bool


def mark_missed(
    records: Iterable[ArrangementRecord], on: date, policy: ArrangementPolicy
) -> list[StatusChange]:
    """The nightly run: evaluate every arrangement on ``on``; report only changes."""
    changes = []
    for record in records:
        if record.recorded_status is ArrangementStatus.COMPLETED:
            continue
        state = arrangement_state(record.instalments, record.payments, on, policy)
        missed = state.missed
        newly = tuple(n for n in missed if n not in record.recorded_missed)
        changed = state.status is not record.recorded_status
        if changed or frozenset(missed) != record.recorded_missed:
            changes.append(StatusChange(record.key, state.status, missed, newly, changed))
    return changes
