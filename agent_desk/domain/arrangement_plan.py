"""A payment arrangement's plan and charges, from what the books say is owed.

The one place for the rules the calculator (F4), ``agent-desk plan`` and
``agent-desk arrange`` and ``services.arrangements.agree_arrangement`` share:

* **What a plan is for** is read from the books, never typed (:func:`owed_on`): the
  outstanding principal of the claims due on or before the day it is agreed (the
  claims an arrangement covers: the books stop their interest while it runs), the
  collection costs booked on them (owed only once a 14-day letter's term ran out
  unpaid: no letter, no costs) and the statutory interest up to that day. A claim
  that falls due later is not in the plan.
* **Charges** (:func:`charges`): costs and interest are added unless waived; the
  total is principal + charged costs + charged interest, and the instalments add up
  to it exactly.
* **The schedule** (:func:`compute_plan`): by number of instalments, by amount per
  instalment, or by what the customer can pay a month (income minus essential
  expenses), converted to the plan's period and rounded down; see
  ``domain.arrangements`` for the cents and the dates.
* **Policy**: a breach needs a supervisor's approval and a reason; a plan above what
  the customer can pay is never saved (:meth:`PlanResult.refusal`).

Messages are not sentences yet: each is an English message id with its values
(amounts as :class:`Money`, dates as ``date``), so the desk translates and formats
them in its language and the CLI prints them in English (:meth:`Message.text`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from agent_desk.domain.arrangements import (
    MAX_INSTALMENTS_ANY_PLAN,
    Frequency,
    Plan,
    add_months,
    plan_by_amount,
    plan_by_capacity,
    plan_by_count,
)
from agent_desk.domain.ledger import in_default_since
from agent_desk.domain.money import Cents, cents_to_str, parse_amount
from agent_desk.domain.policy import ArrangementPolicy, PlanCheck, check_plan
from agent_desk.errors import AgentDeskError, ValidationError, fill
from agent_desk.i18n import N_

MAX_REASON = 2000  # characters of the agent's reason for a plan outside policy
FIRST_DUE_AT_LEAST_DAYS = 7  # time to pay after the call, before the first instalment


class Mode(StrEnum):
    COUNT = "count"
    AMOUNT = "amount"
    CAPACITY = "capacity"


# The input a mode is planned with; breaches of the term or count are said there too,
# because that input is what the agent changes to fix them.
MODE_FIELD = {Mode.COUNT: "instalments", Mode.AMOUNT: "per_instalment", Mode.CAPACITY: "capacity"}

_PERIODS_PER_YEAR = {
    Frequency.MONTHLY: 12,
    Frequency.FOUR_WEEKLY: 13,
    Frequency.FORTNIGHTLY: 26,
    Frequency.WEEKLY: 52,
}


# ----------------------------------------------------------------------------- messages


class Money(int):
    """Cents in a message's values: the reader formats them as an amount."""


class Word(str):
    """A message id in a message's values (``monthly``): the reader translates it."""


@dataclass(frozen=True)
class Message:
    """An English message id and its values; translated and formatted by the reader."""

    id: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of_error(cls, error: AgentDeskError) -> Message:
        return cls(error.template, dict(error.values))

    def text(
        self,
        tr: Callable[..., str] | None = None,
        *,
        money: Callable[[int], str] = cents_to_str,
        day: Callable[[date], str] = date.isoformat,
    ) -> str:
        """The sentence: translated by ``tr`` (English without), values formatted."""
        values = {name: _shown(value, tr, money, day) for name, value in self.values.items()}
        if tr is None:
            return fill(self.id, values)
        return tr(self.id, **values)

    def __str__(self) -> str:
        return self.text()


def _shown(
    value: Any,
    tr: Callable[..., str] | None,
    money: Callable[[int], str],
    day: Callable[[date], str],
) -> Any:
    if isinstance(value, Word):
        return str(value) if tr is None else tr(str(value))
    if isinstance(value, Message):  # a sentence inside a sentence
        return value.text(tr, money=money, day=day)
    if isinstance(value, Money):
        return money(int(value))
    if isinstance(value, date):
        return day(value)
    return value


