"""A step's texts filled in for one customer: the placeholders and the identity
question that fits what the desk has on file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from babel.dates import format_date

from agent_desk.domain.money import Cents, format_money
from agent_desk.domain.scripts.model import Step
from agent_desk.domain.scripts.vocabulary import IDENTITY_CHECKS, PLACEHOLDERS
from agent_desk.errors import ValidationError

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


def template_problems(template: str) -> list[str]:
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
