"""Reading one script's YAML text into a :class:`Script`, with a line for every
problem; a readable script is then checked (:func:`check_script`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from agent_desk.domain.scripts.checker import check_script
from agent_desk.domain.scripts.model import (
    Choice,
    IdentityQuestion,
    Problems,
    Script,
    ScriptProblem,
    Step,
)
from agent_desk.domain.scripts.render import template_problems
from agent_desk.domain.scripts.vocabulary import (
    ACTIONS,
    ASK_KINDS,
    IDENTITY_CHECKS,
    LANGUAGES,
    OUTCOME_CODES,
    RECORD_FIELDS,
    SET_KINDS,
    FieldKind,
    RecordValue,
)

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


class _NodeProblems(Problems):
    """Problems placed on the line of the YAML node they are about."""

    def add(self, node: yaml.Node | int | None, message: str) -> None:
        line = node if isinstance(node, int) or node is None else node.start_mark.line + 1
        super().add(line, message)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Reader:
    """Reads a composed YAML tree, keeping a line for every value it reports on."""

    def __init__(self, loader: yaml.SafeLoader | yaml.CSafeLoader, problems: _NodeProblems) -> None:
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
    problems = _NodeProblems(path)
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
            for message in template_problems(template):
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
                if kind not in ASK_KINDS:
                    typed = sorted(k for k, v in RECORD_FIELDS.items() if v in ASK_KINDS)
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
            for message in template_problems(template):
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
        for message in template_problems(label):
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
        if kind not in SET_KINDS:
            settable = sorted(k for k, v in RECORD_FIELDS.items() if v in SET_KINDS)
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
