"""Call scripts: the format, its checker, the chooser, the renderer and the runner.

Scripts are data (YAML files in ``resources/scripts/<lang>/<id>.yaml``, described in
``resources/scripts/README.md``). This module turns them into immutable
:class:`Script` objects and checks the rules a supervisor must not break when editing
them, most importantly *identity before disclosure*: nothing about money or debt may
be said before a step marked ``identity_confirmed: true``, and *ask only what the desk
can check*: a step that asks the caller to identify lists its ``checks`` (the details
the desk holds and shows the agent to compare with), and says what it asks instead
(``if_not_stored``) for a customer whose file lacks one of them.

Only the loader section at the bottom touches files; everything else is pure.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from babel.dates import format_date

from agent_desk.domain.money import Cents, format_money, parse_amount
from agent_desk.errors import AgentDeskError, NotFoundError, ValidationError

LANGUAGES = ("nl", "en")

#: Every placeholder a script may use; anything else is an error at load time.
PLACEHOLDERS = frozenset(
    {
        "first_name",
        "last_name",
        "salutation",
        "customer_number",
        "arrears",
        "oldest_due_date",
        "days_past_due",
        "agent_name",
        "creditor_name",
        "next_instalment_amount",
        "next_instalment_due",
        "pause_until",
        "debt_help_name",
        "debt_help_phone",
    }
)

#: Placeholders that reveal the debt; forbidden before identity is confirmed.
DISCLOSURE_PLACEHOLDERS = frozenset(
    {
        "customer_number",
        "arrears",
        "oldest_due_date",
        "days_past_due",
        "next_instalment_amount",
        "next_instalment_due",
        "pause_until",
        "debt_help_name",
        "debt_help_phone",
    }
)

#: Words that reveal the debt when *said* before identity is confirmed.
DISCLOSURE_WORDS: Mapping[str, tuple[str, ...]] = {
    "nl": ("achterstand", "schuld", "openstaand", "incasso", "betalingsregeling", "te laat"),
    "en": ("arrears", "debt", "overdue", "owe", "outstanding", "collection"),
}

OUTCOME_CODES = (
    "reached",
    "no_answer",
    "voicemail",
    "wrong_number",
    "refused",
    "callback_requested",
    "promise_made",
    "arrangement_made",
    "dispute",
    "referred_debt_help",
    "pause_requested",
    "third_party",
)

#: Outcomes that may be recorded before identity is confirmed (they reveal nothing).
PRE_IDENTITY_OUTCOMES = frozenset(
    {"no_answer", "voicemail", "wrong_number", "refused", "callback_requested", "third_party"}
)

#: Fields that may be recorded or asked before identity is confirmed.
PRE_IDENTITY_FIELDS = frozenset({"outcome", "callback_requested", "note"})

ACTIONS = frozenset({"open_arrangement_calculator"})


@dataclass(frozen=True)
class IdentityCheck:
    """A detail a caller can be asked to state that the desk holds and can compare.

    ``always_on_file``: every customer has it (the import requires it); otherwise a
    step that asks for it needs ``if_not_stored``. ``words``: how a script asks for it,
    per language; the checker finds questions by these words.
    """

    name: str
    always_on_file: bool
    words: Mapping[str, tuple[str, ...]]


IDENTITY_CHECKS: Mapping[str, IdentityCheck] = {
    check.name: check
    for check in (
        IdentityCheck(
            "date_of_birth",
            False,
            {
                "nl": ("geboortedatum", "geboren", "verjaardag"),
                "en": ("date of birth", "birth date", "birthday", "born"),
            },
        ),
        IdentityCheck("full_name", True, {"nl": ("volledige naam",), "en": ("full name",)}),
        IdentityCheck("postcode", True, {"nl": ("postcode",), "en": ("postcode", "post code")}),
        IdentityCheck("house_number", True, {"nl": ("huisnummer",), "en": ("house number",)}),
        IdentityCheck(
            "customer_number", True, {"nl": ("klantnummer",), "en": ("customer number",)}
        ),
        IdentityCheck(
            "invoice_number",
            True,
            {
                "nl": ("factuurnummer", "nummer van een factuur", "nummer van de factuur"),
                "en": ("invoice number", "number of an invoice", "number of one of our invoices"),
            },
        ),
        IdentityCheck(
            "email",
            False,
            {"nl": ("e-mailadres", "emailadres"), "en": ("e-mail address", "email address")},
        ),
    )
}

#: What callers are sometimes asked that the desk does not hold, so an agent could not
#: compare the answer (asking would only look like a check).
NOT_ON_FILE_WORDS: Mapping[str, tuple[str, ...]] = {
    "nl": (
        "bsn",
        "burgerservicenummer",
        "geboorteplaats",
        "rekeningnummer",
        "iban",
        "bankrekening",
        "meisjesnaam",
        "paspoort",
        "rijbewijs",
        "identiteitsbewijs",
        "id-kaart",
        "legitimatie",
        "pincode",
        "wachtwoord",
    ),
    "en": (
        "bsn",
        "citizen service number",
        "social security",
        "national insurance",
        "place of birth",
        "birthplace",
        "bank account",
        "account number",
        "iban",
        "maiden name",
        "passport",
        "driving licence",
        "identity card",
        "id card",
        "pin",
        "password",
    ),
}


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def checks_asked(text: str, language: str) -> list[str]:
    """The identity checks a ``say`` text asks for (by their words), in check order."""
    lowered = text.lower()
    return [
        name
        for name, check in IDENTITY_CHECKS.items()
        if any(_mentions(lowered, word) for word in check.words.get(language, ()))
    ]


def not_on_file_asked(text: str, language: str) -> list[str]:
    """Words in ``text`` that ask for a detail the desk does not hold."""
    lowered = text.lower()
    return [w for w in NOT_ON_FILE_WORDS.get(language, ()) if _mentions(lowered, w)]


class FieldKind(StrEnum):
    OUTCOME = "outcome"
    FLAG = "flag"
    MONEY = "money"
    DATE = "date"
    TEXT = "text"


#: Fields a script can record. ``record:`` sets outcome/flag values; ``ask:`` lets the
#: agent type money/date/text values.
RECORD_FIELDS: Mapping[str, FieldKind] = {
    "outcome": FieldKind.OUTCOME,
    "vulnerability_disclosed": FieldKind.FLAG,
    "vulnerability_consent": FieldKind.FLAG,
    "debt_help_referral": FieldKind.FLAG,
    "promise_requested": FieldKind.FLAG,
    "pause_requested": FieldKind.FLAG,
    "callback_requested": FieldKind.FLAG,
    "promise_amount": FieldKind.MONEY,
    "promise_date": FieldKind.DATE,
    "pause_requested_until": FieldKind.DATE,
    "vulnerability_note": FieldKind.TEXT,
    "note": FieldKind.TEXT,
}
_SET_KINDS = frozenset({FieldKind.OUTCOME, FieldKind.FLAG})
_ASK_KINDS = frozenset({FieldKind.MONEY, FieldKind.DATE, FieldKind.TEXT})

#: Script ids the chooser relies on; a script set must have each in every language.
REQUIRED_SCRIPT_IDS = (
    "first_time_arrears",
    "repeat_arrears",
    "broken_arrangement",
    "inbound_call",
    "vulnerability_disclosure",
    "income_drop_self_employed",
    "price_change_discount_end",
    "debt_help_referral",
    "pause_request",
)

RecordValue = str | bool | int | date

# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    goto: str
    record: Mapping[str, RecordValue] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class IdentityQuestion:
    """What a step says instead when the desk lacks one of its ``checks``."""

    say: str
    checks: tuple[str, ...]
    do: str = ""
    line: int = 0
    say_line: int = 0


@dataclass(frozen=True)
class Step:
    id: str
    say: str = ""
    do: str = ""
    choices: tuple[Choice, ...] = ()
    next: str | None = None
    record: Mapping[str, RecordValue] = field(default_factory=dict)
    ask: tuple[str, ...] = ()
    action: str | None = None
    identity_confirmed: bool = False
    end: bool = False
    line: int = 0
    #: Identity details this step asks the caller to state (the desk shows the agent
    #: what to compare each with); ``if_not_stored`` is said when one is not on file.
    checks: tuple[str, ...] = ()
    if_not_stored: IdentityQuestion | None = None
    say_line: int = 0
    checks_line: int = 0

    def targets(self) -> list[str]:
        found = [choice.goto for choice in self.choices]
        if self.next is not None:
            found.append(self.next)
        return found

    def choice(self, key: str) -> Choice:
        for choice in self.choices:
            if choice.key == key:
                return choice
        raise ValidationError("There is no choice '{key}' at this step.", "choice", key=key)


@dataclass(frozen=True)
class Script:
    id: str
    language: str
    title: str
    start: str
    steps: Mapping[str, Step]
    description: str = ""
    path: str = "<string>"

    @property
    def identity_step(self) -> str | None:
        for step in self.steps.values():
            if step.identity_confirmed:
                return step.id
        return None


@dataclass(frozen=True)
class ScriptProblem:
    """One thing wrong in a script file, printed as ``path:line: message``."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class ScriptFormatError(AgentDeskError):
    """Script files with problems; ``problems`` lists each with its line."""

    def __init__(self, problems: list[ScriptProblem]) -> None:
        count = len(problems)
        first = f" The first: {problems[0]}" if problems else ""
        super().__init__(
            f"The call scripts have {count} problem{'s' if count != 1 else ''}; "
            f"run 'agent-desk scripts check' to see them.{first}"
        )
        self.problems = problems