def _say(message_id: str, /, **values: Any) -> Message:
    return Message(message_id, values)


# --------------------------------------------------------------------------- what is owed


@dataclass(frozen=True)
class ClaimOwed:
    """What is open on one claim on the day, by part, as the books say."""

    due_date: date
    principal: Cents
    costs: Cents
    interest: Cents

    @property
    def outstanding(self) -> Cents:
        return self.principal + self.costs + self.interest


@dataclass(frozen=True)
class Owed:
    """What an arrangement agreed on the day would be for, summed over its claims."""

    principal: Cents = 0
    costs: Cents = 0  # booked: only after a 14-day letter's term ran out unpaid
    interest: Cents = 0  # booked, plus what accrued up to the day
    interest_since: date | None = None  # first day of default of the oldest claim with interest
    claims: int = 0  # claims with something open that the plan covers
    later: Cents = 0  # open on claims not yet due: not in this plan
    #: The first day of the interest whose statutory rate is not confirmed yet (the
    #: rate table's ``confirmed_until``); the interest is provisional from then on.
    interest_provisional_from: date | None = None

    @property
    def total(self) -> Cents:
        return self.principal + self.costs + self.interest


def owed_on(claims: Iterable[ClaimOwed], on: date) -> Owed:
    """The claims an arrangement agreed ``on`` covers: those due on or before it."""
    covered: list[ClaimOwed] = []
    later = 0
    for claim in claims:
        if claim.outstanding <= 0:
            continue
        if claim.due_date <= on:
            covered.append(claim)
        else:
            later += claim.outstanding
    since = min((in_default_since(c.due_date) for c in covered if c.interest > 0), default=None)
    return Owed(
        principal=sum(c.principal for c in covered),
        costs=sum(c.costs for c in covered),
        interest=sum(c.interest for c in covered),
        interest_since=since,
        claims=len(covered),
        later=later,
    )


@dataclass(frozen=True)
class Charges:
    """What the plan charges: the principal, and the costs and interest not waived."""

    principal: Cents
    costs: Cents
    interest: Cents
    costs_waived: Cents = 0
    interest_waived: Cents = 0

    @property
    def total(self) -> Cents:
        return self.principal + self.costs + self.interest


def charges(owed: Owed, *, waive_costs: bool, waive_interest: bool) -> Charges:
    return Charges(
        principal=owed.principal,
        costs=0 if waive_costs else owed.costs,
        interest=0 if waive_interest else owed.interest,
        costs_waived=owed.costs if waive_costs else 0,
        interest_waived=owed.interest if waive_interest else 0,
    )


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True)
class Terms:
    """How the customer and the agent want to pay it off."""

    mode: Mode
    start: date  # the first due date (of the down payment, if there is one)
    frequency: Frequency = Frequency.MONTHLY
    count: int = 0  # Mode.COUNT
    per_instalment: Cents = 0  # Mode.AMOUNT
    capacity: Cents | None = None  # a month: income minus essential expenses
    down_payment: Cents = 0
    waive_costs: bool = False
    waive_interest: bool = False


def capacity_per_period(monthly: Cents, frequency: Frequency) -> Cents:
    """What a monthly capacity allows per period, rounded down (never above it)."""
    return monthly * 12 // _PERIODS_PER_YEAR[frequency]


def default_first_due(today: date) -> date:
    """The first of a month, at least a week away: most incomes arrive around the 25th."""
    candidate = add_months(date(today.year, today.month, 1), 1)
    if (candidate - today).days < FIRST_DUE_AT_LEAST_DAYS:
        candidate = add_months(candidate, 1)
    return candidate


# ---------------------------------------------------------------------------- the result


