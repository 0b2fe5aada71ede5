"""Agents and supervisors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.domain.codes import Role
from agent_desk.errors import ValidationError
from agent_desk.i18n import N_
from agent_desk.models import Agent, Customer
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.queue import eligible_conditions


@dataclass(frozen=True)
class AgentSummary:
    id: int
    login: str
    display_name: str
    role: str
    active: bool
    queue_size: int
    assigned: int


def list_agents(session: Session, now: datetime) -> list[AgentSummary]:
    queue_sizes = dict(
        session.execute(
            select(Customer.assigned_agent_id, func.count())
            .where(*eligible_conditions(now, None))
            .group_by(Customer.assigned_agent_id)
        ).all()
    )
    assigned = dict(
        session.execute(
            select(Customer.assigned_agent_id, func.count())
            .where(Customer.status == "open")
            .group_by(Customer.assigned_agent_id)
        ).all()
    )
    agents = session.scalars(select(Agent).order_by(Agent.role.desc(), Agent.display_name)).all()
    return [
        AgentSummary(
            a.id,
            a.login,
            a.display_name,
            a.role,
            a.active,
            int(queue_sizes.get(a.id, 0)),
            int(assigned.get(a.id, 0)),
        )
        for a in agents
    ]


def add_agent(session: Session, actor: Actor, login: str, display_name: str, role: Role) -> int:
    actor.require_supervisor(N_("add agents"))
    login = login.strip().lower()
    if not login or not login.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise ValidationError(
            "A login is letters and digits (and . - _), e.g. sanne.devries.", "login"
        )
    if not display_name.strip():
        raise ValidationError("Give the agent's name as colleagues know it.", "display_name")
    if session.scalar(select(Agent.id).where(Agent.login == login)) is not None:
        raise ValidationError(
            "There is already an agent with login '{login}'.", "login", login=login
        )
    agent = Agent(login=login, display_name=display_name.strip(), role=role.value, active=True)
    session.add(agent)
    session.flush()
    audit(session, actor, "create", "agent", agent.id, detail=login)
    return agent.id