class ScriptLibrary:
    """All loaded scripts, by language and id."""

    def __init__(self, scripts: Iterable[Script] = ()) -> None:
        self._scripts: dict[str, dict[str, Script]] = {}
        for script in scripts:
            self._scripts.setdefault(script.language, {})[script.id] = script

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._scripts))

    def for_language(self, language: str) -> Mapping[str, Script]:
        return dict(self._scripts.get(language, {}))

    def ids(self, language: str) -> tuple[str, ...]:
        return tuple(sorted(self._scripts.get(language, {})))

    def get(self, script_id: str, language: str) -> Script:
        try:
            return self._scripts[language][script_id]
        except KeyError:
            raise NotFoundError(
                "There is no '{language}' call script '{script_id}'.",
                language=language,
                script_id=script_id,
            ) from None

    def __iter__(self) -> Iterator[Script]:
        for language in sorted(self._scripts):
            yield from (self._scripts[language][k] for k in sorted(self._scripts[language]))

    def __len__(self) -> int:
        return sum(len(by_id) for by_id in self._scripts.values())


# --------------------------------------------------------------------------- rendering

_TOKEN = re.compile(r"\{\{|\}\}|(?P<space> )?\{(?P<name>[^{}]*)\}|(?P<stray>[{}])")

_UNKNOWN_VALUE = {"nl": "(onbekend)", "en": "(unknown)"}
_BABEL_LOCALE = {"nl": "nl_NL", "en": "en_GB"}


@dataclass(frozen=True)
class ScriptContext:
    """The customer's data for one call, as plain values (money in cents)."""

    language: str = "nl"
    first_name: str = ""
    last_name: str = ""
    salutation: str = ""
    customer_number: str = ""
    agent_name: str = ""
    creditor_name: str = ""
    arrears_cents: Cents = 0
    oldest_due_date: date | None = None
    days_past_due: int = 0
    next_instalment_cents: Cents | None = None
    next_instalment_due: date | None = None
    pause_until: date | None = None
    debt_help_name: str = ""
    debt_help_phone: str = ""
    #: For the identity checks only: shown to the agent to compare with, never a
    #: placeholder (a script cannot read them out).
    date_of_birth: date | None = None
    on_file: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def compare_with(self, check: str, language: str | None = None) -> tuple[str, ...]:
        """What the desk holds for an identity check (empty: nothing on file).

        A date of birth reads in full ("12 March 1981", in ``language``): the agent
        compares it with what the caller says.
        """
        if check == "date_of_birth":
            if self.date_of_birth is None:
                return ()
            text = _format_date(self.date_of_birth, language or self.language)
            return (text,) if text else ()
        return tuple(v for v in self.on_file.get(check, ()) if v)

    def values(self) -> dict[str, str | None]:
        """Each placeholder's text; ``None`` when the value is unknown."""
        lang = self.language
        return {
            "first_name": self.first_name or None,
            "last_name": self.last_name or None,
            "salutation": self.salutation,  # may be empty: "{salutation} {last_name}"
            "customer_number": self.customer_number or None,
            "agent_name": self.agent_name or None,
            "creditor_name": self.creditor_name or None,
            "arrears": format_money(self.arrears_cents, lang),
            "oldest_due_date": _format_date(self.oldest_due_date, lang),
            "days_past_due": str(self.days_past_due),
            "next_instalment_amount": (
                None
                if self.next_instalment_cents is None
                else format_money(self.next_instalment_cents, lang)
            ),
            "next_instalment_due": _format_date(self.next_instalment_due, lang),
            "pause_until": _format_date(self.pause_until, lang),
            "debt_help_name": self.debt_help_name or None,
            "debt_help_phone": self.debt_help_phone or None,
        }