@dataclass
class PlanResult:
    """What the inputs make: a plan, or the reasons there is none, per input."""

    owed: Owed
    charges: Charges
    plan: Plan | None = None
    terms: Terms | None = None  # what the plan was made from (None: a plan made elsewhere)
    capacity_month: Cents | None = None
    capacity_period: Cents | None = None
    above_capacity: Cents = 0  # how far the largest instalment is above the capacity
    errors: dict[str, list[Message]] = field(default_factory=dict)  # blocking, per input
    breaches: dict[str, list[Message]] = field(default_factory=dict)  # policy, per input
    check: PlanCheck | None = None
    needs_approval: bool = False

    @property
    def total(self) -> Cents:
        return self.charges.total

    def add(self, field_name: str, message: Message) -> None:
        self.errors.setdefault(field_name, []).append(message)

    def approval_record(self) -> str:
        """The breaches in English, as kept on the arrangement for the supervisor."""
        if self.check is None:
            return ""
        return " ".join(b.message for b in self.check.breaches if b.field != "capacity")

    def refusal(self, reason: str) -> tuple[str, Message] | None:
        """Why this plan cannot be agreed with ``reason`` as (input, message); None: it can."""
        for name, messages in self.errors.items():
            return name, messages[0]
        if self.plan is None:  # pragma: no cover - no plan always comes with an error
            return "amount", _say(N_("There is no plan to agree yet."))
        if self.above_capacity > 0:
            return "capacity", _say(
                N_(
                    "The plan is {amount} above what the customer can pay; choose a smaller "
                    "instalment or plan by what the customer can pay."
                ),
                amount=Money(self.above_capacity),
            )
        text = reason.strip()
        if self.needs_approval and not text:
            return "approval_reason", _say(
                N_(
                    "This plan is outside policy and needs a supervisor's approval; "
                    "say why it is needed."
                )
            )
        if self.needs_approval and len(text) > MAX_REASON:
            return "approval_reason", _say(
                N_("The reason is too long ({length} characters; at most {most})."),
                length=len(text),
                most=MAX_REASON,
            )
        return None


# ---------------------------------------------------------------------------- calculating


