"""Who is doing something: passed to every service, never looked up globally.

A plain value (no SQLAlchemy), so the desk's window can be built with it before the
database libraries are loaded; ``services.actor`` looks it up and re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_desk.domain.codes import Role
from agent_desk.errors import PermissionDeniedError, Phrase


@dataclass(frozen=True)
class Actor:
    agent_id: int | None
    login: str
    display_name: str
    role: Role

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    def require_supervisor(self, what: str) -> None:
        if not self.is_supervisor:
            raise PermissionDeniedError("Only a supervisor can {what}.", what=Phrase(what))


SYSTEM = Actor(agent_id=None, login="system", display_name="Agent Desk", role=Role.SUPERVISOR)