def _format_date(value: date | None, language: str) -> str | None:
    if value is None:
        return None
    return format_date(value, format="long", locale=_BABEL_LOCALE.get(language, language))


def placeholders_in(template: str) -> list[str]:
    """Names of the ``{placeholders}`` in a template (``{{``/``}}`` are literal braces)."""
    return [m.group("name") for m in _TOKEN.finditer(template) if m.group("name") is not None]


def _template_problems(template: str) -> list[str]:
    problems = []
    for match in _TOKEN.finditer(template):
        name = match.group("name")
        if name is not None and name not in PLACEHOLDERS:
            problems.append(f"unknown placeholder {{{name}}}")
        elif match.group("stray") is not None:
            problems.append(
                f"a single '{match.group('stray')}' is not allowed; "
                "write '{{' or '}}' for a literal brace"
            )
    return problems


def render_text(template: str, context: ScriptContext) -> str:
    """Fill the placeholders of ``template``.

    Only the template is scanned: customer data goes in as literal text, so a name
    like ``{arrears}`` or ``<b>`` stays exactly that. An empty ``{salutation}`` takes
    the space before it along.
    """
    values = context.values()
    unknown = _UNKNOWN_VALUE.get(context.language, _UNKNOWN_VALUE["en"])

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group("name")
        if name is None:
            return token  # a stray brace; the checker reports these at load time
        if name not in values:
            raise ValidationError(
                "Unknown placeholder {{{name}}} in a call script.", name, name=name
            )
        space = match.group("space") or ""
        value = values[name]
        if value is None:
            return space + unknown
        return space + value if value else ""

    return _TOKEN.sub(substitute, template)


@dataclass(frozen=True)
class RenderedChoice:
    key: str
    label: str
    goto: str


@dataclass(frozen=True)
class RenderedStep:
    """A step ready to show: texts filled in, everything else as in the script."""

    step_id: str
    say: str
    do: str
    choices: tuple[RenderedChoice, ...]
    has_next: bool
    ask: tuple[str, ...]
    action: str | None
    identity_confirmed: bool
    end: bool
    #: The identity details asked here, for the agent to compare (see ``compare_with``).
    checks: tuple[str, ...] = ()


def identity_question(step: Step, context: ScriptContext) -> tuple[str, str, tuple[str, ...]]:
    """``say``, ``do`` and ``checks`` for this customer: ``if_not_stored`` when the
    desk lacks a detail the step asks for that not every customer has (e.g. no date
    of birth on file)."""
    alternative = step.if_not_stored
    lacking = [
        check
        for check in step.checks
        if not IDENTITY_CHECKS[check].always_on_file and not context.compare_with(check)
    ]
    if alternative is not None and lacking:
        return alternative.say, alternative.do or step.do, alternative.checks
    return step.say, step.do, step.checks


def render_step(step: Step, context: ScriptContext) -> RenderedStep:
    say, do, checks = identity_question(step, context)
    return RenderedStep(
        step_id=step.id,
        say=render_text(say, context),
        do=render_text(do, context),
        choices=tuple(
            RenderedChoice(c.key, render_text(c.label, context), c.goto) for c in step.choices
        ),
        has_next=step.next is not None,
        ask=step.ask,
        action=step.action,
        identity_confirmed=step.identity_confirmed,
        end=step.end,
        checks=checks,
    )


# --------------------------------------------------------------------------- chooser


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


@dataclass(frozen=True)
class ScriptChoice:
    script_id: str
    reasons: list[str]
    language: str = "en"

    def explanation(self) -> str:
        lead = _REASON_TEXT["lead"][self.language]
        return f"{lead} {', '.join(self.reasons)}" if self.reasons else lead.rstrip(":")


_REASON_TEXT: Mapping[str, Mapping[str, str]] = {
    "lead": {"en": "chosen because:", "nl": "gekozen omdat:"},
    "vulnerable": {"en": "known vulnerable customer", "nl": "klant is kwetsbaar"},
    "debt_help_requested": {"en": "asked for debt help", "nl": "klant vraagt om schuldhulp"},
    "pause_requested": {"en": "asked to pause collection", "nl": "klant vraagt om een pauze"},
    "inbound_call": {"en": "customer is calling us", "nl": "klant belt zelf"},
    "broken_arrangement": {
        "en": "payment arrangement not kept",
        "nl": "betalingsregeling niet nagekomen",
    },
    "self_employed": {"en": "self-employed", "nl": "zelfstandig ondernemer"},
    "income_drop": {"en": "income has dropped", "nl": "inkomen is gedaald"},
    "discount_ending": {"en": "introductory discount ended", "nl": "introductiekorting afgelopen"},
    "price_change": {"en": "price changed", "nl": "prijs is veranderd"},
    "first_time_arrears": {"en": "first time in arrears", "nl": "voor het eerst een achterstand"},
    "repeat_arrears": {"en": "in arrears before", "nl": "eerder een achterstand"},
    "repeat_arrears_count": {
        "en": "in arrears {n} times before",
        "nl": "{n} keer eerder een achterstand",
    },
    "paused": {"en": "collection is paused", "nl": "incasso staat op pauze"},
    "days_past_due": {"en": "{n} days past due", "nl": "{n} dagen over de vervaldatum"},
    "one_day_past_due": {"en": "1 day past due", "nl": "1 dag over de vervaldatum"},
    "fallback": {"en": "the usual script was not found", "nl": "het gewone script ontbreekt"},
}

PRICE_TRIGGERS = frozenset({"discount_ending", "price_change"})


def reason_text(code: str, language: str, **values: int) -> str:
    """The words for a reason code in ``language`` (English when unknown)."""
    texts = _REASON_TEXT[code]
    text = texts.get(language, texts["en"])
    return text.format(**{k: str(v) for k, v in values.items()})


def choose_script(
    facts: CustomerSituation, scripts: Collection[str], *, language: str = "en"
) -> ScriptChoice:
    """Pick the script that fits ``facts`` best among the ids in ``scripts``.

    Order: an inbound call first (its opening differs: the customer called us), then
    what the customer needs or asked for (vulnerability, debt help, a pause), then the
    situation (broken arrangement, income drop, price trigger), then first-time versus
    repeat arrears. The reasons list the deciding facts first, then the others.
    """
    if language not in LANGUAGES:
        language = "en"
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
        reasons = [_reason(code, facts, language) for code in ordered]
        if any(wanted not in available for wanted, _ in candidates[:position]):
            reasons.append(reason_text("fallback", language))
        reasons.extend(_days_reason(facts, language))
        return ScriptChoice(script_id, reasons, language)
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


