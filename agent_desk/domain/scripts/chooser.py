"""Which script fits the customer on screen, and the reasons why.

The reasons are codes; the desk says them in its language through the one catalogue
(``resources/i18n/nl.toml``, context :data:`REASON_CONTEXT`), so the chooser holds no
translations of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent_desk.domain.money import Cents
from agent_desk.errors import NotFoundError

if TYPE_CHECKING:
    from agent_desk.i18n import Translator


@dataclass(frozen=True)
class CustomerSituation:
    """What the desk knows about the customer on screen, for choosing a script."""

    inbound_call: bool = False
    first_time_arrears: bool = False
    broken_arrangement: bool = False
    vulnerable: bool = False
    debt_help_requested: bool = False
    pause_requested: bool = False
    paused: bool = False
    segment: str | None = None
    income_drop: bool = False
    trigger: str | None = None
    days_past_due: int = 0
    arrears_cents: Cents = 0
    previous_arrears_episodes: int = 0


#: The catalogue context of the reasons (``resources/i18n/nl.toml``): they complete
#: "chosen because:", so some read differently from the same English elsewhere on the
#: desk (``self-employed`` is "zzp'er" in a customer's file, "zelfstandig ondernemer"
#: here).
REASON_CONTEXT = "script chosen because"

#: Reason code -> English message id (translated in :data:`REASON_CONTEXT`).
REASON_MESSAGES: Mapping[str, str] = {
    "vulnerable": "known vulnerable customer",
    "debt_help_requested": "asked for debt help",
    "pause_requested": "asked to pause collection",
    "inbound_call": "customer is calling us",
    "broken_arrangement": "payment arrangement not kept",
    "self_employed": "self-employed",
    "income_drop": "income has dropped",
    "discount_ending": "introductory discount ended",
    "price_change": "price changed",
    "first_time_arrears": "first time in arrears",
    "repeat_arrears": "in arrears before",
    "repeat_arrears_count": "in arrears {n} times before",
    "paused": "collection is paused",
    "fallback": "the usual script was not found",
}

#: The one reason with plural forms (the catalogue's plural entry, as in the queue).
DAYS_PAST_DUE = "days_past_due"


@dataclass(frozen=True)
class ChoiceReason:
    """One fact that chose the script: a reason code and, for a counted one, its number."""

    code: str
    count: int = 0

    def text(self, tr: Translator) -> str:
        if self.code == DAYS_PAST_DUE:
            return tr.n("{days} day past due", "{days} days past due", self.count, days=self.count)
        message = REASON_MESSAGES[self.code]
        if "{n}" in message:
            return tr.p(REASON_CONTEXT, message, n=self.count)
        return tr.p(REASON_CONTEXT, message)


@dataclass(frozen=True)
class ScriptChoice:
    script_id: str
    reasons: tuple[ChoiceReason, ...]

    def reason_texts(self, tr: Translator) -> list[str]:
        return [reason.text(tr) for reason in self.reasons]

    def explanation(self, tr: Translator) -> str:
        """ "chosen because: …" in ``tr``'s language."""
        lead = tr.p("script chosen because", "chosen because:")
        reasons = self.reason_texts(tr)
        return f"{lead} {', '.join(reasons)}" if reasons else lead.rstrip(":")


PRICE_TRIGGERS = frozenset({"discount_ending", "price_change"})


def choose_script(facts: CustomerSituation, scripts: Collection[str]) -> ScriptChoice:
    """Pick the script that fits ``facts`` best among the ids in ``scripts``.

    Order: an inbound call first (its opening differs: the customer called us), then
    what the customer needs or asked for (vulnerability, debt help, a pause), then the
    situation (broken arrangement, income drop, price trigger), then first-time versus
    repeat arrears. The reasons list the deciding facts first, then the others.
    """
    facts_present = _situation_codes(facts)
    candidates: list[tuple[str, list[str]]] = []
    if facts.inbound_call:
        candidates.append(("inbound_call", ["inbound_call"]))
    if facts.vulnerable:
        candidates.append(("vulnerability_disclosure", ["vulnerable"]))
    if facts.debt_help_requested:
        candidates.append(("debt_help_referral", ["debt_help_requested"]))
    if facts.pause_requested:
        candidates.append(("pause_request", ["pause_requested"]))
    if facts.broken_arrangement:
        candidates.append(("broken_arrangement", ["broken_arrangement"]))
    income_codes: list[str] = [c for c in ("self_employed", "income_drop") if c in facts_present]
    if income_codes:
        candidates.append(("income_drop_self_employed", income_codes))
    if facts.trigger in PRICE_TRIGGERS:
        candidates.append(("price_change_discount_end", [str(facts.trigger)]))
    if facts.first_time_arrears:
        candidates.append(("first_time_arrears", ["first_time_arrears"]))
    candidates.append(("repeat_arrears", ["repeat_arrears"]))

    available = set(scripts)
    for position, (script_id, codes) in enumerate(candidates):
        if script_id not in available:
            continue
        ordered = codes + [c for c in facts_present if c not in codes]
        reasons = [_reason(code, facts) for code in ordered]
        if any(wanted not in available for wanted, _ in candidates[:position]):
            reasons.append(ChoiceReason("fallback"))
        if facts.days_past_due > 0:
            reasons.append(ChoiceReason(DAYS_PAST_DUE, facts.days_past_due))
        return ScriptChoice(script_id, tuple(reasons))
    raise NotFoundError("None of the call scripts fits; check the script files.")


def _situation_codes(facts: CustomerSituation) -> list[str]:
    codes = []
    for code, present in (
        ("inbound_call", facts.inbound_call),
        ("vulnerable", facts.vulnerable),
        ("debt_help_requested", facts.debt_help_requested),
        ("pause_requested", facts.pause_requested),
        ("broken_arrangement", facts.broken_arrangement),
        ("self_employed", facts.segment == "self_employed"),
        ("income_drop", facts.income_drop),
        ("discount_ending", facts.trigger == "discount_ending"),
        ("price_change", facts.trigger == "price_change"),
        ("first_time_arrears", facts.first_time_arrears),
        ("paused", facts.paused),
    ):
        if present:
            codes.append(code)
    return codes


def _reason(code: str, facts: CustomerSituation) -> ChoiceReason:
    if code == "repeat_arrears" and facts.previous_arrears_episodes > 0:
        return ChoiceReason("repeat_arrears_count", facts.previous_arrears_episodes)
    return ChoiceReason(code)