def compute_plan(
    owed: Owed, terms: Terms, policy: ArrangementPolicy, *, today: date | None = None
) -> PlanResult:
    """The plan for ``terms`` over what is ``owed``, checked against ``policy``.

    Never raises for what a person typed: every problem is a message on its input.
    ``today``: the first due date may not be before it.
    """
    out = PlanResult(
        owed,
        charges(owed, waive_costs=terms.waive_costs, waive_interest=terms.waive_interest),
        terms=terms,
    )
    total = out.total
    if owed.total <= 0:
        out.add("amount", _say(N_("Nothing is owed on the claims due so far: there is no plan.")))
    elif total <= 0:
        out.add("amount", _say(N_("With the costs and interest waived nothing is left to plan.")))
    if today is not None and terms.start < today:
        out.add("start", _say(N_("The first instalment cannot be due in the past.")))
    if terms.down_payment < 0:
        out.add("down_payment", _say(N_("The down payment cannot be negative.")))
    if terms.capacity is not None:
        if terms.capacity <= 0:
            out.add(
                "capacity",
                _say(
                    N_(
                        "Nothing is left after essential expenses: do not plan; refer the "
                        "customer to debt help."
                    )
                ),
            )
        else:
            out.capacity_month = terms.capacity
            out.capacity_period = capacity_per_period(terms.capacity, terms.frequency)
    elif terms.mode is Mode.CAPACITY:
        out.add("capacity", _say(N_("Type the customer's income and essential expenses.")))
    if terms.mode is Mode.COUNT and terms.count < 1:
        out.add("instalments", _say(N_("Choose at least one instalment.")))
    if terms.mode is Mode.AMOUNT and terms.per_instalment <= 0:
        out.add("per_instalment", _say(N_("The amount per instalment must be more than zero.")))
    if out.errors:
        return out
    down = terms.down_payment
    if down >= total:
        out.add(
            "down_payment",
            _say(
                N_(
                    "The down payment must be less than the total of {total}; for everything "
                    "at once, record a payment instead of a plan."
                ),
                total=Money(total),
            ),
        )
        return out
    mode_field = MODE_FIELD[terms.mode]
    if terms.mode is Mode.CAPACITY and out.capacity_period == 0:
        out.add("capacity", _say(N_("Too little is left per period to plan with.")))
        return out
    size = {Mode.AMOUNT: terms.per_instalment, Mode.CAPACITY: out.capacity_period or 0}.get(
        terms.mode, 0
    )
    if size and -(-(total - down) // size) > MAX_INSTALMENTS_ANY_PLAN:
        out.add(
            mode_field,
            _say(
                N_("That makes {count} instalments; choose a larger amount per instalment."),
                count=-(-(total - down) // size),
            ),
        )
        return out
    try:
        if terms.mode is Mode.COUNT:
            plan = plan_by_count(
                total, terms.count, terms.start, terms.frequency, down_payment=down
            )
        elif terms.mode is Mode.AMOUNT:
            plan = plan_by_amount(
                total, terms.per_instalment, terms.start, terms.frequency, down_payment=down
            )
        else:
            assert out.capacity_period is not None
            plan = plan_by_capacity(
                total, out.capacity_period, terms.start, terms.frequency, down_payment=down
            )
    except ValidationError as error:
        out.add(mode_field, Message.of_error(error))
        return out
    out.plan = plan
    _check(out, plan, policy, mode_field)
    return out


def review_plan(
    owed: Owed,
    plan: Plan,
    policy: ArrangementPolicy,
    *,
    waive_costs: bool,
    waive_interest: bool,
    today: date | None = None,
) -> PlanResult:
    """Check a schedule made elsewhere against what is ``owed``, like :func:`compute_plan`.

    Its total must be exactly what the books and the waivers make it.
    """
    out = PlanResult(owed, charges(owed, waive_costs=waive_costs, waive_interest=waive_interest))
    if not plan.instalments:
        out.add("instalments", _say(N_("An arrangement needs at least one instalment.")))
    elif any(i.amount <= 0 for i in plan.instalments):
        out.add("instalments", _say(N_("Every instalment must be more than zero.")))
    elif sum(i.amount for i in plan.instalments) != plan.total:
        out.add(
            "instalments",
            _say(N_("The instalments do not add up to the total; recalculate the plan.")),
        )
    elif plan.total != out.total:
        out.add(
            "amount",
            _say(
                N_(
                    "The plan is for {plan}, but the books make it {total}: the amounts "
                    "changed since you calculated; recalculate the plan."
                ),
                plan=Money(plan.total),
                total=Money(out.total),
            ),
        )
    elif today is not None and min(i.due for i in plan.instalments) < today:
        out.add("start", _say(N_("The first instalment cannot be due in the past.")))
    if out.errors:
        return out
    out.plan = plan
    _check(out, plan, policy, "instalments")
    return out


def _check(out: PlanResult, plan: Plan, policy: ArrangementPolicy, mode_field: str) -> None:
    check = check_plan(
        plan, policy, capacity=out.capacity_period, costs_added=out.charges.costs > 0
    )
    out.check = check
    regular = plan.regular
    if out.capacity_period is not None and not check.fits_capacity:
        out.above_capacity = max(i.amount for i in regular) - out.capacity_period
    for breach in check.breaches:
        if breach.field == "instalments":
            message = _say(
                N_("{count} instalments: the policy allows at most {max}."),
                count=len(regular),
                max=policy.max_instalments,
            )
            target = mode_field
        elif breach.field == "per_instalment":
            message = _say(
                N_("An instalment of {amount} is below the policy minimum of {minimum}."),
                amount=Money(regular[0].amount),
                minimum=Money(policy.min_instalment),
            )
            target = mode_field
        elif breach.field == "term":
            message = _say(
                N_("Ends {end}, later than the policy's {months} months (until {latest})."),
                end=plan.end,
                months=policy.max_term_months,
                latest=add_months(plan.start, policy.max_term_months),
            )
            target = mode_field
        elif breach.field == "costs":
            message = _say(N_("The policy does not allow adding collection costs; waive them."))
            target = "costs"
        else:
            continue  # capacity: never saved above it (see refusal), no approval makes it fit
        out.breaches.setdefault(target, []).append(message)
        out.needs_approval = True


# --------------------------------------------------------------------- what a person typed


@dataclass(frozen=True)
class TermsText:
    """The calculator's inputs as typed."""

    mode: Mode
    start: date
    frequency: Frequency = Frequency.MONTHLY
    count: int = 0
    per_instalment: str = ""
    income: str = ""
    expenses: str = ""
    down_payment: str = ""
    waive_costs: bool = False
    waive_interest: bool = False


def read_amount(text: str, *, allow_zero: bool = False) -> Cents:
    """A typed amount in cents, or a ``ValidationError`` saying what is wrong with it."""
    raw = text.strip()
    if not raw:
        raise ValidationError("Enter an amount.")
    try:
        return parse_amount(raw, allow_zero=allow_zero)
    except ValidationError as error:
        template = error.template
        if "unclear" in template:
            raise ValidationError(
                "'{text}' is unclear: type one thousand as 1000 and one euro as 1.00.", text=raw
            ) from None
        if "two decimals" in template:
            raise ValidationError(
                "'{text}' has more than two decimals; cents are the smallest unit.", text=raw
            ) from None
        if "negative" in template:
            raise ValidationError("The amount cannot be negative.") from None
        if "more than zero" in template:
            raise ValidationError("The amount must be more than zero.") from None
        raise ValidationError(
            "'{text}' is not an amount; type it like 1234.56.", text=raw
        ) from None


def terms_from_text(value: TermsText) -> tuple[Terms, dict[str, list[Message]]]:
    """Typed inputs as :class:`Terms`, and what could not be read, per input."""
    errors: dict[str, list[Message]] = {}

    def amount(text: str, name: str, *, allow_zero: bool = False) -> Cents | None:
        try:
            return read_amount(text, allow_zero=allow_zero)
        except ValidationError as error:
            errors.setdefault(name, []).append(Message.of_error(error))
            return None

    down = amount(value.down_payment, "down_payment", allow_zero=True) or 0
    if not value.down_payment.strip():
        errors.pop("down_payment", None)
    capacity: Cents | None = None
    if value.income.strip() or value.expenses.strip():
        income = amount(value.income, "capacity")
        expenses = (
            amount(value.expenses, "capacity", allow_zero=True) if value.expenses.strip() else 0
        )
        if income is not None and expenses is not None:
            capacity = income - expenses
    per = 0
    if value.mode is Mode.AMOUNT:
        per = amount(value.per_instalment, "per_instalment") or 0
    terms = Terms(
        mode=value.mode,
        start=value.start,
        frequency=value.frequency,
        count=value.count,
        per_instalment=per,
        capacity=capacity,
        down_payment=down,
        waive_costs=value.waive_costs,
        waive_interest=value.waive_interest,
    )
    return terms, errors


def calculate(
    owed: Owed, value: TermsText, policy: ArrangementPolicy, *, today: date | None = None
) -> PlanResult:
    """:func:`compute_plan` on typed inputs; what cannot be read is said beside it."""
    terms, unreadable = terms_from_text(value)
    result = compute_plan(owed, terms, policy, today=today)
    if not unreadable:
        return result
    # No plan from unreadable inputs; what they say wins over what reading them as 0 says.
    out = PlanResult(owed, result.charges, terms=terms)
    if "capacity" not in unreadable:
        out.capacity_month, out.capacity_period = result.capacity_month, result.capacity_period
    for name, messages in result.errors.items():
        if name not in unreadable:
            out.errors[name] = list(messages)
    for name, messages in unreadable.items():
        out.errors.setdefault(name, []).extend(messages)
    return out