def _reason(code: str, facts: CustomerSituation, language: str) -> str:
    if code == "repeat_arrears" and facts.previous_arrears_episodes > 0:
        return reason_text("repeat_arrears_count", language, n=facts.previous_arrears_episodes)
    return reason_text(code, language)


def _days_reason(facts: CustomerSituation, language: str) -> list[str]:
    if facts.days_past_due <= 0:
        return []
    if facts.days_past_due == 1:
        return [reason_text("one_day_past_due", language)]
    return [reason_text("days_past_due", language, n=facts.days_past_due)]


# --------------------------------------------------------------------------- runner


@dataclass
class _Visit:
    step_id: str
    choice_key: str | None = None
    inputs: dict[str, RecordValue] = field(default_factory=dict)


@dataclass(frozen=True)
class ScriptOutcome:
    """What a script run recorded, for the contact attempt being logged."""

    script_id: str
    language: str
    outcome_code: str | None
    identity_confirmed: bool
    vulnerability_disclosed: bool
    vulnerability_consent: bool | None
    vulnerability_note: str | None
    debt_help_referral: bool
    promise_requested: bool
    promise_amount_cents: Cents | None
    promise_date: date | None
    pause_requested: bool
    pause_requested_until: date | None
    callback_requested: bool
    open_arrangement_calculator: bool
    note: str | None
    steps_taken: tuple[str, ...]


class ScriptRun:
    """One walk through a script: the current step, back/forward history, recordings.

    The recorded values are those of the *active path* only: going back undoes what
    the later steps recorded; choosing differently drops the old path ahead.
    """

    def __init__(
        self,
        script: Script,
        context: ScriptContext,
        *,
        start_at: str | None = None,
        carried: Mapping[str, RecordValue] | None = None,
        identity_already_confirmed: bool = False,
    ) -> None:
        start = start_at or script.start
        if start not in script.steps:
            raise NotFoundError(
                "The script '{script}' has no step '{start}'.", script=script.id, start=start
            )
        self.script = script
        self.context = context
        self._carried: dict[str, RecordValue] = dict(carried or {})
        self._identity_before = identity_already_confirmed
        self._path: list[_Visit] = [_Visit(start)]
        self._position = 0

    # -- where we are
    @property
    def step(self) -> Step:
        return self.script.steps[self._path[self._position].step_id]

    def rendered(self) -> RenderedStep:
        return render_step(self.step, self.context)

    @property
    def history(self) -> tuple[str, ...]:
        """Step ids of the active path up to and including the current step."""
        return tuple(visit.step_id for visit in self._path[: self._position + 1])

    @property
    def identity_confirmed(self) -> bool:
        return self._identity_before or any(
            self.script.steps[step_id].identity_confirmed for step_id in self.history
        )

    @property
    def finished(self) -> bool:
        return self.step.end

    @property
    def can_go_back(self) -> bool:
        return self._position > 0

    @property
    def can_go_forward(self) -> bool:
        return self._position + 1 < len(self._path) or self.step.next is not None

    # -- moving
    def choose(self, key: str) -> Step:
        choice = self.step.choice(key)
        visit = self._path[self._position]
        if visit.choice_key == key and self._position + 1 < len(self._path):
            self._position += 1
            return self.step
        self._go(choice.goto, key)
        return self.step

    def forward(self) -> Step:
        """Redo the next step of the history, else follow the step's ``next``."""
        if self._position + 1 < len(self._path):
            self._position += 1
            return self.step
        if self.step.next is None:
            raise ValidationError("This step has no next step; pick one of the choices.", "choice")
        self._go(self.step.next, None)
        return self.step

    def back(self) -> Step:
        if self._position == 0:
            raise ValidationError("This is the first step; there is no step before it.", "back")
        self._position -= 1
        return self.step

    def _go(self, step_id: str, key: str | None) -> None:
        del self._path[self._position + 1 :]
        self._path[self._position].choice_key = key
        self._path.append(_Visit(step_id))
        self._position += 1

    # -- recording
    def enter(self, field_name: str, text: str) -> RecordValue:
        """Record what the agent typed for one of this step's ``ask`` fields."""
        if field_name not in self.step.ask:
            raise ValidationError(
                "This step does not ask for '{field_name}'.", field_name, field_name=field_name
            )
        value = parse_field_value(field_name, text)
        visit = self._path[self._position]
        if value == "":
            visit.inputs.pop(field_name, None)
        else:
            visit.inputs[field_name] = value
        return value

    @property
    def recorded(self) -> dict[str, RecordValue]:
        values = dict(self._carried)
        for index, visit in enumerate(self._path[: self._position + 1]):
            step = self.script.steps[visit.step_id]
            values.update(step.record)
            values.update(visit.inputs)
            if index < self._position and visit.choice_key is not None:
                values.update(step.choice(visit.choice_key).record)
        return values

    def outcome(self) -> ScriptOutcome:
        values = self.recorded
        consent = _opt_bool(values.get("vulnerability_consent"))
        disclosed = values.get("vulnerability_disclosed") is True
        note = values.get("vulnerability_note")
        calculator = (
            any(
                self.script.steps[step_id].action == "open_arrangement_calculator"
                for step_id in self.history
            )
            or values.get("open_arrangement_calculator") is True
        )
        amount = values.get("promise_amount")
        return ScriptOutcome(
            script_id=self.script.id,
            language=self.script.language,
            outcome_code=_opt_str(values.get("outcome")),
            identity_confirmed=self.identity_confirmed,
            vulnerability_disclosed=disclosed,
            vulnerability_consent=consent if disclosed else None,
            # without explicit consent nothing about the vulnerability is kept
            vulnerability_note=_opt_str(note) if disclosed and consent is True else None,
            debt_help_referral=values.get("debt_help_referral") is True,
            promise_requested=values.get("promise_requested") is True,
            promise_amount_cents=amount if isinstance(amount, int) and amount > 0 else None,
            promise_date=_opt_date(values.get("promise_date")),
            pause_requested=values.get("pause_requested") is True,
            pause_requested_until=_opt_date(values.get("pause_requested_until")),
            callback_requested=values.get("callback_requested") is True,
            open_arrangement_calculator=calculator,
            note=_opt_str(values.get("note")),
            steps_taken=self.history,
        )

    def switch_to(self, script: Script) -> ScriptRun:
        """Start ``script`` instead, keeping what was recorded.

        When identity was already confirmed, the new run starts at the new script's
        identity-confirmed step: the customer is not asked to identify twice.
        """
        if script.language != self.script.language:
            raise ValidationError("Switch to a script in the same language.", "script")
        confirmed = self.identity_confirmed
        start = script.identity_step if confirmed else None
        carried = self.recorded
        if calculator_opened := self.outcome().open_arrangement_calculator:
            carried["open_arrangement_calculator"] = calculator_opened
        return ScriptRun(
            script,
            self.context,
            start_at=start,
            carried=carried,
            identity_already_confirmed=confirmed,
        )


