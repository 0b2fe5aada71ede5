"""What the arrangement calculator (F4) tells the agent, decided here, not in the widget.

``domain.arrangement_plan`` makes the plan and its charges; this module decides what
is said about them, so the dialog only reads inputs, calls these functions and shows
the result:

* **Whether a new plan may be made at all** (:func:`blocking_arrangement`): not while
  another one runs or waits for a supervisor.
* **What the calculator starts with** (:func:`prefill`): the income and expenses (or
  the capacity) the call script heard, and then it plans by what the customer can pay.
* **What is said about the figures from the books** (:func:`owed_notes`): why there
  are collection costs or none, since when interest runs and whether it is provisional,
  what may be waived, what is owed later and not in this plan.
* **What is said about the plan** (:func:`plan_summary`): the headline (one instalment,
  equal instalments, a smaller last one, a down payment first), the dates, each charge
  as an amount, waived or none, whether it fits what the customer can pay, whether it
  is within policy (and so what the agree button says).
* **What is agreed** (:func:`agreement`): the terms, the figures and the plan, with the
  agent's reason kept only for a plan that needs a supervisor's approval.

Sentences are :class:`~agent_desk.domain.arrangement_plan.Message` ids with their values
(amounts as ``Money``, dates as ``date``, words to translate as ``Word``), so the desk
says them in its language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent_desk.domain.arrangement_plan import (
    Message,
    Mode,
    Money,
    Owed,
    PlanResult,
    Terms,
    Word,
)
from agent_desk.domain.arrangements import Frequency, Plan
from agent_desk.domain.money import Cents, cents_to_decimal
from agent_desk.i18n import N_

__all__ = [
    "FREQUENCY_WORDS",
    "PER_PERIOD",
    "RUNNING_STATUSES",
    "Agreement",
    "Charged",
    "OwedNotes",
    "PlanSummary",
    "Prefill",
    "Tone",
    "Verdict",
    "agreement",
    "blocking_arrangement",
    "capacity_line",
    "field_messages",
    "fit",
    "headline",
    "owed_notes",
    "plan_summary",
    "prefill",
    "typed_amount",
]

#: How often a plan can be paid, as the calculator and the approvals screen say it.
FREQUENCY_WORDS: dict[Frequency, str] = {
    Frequency.MONTHLY: N_("monthly"),
    Frequency.FOUR_WEEKLY: N_("every four weeks"),
    Frequency.FORTNIGHTLY: N_("every two weeks"),
    Frequency.WEEKLY: N_("weekly"),
}
#: What the customer can pay per period of the plan.
PER_PERIOD: dict[Frequency, str] = {
    Frequency.MONTHLY: N_("{amount} a month"),
    Frequency.FOUR_WEEKLY: N_("{amount} per four weeks"),
    Frequency.FORTNIGHTLY: N_("{amount} per two weeks"),
    Frequency.WEEKLY: N_("{amount} a week"),
}
#: Arrangement statuses that keep a new arrangement from being agreed.
RUNNING_STATUSES = frozenset({"active", "pending_approval"})


def _say(message_id: str, /, **values: Any) -> Message:
    return Message(message_id, values)


# ------------------------------------------------------------------------- before a plan


def blocking_arrangement(statuses: Iterable[str]) -> Message | None:
    """Why no new arrangement can be agreed, given the customer's arrangements' statuses."""
    if any(status in RUNNING_STATUSES for status in statuses):
        return _say(
            N_(
                "This customer already has an arrangement running or waiting for "
                "approval; it must end or be declined before a new one is agreed."
            )
        )
    return None


def typed_amount(cents: Cents, lang: str) -> str:
    """An amount as the agent would type it: ``1000,00`` in Dutch, ``1000.00`` in English."""
    text = str(cents_to_decimal(cents))
    return text.replace(".", ",") if lang == "nl" else text


@dataclass(frozen=True)
class Prefill:
    """What the calculator starts with: the budget the call heard, and how to plan."""

    mode: Mode = Mode.COUNT
    income: Cents | None = None
    expenses: Cents | None = None


def _cents(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def prefill(context: Mapping[str, Any]) -> Prefill:
    """The script's answers (``income_cents``, ``expenses_cents`` or ``capacity_cents``).

    An income above zero is used with its expenses (when they are zero or more); else a
    capacity above zero is used as the income with no expenses. With a budget the plan
    is made by what the customer can pay; without one, by the number of instalments.
    """
    income, expenses = _cents(context.get("income_cents")), _cents(context.get("expenses_cents"))
    capacity = _cents(context.get("capacity_cents"))
    if income is not None and income > 0:
        return Prefill(
            Mode.CAPACITY, income, expenses if expenses is not None and expenses >= 0 else None
        )
    if capacity is not None and capacity > 0:
        return Prefill(Mode.CAPACITY, capacity, 0)
    return Prefill()


# ------------------------------------------------------------------------ the figures


@dataclass(frozen=True)
class OwedNotes:
    """What is said beside the figures from the books, and what may be waived."""

    costs: Money | None  # None: no collection costs ("none")
    costs_note: Message
    waive_costs: Message  # the waiver's label
    can_waive_costs: bool
    interest: Money
    interest_notes: tuple[Message, ...]  # shown joined by " · "
    interest_tooltip: Message | None  # the interest is provisional: why
    waive_interest: Message
    can_waive_interest: bool
    later: Message | None  # owed on claims not yet due: not in this plan


def owed_notes(owed: Owed) -> OwedNotes:
    """Costs exist only after a 14-day letter ran out; what is zero cannot be waived."""
    if owed.costs:
        costs: Money | None = Money(owed.costs)
        costs_note = _say(N_("after an unpaid 14-day letter"))
        waive_costs = _say(N_("Waive {amount} collection costs (BIK)"), amount=Money(owed.costs))
    else:
        costs = None
        costs_note = _say(N_("no 14-day letter has run out"))
        waive_costs = _say(N_("No collection costs"))
    notes: list[Message] = []
    if owed.interest and owed.interest_since is not None:
        notes.append(_say(N_("since {date}"), date=owed.interest_since))
        waive_interest = _say(
            N_("Waive {amount} statutory interest since {date}"),
            amount=Money(owed.interest),
            date=owed.interest_since,
        )
    elif owed.interest:
        waive_interest = _say(N_("Waive {amount} statutory interest"), amount=Money(owed.interest))
    else:
        waive_interest = _say(N_("No statutory interest"))
    provisional = owed.interest_provisional_from if owed.interest else None
    tooltip = None
    if provisional is not None:
        tooltip = _say(
            N_(
                "The statutory rate from {date} is not confirmed yet: this interest is "
                "provisional and may change."
            ),
            date=provisional,
        )
        notes.append(_say(N_("provisional from {date}"), date=provisional))
    later = (
        _say(N_("Not in this plan: {amount} on claims not yet due."), amount=Money(owed.later))
        if owed.later > 0
        else None
    )
    return OwedNotes(
        costs=costs,
        costs_note=costs_note,
        waive_costs=waive_costs,
        can_waive_costs=owed.costs > 0,
        interest=Money(owed.interest),
        interest_notes=tuple(notes),
        interest_tooltip=tooltip,
        waive_interest=waive_interest,
        can_waive_interest=owed.interest > 0,
        later=later,
    )


def capacity_line(result: PlanResult | None) -> tuple[Message, ...]:
    """What the customer can pay a month, and per period when the plan is not monthly."""
    if result is None or result.capacity_month is None:
        return ()
    lines = [_say(N_("Can pay {amount} a month"), amount=Money(result.capacity_month))]
    frequency = result.terms.frequency if result.terms is not None else Frequency.MONTHLY
    if frequency is not Frequency.MONTHLY and result.capacity_period is not None:
        lines.append(_say(PER_PERIOD[frequency], amount=Money(result.capacity_period)))
    return tuple(lines)


def field_messages(result: PlanResult | None, field_name: str) -> list[Message]:
    """What is said beside an input: what blocks the plan first, then policy breaches."""
    if result is None:
        return []
    return result.errors.get(field_name, []) + result.breaches.get(field_name, [])


# ---------------------------------------------------------------------------- the plan


class Tone(StrEnum):
    OK = "ok"
    WARN = "warn"
    BAD = "bad"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    tone: Tone
    message: Message


class Charged(StrEnum):
    """How a charge stands in the plan."""

    AMOUNT = "amount"
    WAIVED = "waived"
    NONE = "none"


@dataclass(frozen=True)
class PlanSummary:
    """What the plan panel says about a plan."""

    headline: Message
    dates: Message
    principal: Money
    costs: tuple[Charged, Money]
    interest: tuple[Charged, Money]
    total: Money
    fit: Verdict
    policy: Verdict
    agree: Message  # what the agree button says


def _charged(amount: Cents, waived: Cents) -> tuple[Charged, Money]:
    if waived:
        return Charged.WAIVED, Money(waived)
    return (Charged.AMOUNT if amount else Charged.NONE), Money(amount)


def headline(plan: Plan) -> Message:
    """``6 instalments of €50,00``, ``…, the last €20,00``, after ``€100,00 down``."""
    regular = plan.regular
    if len(regular) == 1:
        text = _say(N_("1 instalment of {amount}"), amount=Money(regular[0].amount))
    elif regular[-1].amount == regular[0].amount:
        text = _say(
            N_("{count} instalments of {amount}"),
            count=len(regular),
            amount=Money(regular[0].amount),
        )
    else:
        text = _say(
            N_("{count} instalments of {amount}, the last {last}"),
            count=len(regular),
            amount=Money(regular[0].amount),
            last=Money(regular[-1].amount),
        )
    if plan.down_payment:
        return _say(N_("{down} down, then {rest}"), down=Money(plan.down_payment), rest=text)
    return text


def fit(result: PlanResult) -> Verdict:
    """Whether the plan fits what the customer can pay (unknown without a budget)."""
    if result.capacity_period is None:
        return Verdict(Tone.UNKNOWN, _say(N_("Capacity not known: ask about income and expenses.")))
    if result.above_capacity > 0:
        return Verdict(
            Tone.BAD,
            _say(
                N_("⚠ {amount} above what the customer can pay"),
                amount=Money(result.above_capacity),
            ),
        )
    return Verdict(Tone.OK, _say(N_("✓ Fits the customer's capacity")))


def plan_summary(result: PlanResult) -> PlanSummary | None:
    """What is said about the plan; None when there is none (see the inputs' messages)."""
    plan = result.plan
    if plan is None:
        return None
    charged = result.charges
    if result.needs_approval:
        policy = Verdict(Tone.WARN, _say(N_("⚠ Outside policy: a supervisor must approve")))
        agree = _say(N_("Ask supervisor approval"))
    else:
        policy = Verdict(Tone.OK, _say(N_("✓ Within policy")))
        agree = _say(N_("Agree arrangement"))
    return PlanSummary(
        headline=headline(plan),
        dates=_say(
            N_("{frequency}, from {first} until {end}"),
            frequency=Word(FREQUENCY_WORDS[plan.frequency]),
            first=plan.instalments[0].due,
            end=plan.end,
        ),
        principal=Money(charged.principal),
        costs=_charged(charged.costs, charged.costs_waived),
        interest=_charged(charged.interest, charged.interest_waived),
        total=Money(plan.total),
        fit=fit(result),
        policy=policy,
        agree=agree,
    )


# ----------------------------------------------------------------------------- agreeing


@dataclass(frozen=True)
class Agreement:
    """What the desk asks the service to agree, and the figures it showed."""

    terms: Terms
    owed: Owed
    plan: Plan
    approval_reason: str | None
    needs_approval: bool


def agreement(result: PlanResult, reason: str) -> Agreement | tuple[str, Message]:
    """The agreement for ``result`` with the agent's ``reason``, or why not (input, message).

    The reason is kept only for a plan that needs a supervisor's approval.
    """
    refusal = result.refusal(reason)
    if refusal is not None:
        return refusal
    assert result.plan is not None and result.terms is not None  # no refusal: a plan
    text = reason.strip()
    return Agreement(
        terms=result.terms,
        owed=result.owed,
        plan=result.plan,
        approval_reason=text if result.needs_approval else None,
        needs_approval=result.needs_approval,
    )
