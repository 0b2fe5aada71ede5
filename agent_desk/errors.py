"""Errors that carry one plain sentence for the user.

Everything the CLI or the UI shows to a person is raised as one of these; any other
exception is a bug and goes to the crash report.
"""

from __future__ import annotations


class AgentDeskError(Exception):
    """Base: ``str(error)`` is a complete sentence a user can act on."""


class UsageError(AgentDeskError):
    """The user asked for something invalid (bad option, bad value). CLI exit 2."""


class ValidationError(AgentDeskError):
    """Input that breaks a rule; ``field`` names the input so a UI can show it beside it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(AgentDeskError):
    """A customer, agent or record that does not exist."""


class ConflictError(AgentDeskError):
    """Someone else changed the same record first; nothing was overwritten."""


class DatabaseUnavailableError(AgentDeskError):
    """The database cannot be reached or opened."""


class PermissionDeniedError(AgentDeskError):
    """The signed-in person's role does not allow this."""