def _opt_str(value: RecordValue | None) -> str | None:
    return value if isinstance(value, str) and value else None


def _opt_bool(value: RecordValue | None) -> bool | None:
    return value if isinstance(value, bool) else None


def _opt_date(value: RecordValue | None) -> date | None:
    return value if isinstance(value, date) else None


_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


def parse_field_value(field_name: str, text: str) -> RecordValue:
    """Turn what the agent typed into the field's value; ``""`` clears the field."""
    kind = RECORD_FIELDS.get(field_name)
    if kind is None:
        raise ValidationError(
            "'{field_name}' is not a field a script can record.", field_name, field_name=field_name
        )
    raw = text.strip()
    if not raw:
        return ""
    if kind is FieldKind.MONEY:
        return parse_amount(raw, field=field_name)
    if kind is FieldKind.DATE:
        return parse_day(raw, field=field_name)
    if kind is FieldKind.TEXT:
        return raw
    raise ValidationError(
        "'{field_name}' is set by the script, not typed.", field_name, field_name=field_name
    )


def parse_day(text: str, *, field: str = "date") -> date:
    """A date typed as 2025-03-01 or day first as 1-3-2025 / 01/03/2025."""
    raw = text.strip()
    match = _DAY_FIRST.match(raw)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            "'{value}' is not a date; type it like 31-01-2026 or 2026-01-31.", field, value=raw
        ) from None


# --------------------------------------------------------------------------- parsing

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY = re.compile(r"^[0-9a-z]$")
_TOP_KEYS = frozenset({"id", "language", "title", "description", "start", "steps"})
_STEP_KEYS = frozenset(
    {
        "say",
        "do",
        "choices",
        "next",
        "record",
        "ask",
        "action",
        "identity_confirmed",
        "end",
        "checks",
        "if_not_stored",
    }
)
_QUESTION_KEYS = frozenset({"say", "do", "checks"})
_CHOICE_KEYS = frozenset({"key", "label", "goto", "record"})


class _Problems:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[ScriptProblem] = []

    def add(self, node: yaml.Node | int | None, message: str) -> None:
        line = node if isinstance(node, int) or node is None else node.start_mark.line + 1
        self.items.append(ScriptProblem(self.path, line, message))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Reader:
    """Reads a composed YAML tree, keeping a line for every value it reports on."""

    def __init__(self, loader: yaml.SafeLoader | yaml.CSafeLoader, problems: _Problems) -> None:
        self.loader = loader
        self.problems = problems

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.problems.add(node, f"{what} must be a mapping of 'key: value' lines")
            return {}
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str | int) or isinstance(key, bool):
                self.problems.add(key_node, f"{what} has a key that is not a name")
                continue
            name = str(key)
            if name in result:
                self.problems.add(key_node, f"'{name}' appears twice in {what}")
                continue
            result[name] = (key_node, value_node)
        return result

    def value(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node, deep=True)
        return None

    def text(self, node: yaml.Node, what: str) -> str | None:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, str) or not value.strip():
            self.problems.add(node, f"{what} must be a non-empty text")
            return None
        return value.strip()

    def unknown_keys(
        self, entries: Mapping[str, tuple[yaml.Node, yaml.Node]], allowed: frozenset[str], what: str
    ) -> None:
        for name, (key_node, _) in entries.items():
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                self.problems.add(key_node, f"unknown key '{name}' in {what} (known: {known})")


def parse_script(
    text: str,
    *,
    path: str = "<string>",
    language: str | None = None,
    expected_id: str | None = None,
) -> tuple[Script | None, list[ScriptProblem]]:
    """Parse and check one script; returns the script (if readable) and its problems."""
    problems = _Problems(path)
    # libyaml's parser (10x faster; the desk reads every shipped script at start) when
    # PyYAML has it; a file it refuses is read again by the Python parser, whose
    # messages are the ones the checks report.
    loader: yaml.SafeLoader | yaml.CSafeLoader
    loader = yaml.CSafeLoader(text) if yaml.__with_libyaml__ else yaml.SafeLoader(text)
    try:
        try:
            try:
                root = loader.get_single_node()
            except yaml.YAMLError:
                if isinstance(loader, yaml.SafeLoader):
                    raise
                loader.dispose()
                loader = yaml.SafeLoader(text)
                root = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark is not None else None
            problems.add(line, f"not valid YAML: {error.problem or error.context}")
            return None, problems.items
        except yaml.YAMLError as error:
            problems.add(None, f"not valid YAML: {error}")
            return None, problems.items
        if root is None:
            problems.add(1, "the file is empty")
            return None, problems.items
        script = _read_script(_Reader(loader, problems), root, path, language, expected_id)
    finally:
        loader.dispose()
    if script is not None:
        for problem in check_script(script):
            problems.items.append(problem)
    return script, problems.items


def _read_script(
    reader: _Reader,
    root: yaml.Node,
    path: str,
    language: str | None,
    expected_id: str | None,
) -> Script | None:
    problems = reader.problems
    top = reader.mapping(root, "the script")
    if not top:
        return None
    reader.unknown_keys(top, _TOP_KEYS, "the script")
    for required in ("id", "language", "title", "start", "steps"):
        if required not in top:
            problems.add(root, f"the script has no '{required}'")
    script_id = reader.text(top["id"][1], "'id'") if "id" in top else None
    if script_id is not None:
        if not _ID.match(script_id):
            problems.add(top["id"][1], f"id '{script_id}' must be lower case letters, digits, _")
        if expected_id is not None and script_id != expected_id:
            problems.add(
                top["id"][1], f"id '{script_id}' does not match the file name '{expected_id}.yaml'"
            )
    script_language = reader.text(top["language"][1], "'language'") if "language" in top else None
    if script_language is not None:
        if script_language not in LANGUAGES:
            problems.add(
                top["language"][1],
                f"language '{script_language}' is not one of {', '.join(LANGUAGES)}",
            )
        elif language is not None and script_language != language:
            problems.add(
                top["language"][1],
                f"language '{script_language}' does not match the folder '{language}'",
            )
    title = reader.text(top["title"][1], "'title'") if "title" in top else None
    description = ""
    if "description" in top:
        description = reader.text(top["description"][1], "'description'") or ""
    start = reader.text(top["start"][1], "'start'") if "start" in top else None
    steps: dict[str, Step] = {}
    if "steps" in top:
        steps_node = top["steps"][1]
        entries = reader.mapping(steps_node, "'steps'")
        if not entries and isinstance(steps_node, yaml.MappingNode):
            problems.add(steps_node, "'steps' is empty")
        for step_id, (key_node, value_node) in entries.items():
            if not _ID.match(step_id):
                problems.add(key_node, f"step id '{step_id}' must be lower case letters, digits, _")
            steps[step_id] = _read_step(reader, step_id, key_node, value_node)
    if start is not None and steps and start not in steps:
        problems.add(top["start"][1], f"'start' names a step '{start}' that does not exist")
    if None in (script_id, script_language, title, start) or not steps or start not in steps:
        return None
    assert script_id is not None and script_language is not None
    assert title is not None and start is not None
    return Script(
        id=script_id,
        language=script_language,
        title=title,
        start=start,
        steps=steps,
        description=description,
        path=path,
    )


