"""The rules a readable script must keep: a graph that reaches an end, identity
before disclosure, and asking only what the desk can compare."""

from __future__ import annotations

import re
from collections import deque

from agent_desk.domain.scripts.model import Problems, Script, ScriptProblem
from agent_desk.domain.scripts.render import placeholders_in
from agent_desk.domain.scripts.vocabulary import (
    DISCLOSURE_PLACEHOLDERS,
    DISCLOSURE_WORDS,
    IDENTITY_CHECKS,
    PRE_IDENTITY_FIELDS,
    PRE_IDENTITY_OUTCOMES,
    checks_asked,
    not_on_file_asked,
)


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
    problems = Problems(script.path)
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


def _check_before_identity(script: Script, before: list[str], problems: Problems) -> None:
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


def _check_identity_questions(script: Script, before: list[str], problems: Problems) -> None:
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
