"""Who is doing something: ``Actor`` (a plain value, in ``domain.actor``) looked up by login."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain.actor import SYSTEM, Actor
from agent_desk.domain.codes import Role
from agent_desk.errors import NotFoundError
from agent_desk.models import Agent

__all__ = ["SYSTEM", "Actor", "actor_for_login"]


def actor_for_login(session: Session, login: str) -> Actor:
    agent = session.scalar(select(Agent).where(Agent.login == login))
    if agent is None:
        raise NotFoundError(
            "There is no agent with login '{login}'; see 'agent-desk agents'.", login=login
        )
    if not agent.active:
        raise NotFoundError("Agent '{login}' is no longer active.", login=login)
    return Actor(agent.id, agent.login, agent.display_name, Role(agent.role))