def _read_step(reader: _Reader, step_id: str, key_node: yaml.Node, node: yaml.Node) -> Step:
    problems = reader.problems
    what = f"step '{step_id}'"
    entries = reader.mapping(node, what)
    reader.unknown_keys(entries, _STEP_KEYS, what)
    say = (reader.text(entries["say"][1], f"'say' in {what}") or "") if "say" in entries else ""
    do = (reader.text(entries["do"][1], f"'do' in {what}") or "") if "do" in entries else ""
    for label, template, entry in (("say", say, "say"), ("do", do, "do")):
        if template:
            for message in _template_problems(template):
                problems.add(entries[entry][1], f"{message} in '{label}' of {what}")
    if not say and not do:
        problems.add(key_node, f"{what} has neither 'say' nor 'do'")
    choices: list[Choice] = []
    if "choices" in entries:
        choices_node = entries["choices"][1]
        if not isinstance(choices_node, yaml.SequenceNode) or not choices_node.value:
            problems.add(
                choices_node, f"'choices' in {what} must be a list with at least one choice"
            )
        else:
            seen: set[str] = set()
            for item in choices_node.value:
                choice = _read_choice(reader, item, what)
                if choice is None:
                    continue
                if choice.key in seen:
                    problems.add(item, f"key '{choice.key}' is used twice in {what}")
                seen.add(choice.key)
                choices.append(choice)
    next_step = None
    if "next" in entries:
        next_step = reader.text(entries["next"][1], f"'next' in {what}")
    record = _read_record(reader, entries["record"][1], what) if "record" in entries else {}
    ask: list[str] = []
    if "ask" in entries:
        ask_node = entries["ask"][1]
        if not isinstance(ask_node, yaml.SequenceNode):
            problems.add(ask_node, f"'ask' in {what} must be a list of field names")
        else:
            for item in ask_node.value:
                name = reader.value(item)
                kind = RECORD_FIELDS.get(name) if isinstance(name, str) else None
                if kind not in _ASK_KINDS:
                    typed = sorted(k for k, v in RECORD_FIELDS.items() if v in _ASK_KINDS)
                    problems.add(
                        item, f"'{name}' cannot be asked in {what} (known: {', '.join(typed)})"
                    )
                else:
                    ask.append(str(name))
    action = None
    if "action" in entries:
        action = reader.text(entries["action"][1], f"'action' in {what}")
        if action is not None and action not in ACTIONS:
            problems.add(
                entries["action"][1],
                f"unknown action '{action}' in {what} (known: {', '.join(sorted(ACTIONS))})",
            )
            action = None
    checks: tuple[str, ...] = ()
    checks_line = _line(key_node)
    if "checks" in entries:
        checks_line = _line(entries["checks"][1])
        checks = _read_checks(reader, entries["checks"][1], f"'checks' in {what}")
    alternative = None
    if "if_not_stored" in entries:
        alternative = _read_question(reader, entries["if_not_stored"][1], what)
        if "checks" not in entries:
            problems.add(
                entries["if_not_stored"][0],
                f"'if_not_stored' in {what} needs 'checks' on the step: "
                "it is said when one of them is not on file",
            )
    flags = {}
    for flag in ("identity_confirmed", "end"):
        flags[flag] = False
        if flag in entries:
            value = reader.value(entries[flag][1])
            if not isinstance(value, bool):
                problems.add(entries[flag][1], f"'{flag}' in {what} must be true or false")
            else:
                flags[flag] = value
    return Step(
        id=step_id,
        say=say,
        do=do,
        choices=tuple(choices),
        next=next_step,
        record=record,
        ask=tuple(ask),
        action=action,
        identity_confirmed=flags["identity_confirmed"],
        end=flags["end"],
        line=_line(key_node),
        checks=checks,
        if_not_stored=alternative,
        say_line=_line(entries["say"][1]) if "say" in entries else _line(key_node),
        checks_line=checks_line,
    )


def _read_checks(reader: _Reader, node: yaml.Node, what: str) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        reader.problems.add(node, f"{what} must be a list of identity checks")
        return ()
    found: list[str] = []
    for item in node.value:
        name = reader.value(item)
        if not isinstance(name, str) or name not in IDENTITY_CHECKS:
            known = ", ".join(IDENTITY_CHECKS)
            reader.problems.add(
                item,
                f"'{name}' in {what} is not something the desk can compare (known: {known})",
            )
        elif name in found:
            reader.problems.add(item, f"'{name}' appears twice in {what}")
        else:
            found.append(name)
    return tuple(found)


def _read_question(reader: _Reader, node: yaml.Node, what: str) -> IdentityQuestion | None:
    problems = reader.problems
    where = f"'if_not_stored' in {what}"
    entries = reader.mapping(node, where)
    if not entries:
        return None
    reader.unknown_keys(entries, _QUESTION_KEYS, where)
    say = reader.text(entries["say"][1], f"'say' in {where}") if "say" in entries else None
    do = (reader.text(entries["do"][1], f"'do' in {where}") or "") if "do" in entries else ""
    for template, entry in ((say, "say"), (do, "do")):
        if template:
            for message in _template_problems(template):
                problems.add(entries[entry][1], f"{message} in '{entry}' of {where}")
    if say is None:
        if "say" not in entries:
            problems.add(node, f"{where} has no 'say'")
        return None
    if "checks" not in entries:
        problems.add(node, f"{where} has no 'checks'")
        return None
    return IdentityQuestion(
        say=say,
        checks=_read_checks(reader, entries["checks"][1], f"'checks' of {where}"),
        do=do,
        line=_line(node),
        say_line=_line(entries["say"][1]),
    )


