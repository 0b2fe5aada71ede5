"""The team's rules as documents: what they are and the one checker each passes.

A team keeps its arrangement policy, its 14-day-letter conventions, its statutory
interest table and its call scripts as *documents*: the same TOML or YAML text as the
shipped files in ``resources/``, which stay the defaults and the examples. Every
version a supervisor saves is checked here by the same code that guards the shipped
files (``policy.parse_policy``, ``ledger.books_policy_from_mapping``,
``interest.parse_rate_table``, ``scripts.parse_script`` and the library check); a
document with a problem is refused with the line and the reason, nothing is saved.

Pure: no database, no files (the shipped texts are passed in).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from agent_desk.domain import fees as fee_rules
from agent_desk.domain import interest as interest_rules
from agent_desk.domain import ledger as books_rules
from agent_desk.domain import policy as policy_rules
from agent_desk.domain import scripts as script_rules
from agent_desk.errors import AgentDeskError, ValidationError

#: Document kinds. ``letter`` documents (one text of one letter in one language) are
#: checked by ``agent_desk.letters.templates`` (the domain does not know letters).
POLICY: Final = "policy"
RATES: Final = "rates"
SCRIPT: Final = "script"
LETTER: Final = "letter"
KINDS: Final = (POLICY, RATES, SCRIPT, LETTER)

#: Policy documents: the key is the shipped file's stem in ``resources/policy``.
ARRANGEMENTS: Final = "arrangements"
BOOKS: Final = "books"
POLICY_KEYS: Final = (ARRANGEMENTS, BOOKS)
#: The rates documents: the key is the shipped file's stem in ``resources/rates``.
STATUTORY: Final = "statutory_interest_consumer"
BIK: Final = "bik"
RATE_KEYS: Final = (STATUTORY, BIK)


@dataclass(frozen=True)
class RuleProblem:
    """One thing wrong in a document: ``where:line: message``."""

    where: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.where}: {self.message}"
        return f"{self.where}:{self.line}: {self.message}"


class RuleRefused(AgentDeskError):
    """A team document that does not pass its checker; nothing was saved."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        first = problems[0]
        super().__init__(
            "Refused, nothing was saved: {where}, line {line}: {reason}",
            where=first.where,
            line=first.line if first.line is not None else "-",
            reason=first.message,
        )
        self.problems = problems


def script_key(language: str, script_id: str) -> str:
    return f"{language}/{script_id}"


def split_script_key(key: str) -> tuple[str, str]:
    language, _, script_id = key.partition("/")
    return language, script_id


