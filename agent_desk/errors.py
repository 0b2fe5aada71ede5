"""Errors that carry one plain sentence for the user.

Everything the CLI or the UI shows to a person is raised as one of these; any other
exception is a bug and goes to the crash report.

A message with values is written as an English template plus keyword values, e.g.
``ValidationError("The note is too long ({length} characters; at most {most}).",
"note", length=n, most=4000)``: ``str(error)`` is the filled-in English sentence (for
the CLI and logs), while ``error.template`` and ``error.values`` let the desk translate
the template first and fill in the values afterwards (``agent_desk.i18n.error_text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template.format(**values)``; the template itself if it does not fit the values.

    A template without values is never formatted, so literal braces in it are safe.
    """
    if not values:
        return template
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return template


class Phrase(str):
    """A value that is itself an English message id (``Phrase("add users")``).

    It reads as plain English in ``str(error)``; the desk translates it before filling
    it into the translated template. Mark the literal with ``N_`` where it is written
    so the translation check finds it.
    """

    __slots__ = ()


class AgentDeskError(Exception):
    """Base: ``str(error)`` is a complete sentence a user can act on.

    ``template`` is the English message as written (with ``{placeholders}`` when
    ``values`` is not empty); ``str(error)`` is the template with the values filled in.
    """

    template: str
    values: dict[str, Any]

    def __init__(self, message: str = "", /, **values: Any) -> None:
        self.template = message
        self.values = dict(values)
        super().__init__(fill(message, self.values))


class UsageError(AgentDeskError):
    """The user asked for something invalid (bad option, bad value). CLI exit 2."""


class ValidationError(AgentDeskError):
    """Input that breaks a rule; ``field`` names the input so a UI can show it beside it.

    Values for the template follow as keywords: ``ValidationError(template, field,
    **values)`` (so ``field`` itself cannot be a placeholder name).
    """

    def __init__(self, message: str = "", /, field: str | None = None, **values: Any) -> None:
        super().__init__(message, **values)
        self.field = field


class NotFoundError(AgentDeskError):
    """A customer, agent or record that does not exist."""


class ConflictError(AgentDeskError):
    """Someone else changed the same record first; nothing was overwritten."""


class DatabaseUnavailableError(AgentDeskError):
    """The database cannot be reached or opened."""


class PermissionDeniedError(AgentDeskError):
    """The signed-in person's role does not allow this."""
