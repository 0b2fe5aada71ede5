"""One walk through a script: moving between steps, what the agent typed, and the
outcome the walk recorded for the contact attempt."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from agent_desk.domain.money import Cents, parse_amount
from agent_desk.domain.scripts.model import Script, Step
from agent_desk.domain.scripts.render import RenderedStep, ScriptContext, render_step
from agent_desk.domain.scripts.vocabulary import RECORD_FIELDS, FieldKind, RecordValue
from agent_desk.errors import NotFoundError, ValidationError


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