def line_of(text: str, name: str) -> int | None:
    """The line where the TOML key ``name`` is set, if it is."""
    pattern = re.compile(rf"^\s*{re.escape(name)}\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


_TOML_LINE = re.compile(r"line (\d+)")


def _toml(text: str, where: str) -> tuple[dict[str, Any] | None, list[RuleProblem]]:
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as error:
        found = _TOML_LINE.search(str(error))
        line = int(found.group(1)) if found else None
        return None, [RuleProblem(where, line, f"not valid TOML: {error}")]


def _refusal(error: ValidationError, text: str, where: str) -> RuleProblem:
    line = line_of(text, error.field) if error.field else None
    return RuleProblem(where, line, str(error))


def check_policy(key: str, text: str) -> list[RuleProblem]:
    """The checker of ``resources/policy/<key>.toml``, on a team's version."""
    where = f"policy/{key}.toml"
    if key not in POLICY_KEYS:
        return [RuleProblem(where, None, f"there is no policy document '{key}'")]
    data, problems = _toml(text, where)
    if data is None:
        return problems
    try:
        if key == ARRANGEMENTS:
            policy_rules.policy_from_mapping(data)
        else:
            unknown = sorted(data.keys() - books_rules.BooksPolicy.__dataclass_fields__.keys())
            if unknown:
                return [
                    RuleProblem(where, line_of(text, unknown[0]), f"unknown setting '{unknown[0]}'")
                ]
            books_rules.books_policy_from_mapping(data)
    except ValidationError as error:
        return [_refusal(error, text, where)]
    return []


def check_rates(text: str, key: str = STATUTORY) -> list[RuleProblem]:
    """The checker of ``resources/rates/<key>.toml`` (statutory interest or the BIK scale)."""
    where = f"rates/{key}.toml"
    data, problems = _toml(text, where)
    if data is None:
        return problems
    try:
        if key == BIK:
            fee_rules.parse_fee_table(text)
        else:
            interest_rules.parse_rate_table(text)
    except ValidationError as error:
        return [_refusal(error, text, where)]
    return []


def check_script(key: str, text: str) -> list[RuleProblem]:
    """One script's own checks (the checker of ``agent-desk scripts check``)."""
    language, script_id = split_script_key(key)
    where = f"scripts/{key}.yaml"
    if language not in script_rules.LANGUAGES or not script_id:
        return [RuleProblem(where, None, "a script key is <language>/<id>, e.g. nl/pause_request")]
    _script, found = script_rules.parse_script(
        text, path=where, language=language, expected_id=script_id
    )
    return [RuleProblem(where, p.line, p.message) for p in found]


def check_script_set(texts: Mapping[str, str]) -> list[RuleProblem]:
    """The whole set's checks (both languages, the same ids, the required scripts)."""
    by_language: dict[str, dict[str, tuple[str, str]]] = {}
    for key, body in texts.items():
        language, script_id = split_script_key(key)
        by_language.setdefault(language, {})[script_id] = (f"scripts/{key}.yaml", body)
    _library, problems = script_rules.check_texts(by_language, root="scripts")
    return [RuleProblem(p.path, p.line, p.message) for p in problems]


def check(kind: str, key: str, text: str) -> list[RuleProblem]:
    """The checker for a policy, rates or script document."""
    if kind == POLICY:
        return check_policy(key, text)
    if kind == RATES:
        if key not in RATE_KEYS:
            return [RuleProblem(f"rates/{key}", None, f"there is no rate table '{key}'")]
        return check_rates(text, key)
    if kind == SCRIPT:
        return check_script(key, text)
    return [RuleProblem(f"{kind}/{key}", None, f"unknown kind of team rule '{kind}'")]


def require_valid(problems: list[RuleProblem]) -> None:
    if problems:
        raise RuleRefused(problems)


# ------------------------------------------------------------------ one policy value


def toml_value(current: object, text: str, name: str) -> str:
    """A value typed on the command line, as TOML of the type the setting has."""
    value = text.strip()
    if isinstance(current, bool):
        lowered = value.lower()
        if lowered in ("true", "yes", "ja", "1"):
            return "true"
        if lowered in ("false", "no", "nee", "0"):
            return "false"
        raise ValidationError("The policy setting '{name}' must be true or false.", name, name=name)
    if isinstance(current, int):
        if not re.fullmatch(r"-?\d+", value):
            raise ValidationError(
                "The policy setting '{name}' must be a whole number.", name, name=name
            )
        return str(int(value))
    if '"' in value or "\\" in value or "\n" in value:
        raise ValidationError(
            "The policy setting '{name}' cannot hold quotes or backslashes.", name, name=name
        )
    return f'"{value}"'


def set_toml_value(text: str, name: str, literal: str) -> str:
    """``text`` with the top-level ``name = …`` line set to ``literal``; comments stay."""
    number = line_of(text, name)
    if number is None:
        raise ValidationError("The policy has no setting '{name}'.", name, name=name)
    lines = text.splitlines(keepends=True)
    old = lines[number - 1]
    ending = "\n" if old.endswith("\n") else ""
    lines[number - 1] = f"{name} = {literal}{ending}"
    return "".join(lines)


def policy_values(texts: Mapping[str, str]) -> dict[str, Any]:
    """Every policy setting by name, from the policy documents (already checked)."""
    values: dict[str, Any] = {}
    for key in POLICY_KEYS:
        values.update(tomllib.loads(texts[key]))
    return values


def document_of_setting(texts: Mapping[str, str], name: str) -> str:
    for key in POLICY_KEYS:
        if name in tomllib.loads(texts[key]):
            return key
    raise ValidationError(
        "There is no policy setting '{name}'; see 'agent-desk policy show'.", name, name=name
    )
