"""Who is doing something: passed to every service, never looked up globally."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain.codes import Role
from agent_desk.errors import NotFoundError, PermissionDeniedError, Phrase
from agent_desk.models import Agent


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


def actor_for_login(session: Session, login: str) -> Actor:
    agent = session.scalar(select(Agent).where(Agent.login == login))
    if agent is None:
        raise NotFoundError(
            "There is no agent with login '{login}'; see 'agent-desk agents'.", login=login
        )
    if not agent.active:
        raise NotFoundError("Agent '{login}' is no longer active.", login=login)
    return Actor(agent.id, agent.login, agent.display_name, Role(agent.role))