def _read_choice(reader: _Reader, node: yaml.Node, what: str) -> Choice | None:
    problems = reader.problems
    entries = reader.mapping(node, f"a choice in {what}")
    if not entries:
        return None
    reader.unknown_keys(entries, _CHOICE_KEYS, f"a choice in {what}")
    ok = True
    for required in ("key", "label", "goto"):
        if required not in entries:
            problems.add(node, f"a choice in {what} has no '{required}'")
            ok = False
    key = None
    if "key" in entries:
        raw_key = reader.value(entries["key"][1])
        key = (
            str(raw_key) if isinstance(raw_key, str | int) and not isinstance(raw_key, bool) else ""
        )
        if not _KEY.match(key):
            problems.add(
                entries["key"][1],
                f"choice key '{raw_key}' in {what} must be one digit or lower case letter",
            )
            ok = False
    label = (
        reader.text(entries["label"][1], f"a choice label in {what}")
        if "label" in entries
        else None
    )
    if label is not None:
        for message in _template_problems(label):
            problems.add(entries["label"][1], f"{message} in a choice label of {what}")
    goto = reader.text(entries["goto"][1], f"'goto' in {what}") if "goto" in entries else None
    record = _read_record(reader, entries["record"][1], what) if "record" in entries else {}
    if not ok or key is None or label is None or goto is None:
        return None
    return Choice(key=key, label=label, goto=goto, record=record, line=_line(node))


def _read_record(reader: _Reader, node: yaml.Node, what: str) -> dict[str, RecordValue]:
    problems = reader.problems
    result: dict[str, RecordValue] = {}
    for name, (key_node, value_node) in reader.mapping(node, f"'record' in {what}").items():
        kind = RECORD_FIELDS.get(name)
        if kind not in _SET_KINDS:
            settable = sorted(k for k, v in RECORD_FIELDS.items() if v in _SET_KINDS)
            problems.add(
                key_node,
                f"'{name}' cannot be recorded in {what} (known: {', '.join(settable)})",
            )
            continue
        value = reader.value(value_node)
        if kind is FieldKind.OUTCOME:
            if value not in OUTCOME_CODES:
                problems.add(
                    value_node,
                    f"unknown outcome '{value}' in {what} (known: {', '.join(OUTCOME_CODES)})",
                )
                continue
        elif not isinstance(value, bool):
            problems.add(value_node, f"'{name}' in {what} must be true or false")
            continue
        result[name] = value
    return result


# --------------------------------------------------------------------------- checking


def reachable_steps(script: Script, *, stop_at_identity: bool = False) -> list[str]:
    """Steps reachable from the start, in visiting order.

    With ``stop_at_identity`` the walk does not go past identity-confirmed steps: the
    result is what can be said before identity is confirmed (plus those steps).
    """
    seen = {script.start}
    order = [script.start]
    queue = deque([script.start])
    while queue:
        step = script.steps.get(queue.popleft())
        if step is None or (stop_at_identity and step.identity_confirmed):
            continue
        for target in step.targets():
            if target in script.steps and target not in seen:
                seen.add(target)
                order.append(target)
                queue.append(target)
    return order


def check_script(script: Script) -> list[ScriptProblem]:
    """The rules a readable script must keep; each problem on the line of its step."""
    problems = _Problems(script.path)
    steps = script.steps
    for step in steps.values():
        where = f"step '{step.id}'"
        for choice in step.choices:
            if choice.goto not in steps:
                problems.add(
                    choice.line,
                    f"a choice in {where} goes to '{choice.goto}', which does not exist",
                )
        if step.next is not None and step.next not in steps:
            problems.add(step.line, f"'next' in {where} names '{step.next}', which does not exist")
        if step.end and (step.choices or step.next is not None):
            problems.add(step.line, f"{where} is an end step but also has choices or 'next'")
        elif not step.end and not step.choices and step.next is None:
            problems.add(
                step.line, f"{where} is a dead end: give it choices, 'next', or 'end: true'"
            )
        elif step.choices and step.next is not None:
            problems.add(step.line, f"{where} has both choices and 'next'; keep one")

    reachable = reachable_steps(script)
    for step_id, step in steps.items():
        if step_id not in reachable:
            problems.add(step.line, f"step '{step_id}' cannot be reached from '{script.start}'")

    ends = {s for s in reachable if steps[s].end}
    leads_to_end = _steps_leading_to(script, ends)
    for step_id in reachable:
        if step_id not in leads_to_end and not steps[step_id].end:
            problems.add(
                steps[step_id].line, f"step '{step_id}' never leads to an end step (a loop?)"
            )

    identity_steps = [s for s in steps.values() if s.identity_confirmed]
    if not identity_steps:
        problems.add(
            1, "no step has 'identity_confirmed: true'; every script starts by confirming identity"
        )
    elif len(identity_steps) > 1:
        for extra in identity_steps[1:]:
            problems.add(extra.line, "only one step may have 'identity_confirmed: true'")
    if steps[script.start].identity_confirmed:
        problems.add(
            steps[script.start].line,
            "the start step cannot confirm identity; start by asking who you are speaking to",
        )
    if identity_steps:
        identity = identity_steps[0]
        if identity.id not in reachable:
            return problems.items  # reported above as unreachable
        before = [s for s in reachable_steps(script, stop_at_identity=True) if s != identity.id]
        _check_before_identity(script, before, problems)
        _check_identity_questions(script, before, problems)
    return problems.items


def _steps_leading_to(script: Script, ends: set[str]) -> set[str]:
    incoming: dict[str, set[str]] = {}
    for step in script.steps.values():
        for target in step.targets():
            incoming.setdefault(target, set()).add(step.id)
    found = set(ends)
    queue = deque(ends)
    while queue:
        for source in incoming.get(queue.popleft(), ()):
            if source not in found:
                found.add(source)
                queue.append(source)
    return found


def _check_before_identity(script: Script, before: list[str], problems: _Problems) -> None:
    words = DISCLOSURE_WORDS.get(script.language, ())
    has_polite_end = False
    for step_id in before:
        step = script.steps[step_id]
        where = f"step '{step_id}' comes before identity is confirmed"
        texts = [step.say, step.do, *(c.label for c in step.choices)]
        for name in sorted({n for t in texts for n in placeholders_in(t)}):
            if name in DISCLOSURE_PLACEHOLDERS:
                problems.add(step.line, f"{where} and may not use {{{name}}}")
        lowered = step.say.lower()
        for word in words:
            if re.search(rf"\b{re.escape(word)}", lowered):
                problems.add(step.line, f"{where} and may not say '{word}'")
        records = [step.record, *(c.record for c in step.choices)]
        for record in records:
            for name, value in record.items():
                if name not in PRE_IDENTITY_FIELDS:
                    problems.add(step.line, f"{where} and may not record '{name}'")
                elif name == "outcome" and value not in PRE_IDENTITY_OUTCOMES:
                    problems.add(step.line, f"{where} and may not record outcome '{value}'")
        for name in step.ask:
            if name not in PRE_IDENTITY_FIELDS:
                problems.add(step.line, f"{where} and may not ask for '{name}'")
        if step.action is not None:
            problems.add(step.line, f"{where} and may not offer '{step.action}'")
        has_polite_end = has_polite_end or step.end
    if not has_polite_end:
        problems.add(
            script.steps[script.start].line,
            "there is no end step for when identity cannot be confirmed; "
            "end politely without saying why you called",
        )


