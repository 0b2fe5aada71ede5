"""Arrangement policy: the limits a supervisor sets, and the check of a plan against them.

The policy is data (``resources/policy/arrangements.toml``, editable by a supervisor),
never literals in code. A plan outside the policy is not forbidden: it needs a
supervisor's approval, recorded with who approved and why. So the check does not raise;
it returns every breach as a plain sentence tagged with the field it concerns, so a UI
can show each one beside its input.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from agent_desk.domain.arrangements import Plan, add_months
from agent_desk.domain.money import Cents, cents_to_str, parse_amount
from agent_desk.errors import ValidationError


@dataclass(frozen=True)
class ArrangementPolicy:
    """Limits for payment arrangements; see ``arrangements.toml`` for what each means."""

    max_term_months: int
    min_instalment: Cents
    max_instalments: int
    costs_may_be_added: bool
    missed_after_days: int
    missed_instalments_before_broken: int
    reminder_days_before_due: int


@dataclass(frozen=True)
class Breach:
    """One way a plan is outside policy; ``field`` names the input it concerns."""

    field: str
    message: str


@dataclass(frozen=True)
class PlanCheck:
    """Outcome of checking a plan against the policy (and the customer's capacity).

    ``fits_capacity`` is ``None`` when no capacity was given. A plan above capacity is
    reported as a breach too: no approval should push a customer below what they can
    live on, but the supervisor is the one who sees it.
    """

    breaches: tuple[Breach, ...]
    needs_approval: bool
    fits_capacity: bool | None = None

    def messages_for(self, field: str) -> list[str]:
        return [b.message for b in self.breaches if b.field == field]


@dataclass(frozen=True)
class SupervisorApproval:
    """A supervisor's approval of a plan outside policy: who, when and why."""

    approved_by: str
    reason: str
    approved_at: datetime

    def __post_init__(self) -> None:
        if not self.approved_by.strip():
            raise ValidationError("Say which supervisor approved the plan.", "approved_by")
        if not self.reason.strip():
            raise ValidationError("Give a reason for approving a plan outside policy.", "reason")


_INT_FIELDS = (
    "max_term_months",
    "max_instalments",
    "missed_after_days",
    "missed_instalments_before_broken",
    "reminder_days_before_due",
)
_AT_LEAST_ONE = {"max_term_months", "max_instalments", "missed_instalments_before_broken"}


def policy_from_mapping(data: Mapping[str, Any]) -> ArrangementPolicy:
    """Build and validate a policy from parsed TOML (or a supervisor's edit form)."""
    expected = {*_INT_FIELDS, "min_instalment", "costs_may_be_added"}
    missing = sorted(expected - data.keys())
    if missing:
        raise ValidationError("The policy is missing '{missing}'.", missing[0], missing=missing[0])
    unknown = sorted(data.keys() - expected)
    if unknown:
        raise ValidationError(
            "The policy has an unknown setting '{unknown}'.", unknown[0], unknown=unknown[0]
        )
    ints: dict[str, int] = {}
    for name in _INT_FIELDS:
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                "The policy setting '{name}' must be a whole number.", name, name=name
            )
        low = 1 if name in _AT_LEAST_ONE else 0
        if value < low:
            raise ValidationError(
                "The policy setting '{name}' must be at least {low}.", name, name=name, low=low
            )
        ints[name] = value
    if not isinstance(data["costs_may_be_added"], bool):
        raise ValidationError(
            "The policy setting 'costs_may_be_added' must be true or false.", "costs_may_be_added"
        )
    min_instalment = data["min_instalment"]
    if not isinstance(min_instalment, str):
        raise ValidationError(
            "The policy setting 'min_instalment' must be an amount in quotes, like \"10.00\".",
            "min_instalment",
        )
    return ArrangementPolicy(
        min_instalment=parse_amount(min_instalment, field="min_instalment"),
        costs_may_be_added=data["costs_may_be_added"],
        **ints,
    )


def parse_policy(text: str) -> ArrangementPolicy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError("The policy file is not valid TOML: {error}.", error=error) from None
    return policy_from_mapping(data)


def load_default_policy() -> ArrangementPolicy:
    """The shipped defaults; a service may override them with the supervisor's edits."""
    from agent_desk import resources

    return parse_policy(resources.read_text("policy", "arrangements.toml"))


def check_plan(
    plan: Plan,
    policy: ArrangementPolicy,
    *,
    capacity: Cents | None = None,
    costs_added: bool = False,
) -> PlanCheck:
    """Every way ``plan`` breaks ``policy``; the plan itself is never changed."""
    breaches: list[Breach] = []
    regular = plan.regular
    if len(regular) > policy.max_instalments:
        breaches.append(
            Breach(
                "instalments",
                f"The plan has {len(regular)} instalments; "
                f"the policy allows at most {policy.max_instalments}.",
            )
        )
    if regular and regular[0].amount < policy.min_instalment and len(regular) > 1:
        breaches.append(
            Breach(
                "per_instalment",
                f"An instalment of {cents_to_str(regular[0].amount)} is below the policy "
                f"minimum of {cents_to_str(policy.min_instalment)}.",
            )
        )
    latest_end = add_months(plan.start, policy.max_term_months)
    if plan.end > latest_end:
        breaches.append(
            Breach(
                "term",
                f"The plan ends on {plan.end.isoformat()}, later than the policy's "
                f"{policy.max_term_months} months (until {latest_end.isoformat()}).",
            )
        )
    if costs_added and not policy.costs_may_be_added:
        breaches.append(Breach("costs", "The policy does not allow adding collection costs."))
    fits: bool | None = None
    if capacity is not None:
        fits = all(i.amount <= capacity for i in regular)
        if not fits:
            breaches.append(
                Breach(
                    "capacity",
                    f"An instalment is above the customer's capacity to pay of "
                    f"{cents_to_str(capacity)}.",
                )
            )
    return PlanCheck(breaches=tuple(breaches), needs_approval=bool(breaches), fits_capacity=fits)


def end_of_policy_term(start: date, policy: ArrangementPolicy) -> date:
    """The last due date the policy allows for a plan starting on ``start``."""
    return add_months(start, policy.max_term_months)
