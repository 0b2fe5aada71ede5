"""The script format as immutable objects: a script, its steps and choices, and the
problems found in a script file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agent_desk.domain.scripts.vocabulary import RecordValue
from agent_desk.errors import AgentDeskError, ValidationError


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


class Problems:
    """The problems found in one file, in the order they were found."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[ScriptProblem] = []

    def add(self, line: int | None, message: str) -> None:
        self.items.append(ScriptProblem(self.path, line, message))