def _check_identity_questions(script: Script, before: list[str], problems: _Problems) -> None:
    """Ask only what the desk can compare, and list it under ``checks`` so the desk
    shows the agent what to compare with; a detail not every customer has on file
    needs ``if_not_stored`` with details every customer has."""
    language = script.language
    for step_id, step in script.steps.items():
        where = f"step '{step_id}'"
        if step_id not in before:
            if step.checks:
                problems.add(
                    step.checks_line,
                    f"{where} has 'checks' but is not before identity is confirmed; "
                    "identity questions come first",
                )
            continue
        questions = [(step.say, step.checks, step.say_line, where)]
        alternative = step.if_not_stored
        if alternative is not None:
            questions.append(
                (
                    alternative.say,
                    alternative.checks,
                    alternative.say_line,
                    f"'if_not_stored' of {where}",
                )
            )
        for say, checks, line, what in questions:
            for word in not_on_file_asked(say, language):
                problems.add(
                    line,
                    f"{what} asks for '{word}', which the desk does not hold: "
                    "the agent cannot compare the answer",
                )
            asked = checks_asked(say, language)
            unlisted = [name for name in asked if name not in checks]
            if unlisted:
                problems.add(
                    line,
                    f"{what} asks for the {_listing(unlisted)} but does not list "
                    f"{_listing(unlisted, quoted=True)} under 'checks', so the desk shows "
                    "nothing to compare the answer with",
                )
            unasked = [name for name in checks if name not in asked]
            if unasked:
                problems.add(
                    line,
                    f"{what} lists {_listing(unasked, quoted=True)} under 'checks' but its "
                    f"'say' does not ask for the {_listing(unasked)}",
                )
        optional = [c for c in step.checks if not IDENTITY_CHECKS[c].always_on_file]
        if optional and alternative is None:
            problems.add(
                step.checks_line,
                f"{where} asks for the {_words(optional[0])}, which not every customer has "
                "on file; add 'if_not_stored' with checks every customer has",
            )
        if alternative is not None:
            if not optional:
                problems.add(
                    alternative.line,
                    f"'if_not_stored' of {where} is never said: every check in 'checks' is "
                    "always on file",
                )
            for name in alternative.checks:
                if not IDENTITY_CHECKS[name].always_on_file:
                    problems.add(
                        alternative.line,
                        f"'if_not_stored' of {where} asks for the {_words(name)}, which not "
                        "every customer has on file either",
                    )


def _words(check: str) -> str:
    return check.replace("_", " ")


def _listing(checks: list[str], *, quoted: bool = False) -> str:
    """``date of birth, postcode and house number`` (or the names quoted)."""
    names = [f"'{c}'" if quoted else _words(c) for c in checks]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --------------------------------------------------------------------------- loader (files)


def load_script_file(
    path: Path, *, language: str | None = None
) -> tuple[Script | None, list[ScriptProblem]]:
    """Read and check one script file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [ScriptProblem(str(path), None, "the file is not UTF-8 text")]
    except OSError as error:
        return None, [ScriptProblem(str(path), None, f"cannot read the file: {error.strerror}")]
    return parse_script(text, path=str(path), language=language, expected_id=path.stem)


def check_directory(directory: Path) -> tuple[ScriptLibrary, list[ScriptProblem]]:
    """Read every ``<lang>/<id>.yaml`` under ``directory`` and check the whole set.

    Besides each file's own rules: both languages exist, they hold the same script
    ids, and every script the chooser needs is there (:func:`check_texts`).
    """
    problems: list[ScriptProblem] = []
    texts: dict[str, dict[str, tuple[str, str]]] = {}
    for language in LANGUAGES:
        folder = directory / language
        if not folder.is_dir():
            continue
        by_id = texts.setdefault(language, {})
        for odd in sorted(folder.iterdir()):
            if odd.suffix in (".yml", ".toml", ".json"):
                problems.append(ScriptProblem(str(odd), None, "script files must end in .yaml"))
        for path in sorted(folder.glob("*.yaml")):
            try:
                by_id[path.stem] = (str(path), path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                problems.append(ScriptProblem(str(path), None, "the file is not UTF-8 text"))
            except OSError as error:
                problems.append(
                    ScriptProblem(str(path), None, f"cannot read the file: {error.strerror}")
                )
    library, found = check_texts(texts, root=str(directory))
    return library, problems + found


def check_texts(
    texts: Mapping[str, Mapping[str, tuple[str, str]]], *, root: str
) -> tuple[ScriptLibrary, list[ScriptProblem]]:
    """Check a whole script set given as ``{language: {id: (where, text)}}``: each
    script's own rules, both languages, the same ids, the required scripts. The one
    checker for the shipped files and for a team's scripts in the database."""
    problems: list[ScriptProblem] = []
    scripts: list[Script] = []
    for language in LANGUAGES:
        if language not in texts:
            problems.append(
                ScriptProblem(
                    f"{root}/{language}", None, f"the '{language}' scripts folder is missing"
                )
            )
            continue
        for script_id, (where, text) in sorted(texts[language].items()):
            script, found = parse_script(text, path=where, language=language, expected_id=script_id)
            problems.extend(found)
            if script is not None:
                scripts.append(script)
    present = [lang for lang in LANGUAGES if lang in texts]
    for language in present:
        for other in present:
            if other == language:
                continue
            for script_id, (where, _text) in sorted(texts[language].items()):
                if script_id not in texts[other]:
                    problems.append(
                        ScriptProblem(
                            where, 1, f"there is no '{other}' version of script '{script_id}'"
                        )
                    )
        for script_id in REQUIRED_SCRIPT_IDS:
            if script_id not in texts[language]:
                problems.append(
                    ScriptProblem(
                        f"{root}/{language}",
                        None,
                        f"the required script '{script_id}' is missing",
                    )
                )
    return ScriptLibrary(scripts), problems


def load_library(directory: Path) -> ScriptLibrary:
    """Load a whole script set; raises :class:`ScriptFormatError` if anything is wrong."""
    library, problems = check_directory(directory)
    if problems:
        raise ScriptFormatError(problems)
    return library
